/**
 * Decision benchmark for canary rollouts (a simulation, not a timed test): how often each judge
 * rolls back a healthy candidate, pauses for a person, or lets a worse one through, under the
 * default rollout (steps 5/25/50/100 %, 30 s pauses, a look every 10 s) at 20, 50 and 200
 * requests/s, error rates 0.5 % and 2 %, label coverage 100/20/5 %, lognormal latency.
 *
 *   npx tsx bench/decisions/canary.ts [--seeds 200] [--kayenta-seeds 30] [--part identical|worse] [--quick]
 *
 * Prints markdown tables (docs/benchmarks.md keeps the last run). Seeds are fixed: a rerun
 * prints the same figures.
 */
import { simulateRollout, type JudgeName, type RolloutOutcome, type Scenario, type VersionModel } from './canary-sim';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const quick = args.includes('--quick');
const seeds = flag('--seeds', quick ? 60 : 200);
const kayentaSeeds = flag('--kayenta-seeds', quick ? 10 : 30);
const partIndex = args.indexOf('--part');
const part = partIndex >= 0 ? args[partIndex + 1] : 'all';
const judges: JudgeName[] = ['sequential', 'fixed-horizon', 'kayenta'];
const rates = [20, 50, 200];

const base = (errorRate: number): VersionModel => ({ errorRate, accuracy: 0.9, medianMs: 20, sigma: 0.5 });
/** Same median, p95 × 1.5: a wider log-spread (z95 = 1.645). */
const slowerTail = (m: VersionModel): VersionModel => ({ ...m, sigma: m.sigma + Math.log(1.5) / 1.645 });

function run(judge: JudgeName, sc: Scenario): RolloutOutcome[] {
  const n = judge === 'kayenta' ? kayentaSeeds : seeds;
  return Array.from({ length: n }, (_, s) => simulateRollout(judge, sc, 1000 + s));
}

const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)}%`;
const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};
const p90 = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(0.9 * (s.length - 1))]!;
};
const fmt = (x: number) => (Number.isNaN(x) ? '–' : String(Math.round(x)));

const started = Date.now();
console.log(`# Canary decisions: ${seeds} rollouts per cell (kayenta ${kayentaSeeds}), default steps 5:30s,25:30s,50:30s,100, look every 10 s\n`);

if (part === 'all' || part === 'identical') identical();
if (part === 'all' || part === 'worse') worseCandidates();

function identical() {
console.log('## Identical versions (accuracy 0.90, latency lognormal median 20 ms σ 0.5)\n');
console.log('| req/s | errors | labels | judge | false rollback | paused for a person | promoted | time to 100 % median / p90 (s) |');
console.log('|---:|---:|---:|---|---:|---:|---:|---:|');
for (const rate of rates) {
  for (const errorRate of [0.005, 0.02]) {
    for (const coverage of [1, 0.2, 0.05]) {
      for (const judge of judges) {
        const sc: Scenario = { name: 'identical', stable: base(errorRate), candidate: base(errorRate), rate, coverage };
        const r = run(judge, sc);
        const promoted = r.filter((x) => x.outcome === 'promoted');
        const times = promoted.map((x) => x.seconds);
        console.log(
          `| ${rate} | ${errorRate * 100}% | ${coverage * 100}% | ${judge} | ${pct(r.filter((x) => x.outcome === 'rolled-back').length, r.length)} | ${pct(r.filter((x) => x.outcome === 'paused').length, r.length)} | ${pct(promoted.length, r.length)} | ${fmt(median(times))} / ${fmt(p90(times))} |`,
        );
      }
    }
  }
}

}

function worseCandidates() {
console.log('\n## Worse candidates (label coverage 100 %)\n');
console.log('| req/s | candidate | judge | rolled back | promoted | paused | detection median (s) | weight at detection (median %) | exposure before rollback (mean requests, rolled-back runs) | exposure in the first hour (mean requests, all runs) |');
console.log('|---:|---|---|---:|---:|---:|---:|---:|---:|---:|');
const worse: Array<{ name: string; stable: VersionModel; candidate: VersionModel }> = [
  { name: 'errors ×1.5 (1 % → 1.5 %)', stable: base(0.01), candidate: base(0.015) },
  { name: 'errors ×2 (0.5 % → 1 %)', stable: base(0.005), candidate: base(0.01) },
  { name: 'errors ×2 (2 % → 4 %)', stable: base(0.02), candidate: base(0.04) },
  { name: 'accuracy 0.90 → 0.85', stable: base(0.01), candidate: { ...base(0.01), accuracy: 0.85 } },
  { name: 'p95 +50 %, same median', stable: base(0.01), candidate: slowerTail(base(0.01)) },
  { name: 'median +50 %', stable: base(0.01), candidate: { ...base(0.01), medianMs: 30 } },
];
for (const rate of rates) {
  for (const w of worse) {
    for (const judge of judges) {
      const r = run(judge, { ...w, rate, coverage: 1 });
      const detected = r.filter((x) => x.outcome === 'rolled-back');
      const exposure = detected.length ? detected.reduce((s, x) => s + x.exposure, 0) / detected.length : NaN;
      const hour = r.reduce((s, x) => s + x.hourExposure, 0) / r.length;
      console.log(
        `| ${rate} | ${w.name} | ${judge} | ${pct(detected.length, r.length)} | ${pct(r.filter((x) => x.outcome === 'promoted').length, r.length)} | ${pct(r.filter((x) => x.outcome === 'paused').length, r.length)} | ${fmt(median(detected.map((x) => x.seconds)))} | ${fmt(median(detected.map((x) => x.weight)))} | ${fmt(exposure)} | ${fmt(hour)} |`,
      );
    }
  }
}
}
console.log(`\n(${((Date.now() - started) / 1000).toFixed(0)} s)`);
