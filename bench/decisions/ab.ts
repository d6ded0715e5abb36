/**
 * A/B decisions, simulated end to end through the workflow's own look (lib/experiment/evaluate):
 * how often an honest experiment is called wrongly, and what a real effect costs to find.
 *
 *   1. A/A: false winners under continuous monitoring (mSPRT, τ² and maximum sample from the
 *      plan) against the naive fixed-horizon z-test re-checked at every look.
 *   2. A/B at the MDE the plan was sized for (and at 1.5× and 2× it): power and mean sample per
 *      arm, against the fixed-horizon test of the same α and 80% power.
 *   3. Sample-ratio checks on honest 50/50 assignment over 100 looks: false halts of the
 *      sequential Dirichlet-multinomial test against the chi-square re-run at every look; and how
 *      fast each catches a real skew.
 *
 * Binary metric; users arrive in equal batches between looks and each is assigned by a fair coin
 * (so the arms' sizes wander as they do in production); every user yields one observation.
 *
 *   npx tsx bench/decisions/ab.ts [--experiments 2000] [--srm-experiments 20000] [--baseline 0.1]
 *                                 [--mde 0.01] [--alpha 0.05] [--looks 100] [--seed 1]
 *
 * Deterministic for given flags (seeded PRNG, one stream per experiment). A benchmark, not a
 * test: figures and command go to docs/benchmarks.md.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createRng, deriveSeed, type Rng } from '../../lib/random';
import { evaluateLook, type ArmData } from '../../lib/experiment/evaluate';
import { planAbTest } from '../../lib/experiment/plan';
import { checkABTest, type NormalisedABTest } from '../../lib/experiment/spec';
import { proportionSummary, type MsprtState } from '../../lib/stats/always-valid';
import { sequentialMultinomialTest } from '../../lib/stats/sequential-multinomial';
import { sampleRatioMismatch, twoProportionZTest } from '../../lib/stats/tests';

const { values } = parseArgs({
  options: {
    experiments: { type: 'string', default: '2000' },
    'srm-experiments': { type: 'string', default: '20000' },
    baseline: { type: 'string', default: '0.1' },
    mde: { type: 'string', default: '0.01' },
    alpha: { type: 'string', default: '0.05' },
    looks: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
  },
});
const experiments = Number(values.experiments);
const srmExperiments = Number(values['srm-experiments']);
const p0 = Number(values.baseline);
const mde = Number(values.mde);
const alpha = Number(values.alpha);
const looks = Number(values.looks);
const seed = Number(values.seed);
const SRM_ALPHA = 0.001;

const planned = planAbTest({ metric: 'click-rate', baseline: p0, mde: { absolute: mde }, alpha, arms: 2 });
if (!planned.ok) throw new Error(planned.message);
const plan = planned.value;
const checked = checkABTest({
  model: 'bench',
  versions: ['1', '2'],
  primaryMetric: 'click-rate',
  tau2: plan.tau2,
  alpha,
  minSamplePerArm: 100,
  maxSamplePerArm: plan.maxSamplePerArm,
  maxDurationSeconds: 1e12,
  srmThreshold: SRM_ALPHA,
  taskQueues: { cpu: 'bench' },
});
if (!checked.ok) throw new Error(checked.message);
const spec: NormalisedABTest = checked.value;
// Users per look across both arms: the plan's maximum per arm, reached in `looks` looks.
const perLook = 2 * Math.ceil(plan.maxSamplePerArm / looks);

interface Run {
  decision: string;
  /** The winner's version, when there is one. */
  winner?: string;
  /** Mean of the arms' sample sizes at the decision. */
  samplePerArm: number;
  /** Naive z-test re-checked at every look: the first look's per-arm sample where p < α, or 0. */
  naiveStop: number;
}

/** One experiment through evaluateLook: control at p0, treatment at p1, assignment by a fair coin. */
function runAb(rng: Rng, p1: number): Run {
  const n = [0, 0];
  const s = [0, 0];
  let monitors: MsprtState[] = [];
  let naiveStop = 0;
  for (let look = 1; ; look++) {
    for (let u = 0; u < perLook; u++) {
      const arm = rng.next() < 0.5 ? 0 : 1;
      n[arm]!++;
      if (rng.next() < (arm === 0 ? p0 : p1)) s[arm]!++;
    }
    const arms: ArmData[] = [0, 1].map((i) => ({ version: String(i + 1), requests: n[i]!, units: n[i]!, errors: 0, p95LatencyMs: null, primary: proportionSummary(s[i]!, n[i]!) }));
    if (naiveStop === 0 && n[0]! >= 100 && n[1]! >= 100 && twoProportionZTest(s[1]!, n[1]!, s[0]!, n[0]!).pValue < alpha) naiveStop = (n[0]! + n[1]!) / 2;
    const r = evaluateLook({ spec, arms, monitors, elapsedSeconds: look });
    monitors = r.monitors;
    const d = r.look.decision;
    if (d.kind !== 'continue') return { decision: d.kind, winner: d.kind === 'winner' ? d.version : undefined, samplePerArm: (n[0]! + n[1]!) / 2, naiveStop };
  }
}

const started = performance.now();
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pct2 = (x: number) => `${(100 * x).toFixed(2)}%`;
/** 95% normal-approximation half-width of a simulated rate, in percentage points. */
const pm = (x: number, n: number) => `± ${(100 * 1.96 * Math.sqrt(Math.max(x * (1 - x), 1 / n) / n)).toFixed(x < 0.01 ? 2 : 1)}`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const lines: string[] = [];

lines.push(`### Plan`);
lines.push('');
lines.push(
  `\`planAbTest\`: control ${p0} → ${plan.alternative} (MDE ${mde} absolute), α = ${alpha}, 80% power: τ² = MDE² = ${plan.tau2.toExponential(2)}, maximum ${int(plan.maxSamplePerArm)} per arm (the test ends "inconclusive" there), expected ${int(plan.expectedSamplePerArmAtMde)} per arm at the MDE; the fixed-horizon z-test needs ${int(plan.fixedHorizonSamplePerArm)} per arm. Simulated with ${looks} looks up to the maximum (${int(perLook)} users per look, assigned by a fair coin), minimum 100 per arm before any decision, SRM α = ${SRM_ALPHA}.`,
);

// ---- 1. A/A ------------------------------------------------------------------------------------
const aa = Array.from({ length: experiments }, (_, e) => runAb(createRng(deriveSeed(seed, 1, e)), p0));
const falseWinner = aa.filter((r) => r.decision === 'winner').length / experiments;
const aaSrm = aa.filter((r) => r.decision === 'srm').length / experiments;
const naiveAa = aa.filter((r) => r.naiveStop > 0).length / experiments;
lines.push('');
lines.push(`### A/A: false winners (${int(experiments)} experiments, both arms at ${p0})`);
lines.push('');
lines.push('| Procedure | False winners | Target |');
lines.push('|---|---:|---:|');
lines.push(`| Naive: fixed-horizon z-test re-checked at each of the ${looks} looks, stopping at p < α | ${pct(naiveAa)} ${pm(naiveAa, experiments)} | ≤ ${pct(alpha)} |`);
lines.push(`| **Flywheel ABTest look** (mSPRT, τ² = MDE², Bonferroni) | **${pct(falseWinner)}** ${pm(falseWinner, experiments)} | ≤ ${pct(alpha + 0.005)} (α + 0.5%) |`);
lines.push(`| (halted for SRM in the same runs) | ${pct2(aaSrm)} | ≤ ${pct2(SRM_ALPHA)} |`);

// ---- 2. A/B ------------------------------------------------------------------------------------
lines.push('');
lines.push(`### A/B: power and mean sample per arm (${int(experiments)} experiments per effect)`);
lines.push('');
lines.push(`Mean sample counts an experiment that never decides at the planned maximum (${int(plan.maxSamplePerArm)}). Reference: the fixed-horizon z-test of the same α and 80% power at the MDE, ${int(plan.fixedHorizonSamplePerArm)} per arm, always.`);
lines.push('');
lines.push('| True effect | Flywheel power | Flywheel mean n/arm | ÷ fixed-horizon n (80% at MDE) | Plan (numerical): power / mean n | Naive peeking: "power" / mean n |');
lines.push('|---|---:|---:|---:|---:|---:|');
const abRows: Array<{ mult: number; power: number; ratio: number }> = [];
for (const [i, mult] of [1, 1.5, 2].entries()) {
  const p1 = p0 + mult * mde;
  const runs = Array.from({ length: experiments }, (_, e) => runAb(createRng(deriveSeed(seed, 2 + i, e)), p1));
  const power = runs.filter((r) => r.winner === '2').length / experiments;
  const meanN = runs.reduce((a, r) => a + r.samplePerArm, 0) / experiments;
  const naivePower = runs.filter((r) => r.naiveStop > 0).length / experiments;
  const naiveMean = runs.reduce((a, r) => a + (r.naiveStop || plan.maxSamplePerArm), 0) / experiments;
  const predicted = mult === 1 ? `${pct(plan.power)} / ${int(plan.expectedSamplePerArmAtMde)}` : '—';
  abRows.push({ mult, power, ratio: meanN / plan.fixedHorizonSamplePerArm });
  lines.push(
    `| ${mult}× MDE (${p0} → ${p1.toFixed(4)}) | ${mult === 1 ? '**' : ''}${pct(power)}${mult === 1 ? '**' : ''} ${pm(power, experiments)} | ${int(meanN)} | ${mult === 1 ? '**' : ''}${(meanN / plan.fixedHorizonSamplePerArm).toFixed(2)}${mult === 1 ? '**' : ''} | ${predicted} | ${pct(naivePower)} / ${int(naiveMean)} (invalid: ${pct(naiveAa)} false) |`,
  );
}

// ---- 3. SRM ------------------------------------------------------------------------------------
const SRM_LOOKS = 100;
const SRM_PER_LOOK = 100;
interface SrmRun {
  sequential: number;
  chiSquare: number;
}
/** Units assigned with P(arm 1) = share; both checks at each look; the units at each one's first halt (0 = never). */
function runSrm(rng: Rng, share: number): SrmRun {
  const counts = [0, 0];
  let sequential = 0;
  let chiSquare = 0;
  for (let look = 1; look <= SRM_LOOKS && (sequential === 0 || chiSquare === 0); look++) {
    for (let u = 0; u < SRM_PER_LOOK; u++) counts[rng.next() < share ? 0 : 1]!++;
    const total = look * SRM_PER_LOOK;
    if (sequential === 0 && sequentialMultinomialTest(counts, [0.5, 0.5], { alpha: SRM_ALPHA }).reject) sequential = total;
    if (chiSquare === 0 && sampleRatioMismatch(counts, [0.5, 0.5], SRM_ALPHA).mismatch) chiSquare = total;
  }
  return { sequential, chiSquare };
}
lines.push('');
lines.push(`### Sample-ratio checks: ${SRM_LOOKS} looks, ${SRM_PER_LOOK} units per look (up to ${int(SRM_LOOKS * SRM_PER_LOOK)}), planned 50/50, α_srm = ${SRM_ALPHA}`);
lines.push('');
lines.push('| Assignment | Experiments | Repeated chi-square (p < α_srm at any look): halted / mean units to halt | **Sequential e-value (≥ 1/α_srm)**: halted / mean units to halt |');
lines.push('|---|---:|---:|---:|');
const srmSummary: Record<string, { seq: number; chi: number }> = {};
for (const [i, share] of [0.5, 0.52, 0.55, 0.6].entries()) {
  const count = share === 0.5 ? srmExperiments : Math.min(srmExperiments, 2000);
  const runs = Array.from({ length: count }, (_, e) => runSrm(createRng(deriveSeed(seed, 10 + i, e)), share));
  const rate = (k: keyof SrmRun) => runs.filter((r) => r[k] > 0).length / count;
  const meanAt = (k: keyof SrmRun) => {
    const halted = runs.filter((r) => r[k] > 0);
    return halted.length ? int(halted.reduce((a, r) => a + r[k], 0) / halted.length) : '—';
  };
  srmSummary[String(share)] = { seq: rate('sequential'), chi: rate('chiSquare') };
  const label = share === 0.5 ? 'honest 50/50 (every halt is false)' : `skewed ${(share * 100).toFixed(0)}/${((1 - share) * 100).toFixed(0)}`;
  const f = share === 0.5 ? pct2 : pct;
  lines.push(`| ${label} | ${int(count)} | ${f(rate('chiSquare'))} ${pm(rate('chiSquare'), count)} / ${meanAt('chiSquare')} | **${f(rate('sequential'))}** ${pm(rate('sequential'), count)} / ${meanAt('sequential')} |`);
}

const wall = (performance.now() - started) / 1000;
lines.push('');
lines.push(`Wall time ${wall.toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (Node ${process.version}).`);
console.log(lines.join('\n'));
