/**
 * Sizing an A/B test by the effect that matters: from the control's rate (or mean), the minimum
 * detectable effect (MDE) and α, the mSPRT's mixing variance τ², the maximum sample per arm at
 * which the test has the wanted power at the MDE, and the sample it is expected to stop at.
 *
 * τ² = MDE². The normal mixture spreads its bet over effects of size about sqrt(τ²), so it is
 * sharpest for effects near the MDE. Each τ² is paired with the maximum sample that gives it 80%
 * power at the MDE; computed with msprtOperatingCharacteristics (100 looks), in multiples of the
 * fixed-horizon n:
 *
 *     τ²/MDE²                  0.25   0.5    1      2      4      25
 *     α = 0.05  max sample     1.79   1.69   1.67   1.71   1.79   2.08
 *               mean at MDE    1.19   1.07   1.02   1.01   1.04   1.23
 *     α = 0.01  max sample     1.59   1.53   1.51   1.54   1.60   1.78
 *               mean at MDE    1.11   1.01   0.98   0.98   1.00   1.13
 *
 * 1 × MDE² gives the smallest maximum and, within 1%, the smallest mean; a τ² off the MDE's scale
 * (the old fixed 0.0025 against a 0.01 change is 25 × MDE²) needs 20–25% more of both.
 * bench/decisions/ab.ts checks the plan by simulating the workflow's own look.
 *
 * The maximum sample is found by bisection on the numerically computed power; the problem is
 * scale-free (n·MDE²/s² and τ²/MDE² are all that matter), so it is solved once in standard units
 * per (α, power, looks) and scaled.
 */
import { normalIsf } from '../stats/distributions';
import { msprtOperatingCharacteristics } from '../stats/msprt-power';
import type { PrimaryMetric } from './spec';

/** The MDE as typed: an absolute change in the metric, or a change relative to the baseline. */
export type Mde = { absolute: number } | { relative: number };

/** `0.01` → absolute, `10%` → relative 0.10; null when it is neither. */
export function parseMde(text: string): Mde | null {
  const t = text.trim();
  const rel = /^([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)%$/i.exec(t);
  if (rel) return { relative: Number(rel[1]) / 100 };
  if (!/^[0-9]*\.?[0-9]+(?:e[-+]?\d+)?$/i.test(t)) return null;
  return { absolute: Number(t) };
}

export interface AbPlanInput {
  metric: PrimaryMetric;
  /** The control's rate (accuracy, click-rate) or mean (rating). */
  baseline: number;
  mde: Mde;
  /** Per-observation variance of the metric; required for rating (proportions use p(1 − p)). */
  variance?: number;
  /** Family-wise α; split over the arm-vs-control comparisons (Bonferroni), as the test does. */
  alpha: number;
  /** Arms including the control. */
  arms: number;
  /** Default 0.8. */
  power?: number;
  /** Looks assumed up to the maximum (the workflow usually looks more often, which only adds power). Default 100. */
  looks?: number;
}

export interface AbPlan {
  metric: PrimaryMetric;
  baseline: number;
  /** Absolute MDE (metric units). */
  mde: number;
  /** The alternative the plan is sized for: baseline + MDE, or baseline − MDE where + would leave (0, 1). */
  alternative: number;
  /** σ²_arm + σ²_control at the alternative. */
  pairVariance: number;
  tau2: number;
  alphaPerComparison: number;
  power: number;
  /** Per arm, for the fixed-horizon z-test of the same α and power (the reference). */
  fixedHorizonSamplePerArm: number;
  /** The test stops "inconclusive" here: the mSPRT has `power` at the MDE by this sample. */
  maxSamplePerArm: number;
  /** E[per-arm sample at stopping] when the true effect is exactly the MDE. */
  expectedSamplePerArmAtMde: number;
}

export type PlanCheck = { ok: true; value: AbPlan } | { ok: false; field: 'mde' | 'baseline' | 'variance' | 'alpha' | 'power'; message: string };

const isProportion = (metric: PrimaryMetric) => metric !== 'rating';

export function planAbTest(input: AbPlanInput): PlanCheck {
  const { metric, baseline, mde, alpha, arms, power = 0.8, looks = 100 } = input;
  if (!(alpha > 0 && alpha < 0.5)) return { ok: false, field: 'alpha', message: `alpha must be > 0 and < 0.5 (got ${alpha})` };
  if (!(power >= 0.5 && power < 1)) return { ok: false, field: 'power', message: `power must be >= 0.5 and < 1 (got ${power})` };
  if (!Number.isFinite(baseline)) return { ok: false, field: 'baseline', message: `baseline must be a number (got ${baseline})` };
  if (isProportion(metric) && !(baseline > 0 && baseline < 1)) {
    return { ok: false, field: 'baseline', message: `baseline: the control's ${metric} must be between 0 and 1, exclusive (got ${baseline})` };
  }
  const delta = 'relative' in mde ? mde.relative * Math.abs(baseline) : mde.absolute;
  if (!(Number.isFinite(delta) && delta > 0)) {
    return { ok: false, field: 'mde', message: `mde must be > 0, absolute (0.01) or relative to the baseline (10%) (got ${'relative' in mde ? `${mde.relative * 100}% of ${baseline}` : mde.absolute})` };
  }
  let alternative = baseline + delta;
  let pairVariance: number;
  if (isProportion(metric)) {
    // The test is two-sided: where an increase by the MDE is impossible, size for a decrease.
    if (!(alternative < 1)) alternative = baseline - delta;
    if (!(alternative > 0)) return { ok: false, field: 'mde', message: `mde ${delta} is too large for a ${metric} of ${baseline}: ${baseline} ± ${delta} leaves (0, 1)` };
    pairVariance = baseline * (1 - baseline) + alternative * (1 - alternative);
  } else {
    const v = input.variance;
    if (!(v !== undefined && Number.isFinite(v) && v > 0)) return { ok: false, field: 'variance', message: `variance of the rating is needed to size the test (got ${v})` };
    pairVariance = 2 * v;
  }
  const alphaPerComparison = alpha / Math.max(1, arms - 1);
  const unit = standardPlan(alphaPerComparison, power, looks);
  const scale = pairVariance / (delta * delta); // standard units → observations per arm
  const zSum = normalIsf(alphaPerComparison / 2) + normalIsf(1 - power);
  return {
    ok: true,
    value: {
      metric,
      baseline,
      mde: delta,
      alternative,
      pairVariance,
      tau2: delta * delta,
      alphaPerComparison,
      power,
      fixedHorizonSamplePerArm: Math.ceil(zSum * zSum * scale),
      maxSamplePerArm: Math.ceil(unit.maxSample * scale),
      expectedSamplePerArmAtMde: Math.ceil(unit.expectedSample * scale),
    },
  };
}

const standardCache = new Map<string, { maxSample: number; expectedSample: number }>();

/**
 * In standard units (effect 1, pair variance 1, τ² = 1): the smallest maximum sample whose power
 * reaches `power`, and the expected sample there. Power grows with the maximum sample, so bisect.
 */
export function standardPlan(alpha: number, power: number, looks: number): { maxSample: number; expectedSample: number } {
  const key = `${alpha}|${power}|${looks}`;
  const cached = standardCache.get(key);
  if (cached) return cached;
  const oc = (n: number) => msprtOperatingCharacteristics({ effect: 1, pairVariance: 1, tau2: 1, alpha, maxSamplePerArm: n, looks });
  const z = normalIsf(alpha / 2) + normalIsf(1 - power);
  let lo = z * z; // the fixed-horizon n: a sequential test cannot have its power with fewer at the end
  let hi = 2 * lo;
  while (oc(hi).power < power) {
    lo = hi;
    hi *= 1.5;
  }
  while (hi / lo > 1.002) {
    const mid = Math.sqrt(lo * hi);
    if (oc(mid).power < power) lo = mid;
    else hi = mid;
  }
  const result = { maxSample: hi, expectedSample: oc(hi).expectedSamplePerArm };
  standardCache.set(key, result);
  return result;
}

export interface AbDuration {
  /** Primary-metric observations per second reaching the slowest arm at the planned split. */
  perArmRate: number;
  maxSeconds: number;
  expectedSecondsAtMde: number;
}

/** How long the plan takes when the model's primary-metric observations arrive at `totalRate` per second and are split by `split` (percent). */
export function planDuration(plan: AbPlan, totalRate: number, split: readonly number[]): AbDuration | null {
  if (!(totalRate > 0) || split.length === 0) return null;
  const perArmRate = (totalRate * Math.min(...split)) / split.reduce((a, b) => a + b, 0);
  return { perArmRate, maxSeconds: plan.maxSamplePerArm / perArmRate, expectedSecondsAtMde: plan.expectedSamplePerArmAtMde / perArmRate };
}
