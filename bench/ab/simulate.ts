/**
 * Continuous monitoring of A/B tests, simulated: how often each procedure declares a difference
 * that is not there (A/A), and how much data it needs to find one that is (A/B).
 *
 * Binary metric, `batch` new users per arm per look, up to `batches` looks. Compared on the same
 * simulated data: Flywheel's mSPRT (lib/stats/always-valid) against the fixed-horizon
 * two-proportion z-test, used properly (once, at the end) and improperly (re-checked at looks).
 * With a true effect, the mSPRT's power and average sample size to decision are set against the
 * fixed-horizon test of the same power, whose n comes from the usual power formula (and whose
 * power is then checked by simulation too).
 *
 *   npx tsx bench/ab/simulate.ts [--experiments 2000] [--p 0.1] [--lift 0.2] [--batch 100]
 *                                [--batches 50] [--alpha 0.05] [--seed 1]
 *
 * Deterministic for given flags (seeded PRNG). Not a test; results go into docs/benchmarks-ab.md.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createRng, deriveSeed } from '../../lib/random';
import { createMsprt, msprtCriticalZ, msprtTau2ForVariance, normalCdf, normalIsf, proportionSummary, twoProportionZTest } from '../../lib/stats/index';

const { values } = parseArgs({
  options: {
    experiments: { type: 'string', default: '2000' },
    p: { type: 'string', default: '0.1' },
    lift: { type: 'string', default: '0.2' },
    batch: { type: 'string', default: '100' },
    batches: { type: 'string', default: '50' },
    alpha: { type: 'string', default: '0.05' },
    seed: { type: 'string', default: '1' },
  },
});
const experiments = Number(values.experiments);
const p0 = Number(values.p);
const lift = Number(values.lift);
const batch = Number(values.batch);
const batches = Number(values.batches);
const alpha = Number(values.alpha);
const seed = Number(values.seed);
const p1 = p0 * (1 + lift);
const maxN = batch * batches;
const zCrit = normalIsf(alpha / 2);

// τ² is fixed before any data: chosen so the boundary is tightest when each arm has n users,
// using the baseline rate only (what a planner knows). The first is the headline setting.
const TUNED_AT = [maxN, Math.round(maxN / 4), Math.round(maxN / 16)];
const tau2s = TUNED_AT.map((n) => msprtTau2ForVariance((2 * p0 * (1 - p0)) / n, alpha));
// Naive peeking schedules: every k-th look.
const PEEK_SCHEDULES = [batches, 10, 5].filter((k, i, a) => k <= batches && a.indexOf(k) === i);

function binomial(rng: ReturnType<typeof createRng>, n: number, p: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) if (rng.next() < p) s++;
  return s;
}

interface Outcome {
  /** Per τ²: the look (1-based) at which the mSPRT rejected, or 0. */
  msprtStop: number[];
  /** Per peeking schedule: whether the naive z-test ever rejected at one of its looks. */
  naiveEver: boolean[];
  /** The z-test once, at the last look. */
  fixedAtEnd: boolean;
}

/** One experiment: treatment at pTreatment, control at p0; both monitored after every batch. */
function runExperiment(stream: number, pTreatment: number): Outcome {
  const rng = createRng(deriveSeed(seed, stream));
  const monitors = tau2s.map((tau2) => createMsprt({ tau2, alpha }));
  const msprtStop = tau2s.map(() => 0);
  const naiveEver = PEEK_SCHEDULES.map(() => false);
  let successesT = 0;
  let successesC = 0;
  let fixedAtEnd = false;
  for (let look = 1; look <= batches; look++) {
    successesT += binomial(rng, batch, pTreatment);
    successesC += binomial(rng, batch, p0);
    const n = look * batch;
    const t = proportionSummary(successesT, n);
    const c = proportionSummary(successesC, n);
    monitors.forEach((m, i) => {
      if (msprtStop[i] === 0 && m.update(t, c).reject) msprtStop[i] = look;
    });
    const z = twoProportionZTest(successesT, n, successesC, n);
    const significant = z.pValue < alpha;
    PEEK_SCHEDULES.forEach((every, i) => {
      // Looks at the end of each of `every` equal stretches (all looks when every = batches).
      if (Math.floor((look * every) / batches) > Math.floor(((look - 1) * every) / batches) && significant) naiveEver[i] = true;
    });
    if (look === batches) fixedAtEnd = significant;
  }
  return { msprtStop, naiveEver, fixedAtEnd };
}

/** Per-arm n for a two-sided two-proportion z-test at level alpha to reach `power` (pooled-variance formula). */
function fixedHorizonN(pa: number, pb: number, power: number): number {
  const pBar = (pa + pb) / 2;
  const num = zCrit * Math.sqrt(2 * pBar * (1 - pBar)) + normalIsf(1 - power) * Math.sqrt(pa * (1 - pa) + pb * (1 - pb));
  return Math.ceil((num * num) / ((pa - pb) * (pa - pb)));
}

/** Power of that test at per-arm n (the same normal approximation, both tails). */
function fixedHorizonPower(pa: number, pb: number, n: number): number {
  const pBar = (pa + pb) / 2;
  const se0 = Math.sqrt((2 * pBar * (1 - pBar)) / n);
  const se1 = Math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / n);
  const d = Math.abs(pa - pb);
  return normalCdf((d - zCrit * se0) / se1) + normalCdf((-d - zCrit * se0) / se1);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
/** Normal-approximation 95% half-width of a simulated rate, so a reader can tell noise from a difference. */
const pm = (x: number, n: number) => `± ${(100 * 1.96 * Math.sqrt((x * (1 - x)) / n)).toFixed(1)}`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');

const started = performance.now();

// ---- A/A -------------------------------------------------------------------------------------
const aa = Array.from({ length: experiments }, (_, e) => runExperiment(2 * e, p0));
const rate = (f: (o: Outcome) => boolean) => aa.filter(f).length / experiments;

const lines: string[] = [];
lines.push(`### A/A: false positives under continuous monitoring`);
lines.push('');
lines.push(
  `${experiments.toLocaleString('en-US')} simulated A/A experiments, binary metric p = ${p0} in both arms, ${batch} users per arm per look, up to ${batches} looks (${int(maxN)} per arm), α = ${alpha} two-sided. "Ever rejected" = declared a difference at any look.`,
);
lines.push('');
lines.push('| Procedure | Looks | False-positive rate (ever rejected) |');
lines.push('|---|---:|---:|');
const fixedEnd = rate((o) => o.fixedAtEnd);
lines.push(`| Fixed-horizon z-test, once at ${int(maxN)}/arm (its valid use) | 1 | ${pct(fixedEnd)} ${pm(fixedEnd, experiments)} |`);
PEEK_SCHEDULES.slice()
  .reverse()
  .forEach((every) => {
    const i = PEEK_SCHEDULES.indexOf(every);
    const r = rate((o) => o.naiveEver[i]);
    const what = every === batches ? 'at every look' : `at ${every} evenly spaced looks`;
    lines.push(`| Fixed-horizon z-test re-checked ${what} ("peeking") | ${every} | ${pct(r)} ${pm(r, experiments)} |`);
  });
tau2s.forEach((tau2, i) => {
  const r = rate((o) => o.msprtStop[i] > 0);
  lines.push(`| **mSPRT**, τ² = ${tau2.toExponential(2)} (tightest at ${int(TUNED_AT[i])}/arm)${i === 0 ? ' — headline' : ''} | ${batches} | **${pct(r)}** ${pm(r, experiments)} |`);
});

// ---- A/B -------------------------------------------------------------------------------------
const ab = Array.from({ length: experiments }, (_, e) => runExperiment(2 * e + 1, p1));
lines.push('');
lines.push(`### A/B: power and sample size with a true effect`);
lines.push('');
lines.push(
  `Same design, treatment p = ${p1.toFixed(4)} vs control p = ${p0} (relative lift ${pct(lift)}, absolute ${(p1 - p0).toFixed(4)}). The mSPRT stops at its first rejection; an experiment that never rejects runs to ${int(maxN)}/arm. The fixed-horizon comparison is the z-test of the **same power**, n per arm from the standard two-proportion power formula, its power re-checked by simulating it.`,
);
lines.push('');
lines.push('| Procedure | Power | Mean n/arm to decision | Median n/arm when it rejects | Fixed-horizon n/arm for the same power | Mean n ÷ fixed n |');
lines.push('|---|---:|---:|---:|---:|---:|');
const fixedRows: string[] = [];
tau2s.forEach((tau2, i) => {
  const stops = ab.map((o) => o.msprtStop[i]);
  const rejected = stops.filter((s) => s > 0).sort((a, b) => a - b);
  const power = rejected.length / experiments;
  const meanN = stops.reduce((s, look) => s + (look > 0 ? look * batch : maxN), 0) / experiments;
  const medianN = rejected.length ? rejected[Math.floor((rejected.length - 1) / 2)] * batch : NaN;
  // A simulated power of 100% only says "above 1 − 1/experiments": match that, not an infinite n.
  const matched = Math.min(power, 1 - 1 / experiments);
  const nFixed = matched > alpha ? fixedHorizonN(p1, p0, matched) : NaN;
  lines.push(
    `| mSPRT, τ² = ${tau2.toExponential(2)} (tightest at ${int(TUNED_AT[i])}/arm)${i === 0 ? ' — headline' : ''} | ${pct(power)} ${pm(power, experiments)} | ${int(meanN)} | ${int(medianN)} | ${Number.isNaN(nFixed) ? 'n/a' : int(nFixed)} | ${Number.isNaN(nFixed) ? 'n/a' : (meanN / nFixed).toFixed(2)} |`,
  );
  if (i === 0 && !Number.isNaN(nFixed)) {
    // Check the formula: run the fixed-horizon test once at nFixed per arm on fresh data.
    let hits = 0;
    for (let e = 0; e < experiments; e++) {
      const rng = createRng(deriveSeed(seed + 1, e));
      const st = binomial(rng, nFixed, p1);
      const sc = binomial(rng, nFixed, p0);
      if (twoProportionZTest(st, nFixed, sc, nFixed).pValue < alpha) hits++;
    }
    const simulated = hits / experiments;
    fixedRows.push(
      `| Fixed-horizon z-test at ${int(nFixed)}/arm (same power as the headline mSPRT; formula power ${pct(fixedHorizonPower(p1, p0, nFixed))}) | ${pct(simulated)} ${pm(simulated, experiments)} | ${int(nFixed)} (always) | — | ${int(nFixed)} | 1.00 |`,
    );
  }
});
lines.push(...fixedRows);
const n80 = fixedHorizonN(p1, p0, 0.8);
lines.push(`| Fixed-horizon z-test at ${int(n80)}/arm (planned for 80% power, for reference) | ${pct(fixedHorizonPower(p1, p0, n80))} (formula) | ${int(n80)} (always) | — | — | — |`);
const maxPower = fixedHorizonPower(p1, p0, maxN);
const peekPower = ab.filter((o) => o.naiveEver[0]).length / experiments;
lines.push(`| Fixed-horizon z-test once at ${int(maxN)}/arm (for reference) | ${pct(ab.filter((o) => o.fixedAtEnd).length / experiments)} (formula ${pct(maxPower)}) | ${int(maxN)} | — | — | — |`);
lines.push(`| Peeking z-test, every look (invalid: see its A/A row) | ${pct(peekPower)} | — | — | — | — |`);

const wallSeconds = (performance.now() - started) / 1000;
const rssMiB = process.resourceUsage().maxRSS / 1024;
lines.push('');
lines.push(
  `Critical |z| of the headline mSPRT at 1 look (${batch}/arm) → ${msprtCriticalZ((2 * p0 * (1 - p0)) / batch, tau2s[0], alpha).toFixed(2)}, at ${int(maxN / 2)}/arm → ${msprtCriticalZ((2 * p0 * (1 - p0)) / (maxN / 2), tau2s[0], alpha).toFixed(2)}, at ${int(maxN)}/arm → ${msprtCriticalZ((2 * p0 * (1 - p0)) / maxN, tau2s[0], alpha).toFixed(2)} (fixed horizon: ${zCrit.toFixed(2)}).`,
);
lines.push('');
lines.push(`Wall time ${wallSeconds.toFixed(1)} s, peak RSS ${rssMiB.toFixed(0)} MiB (Node ${process.version}, ${experiments.toLocaleString('en-US')} × 2 experiments × ${batches} looks × ${tau2s.length} mSPRT settings).`);
console.log(lines.join('\n'));
