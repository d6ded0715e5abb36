/**
 * Canary judging in the manner of Netflix/Spinnaker Kayenta: each metric of the candidate is
 * compared with the stable version's by a Mann–Whitney U test and classified pass/high/low/nodata;
 * a group of metrics is scored 0–100 as the (weighted) share of metrics that pass, with Kayenta's
 * default thresholds (pass ≥ 95, marginal ≥ 75, fail below).
 *
 * Differences from Kayenta, on purpose: the decision is the two-sided test's p-value against
 * 1 − confidence (Kayenta checks whether the Hodges–Lehmann interval excludes zero — the same test
 * inverted, but its interval ignores ties, which our p-value does not); the optional tolerance is a
 * relative change of the mean, applied after significance, like Kayenta's effect-size thresholds.
 */

import { normalIsf } from './distributions';
import { mannWhitneyU } from './tests';

export type MetricDirection = 'increase-is-bad' | 'decrease-is-bad' | 'either-is-bad';
export type Classification = 'pass' | 'high' | 'low' | 'nodata';

export interface ClassifyMetricInput {
  candidate: ArrayLike<number>;
  stable: ArrayLike<number>;
  direction: MetricDirection;
  /** Two-sided confidence of the test: a change is significant when p < 1 − confidence. Default 0.98 (Kayenta's). */
  confidence?: number;
  /**
   * A significant change whose relative change of the mean, mean(candidate)/mean(stable) − 1, is
   * within ±allowedRelativeChange still passes (e.g. 0.05: up to 5% worse is tolerated).
   * Ignored when the stable mean is 0, where a relative change is undefined.
   */
  allowedRelativeChange?: number;
}

export interface MetricEffect {
  /** Hodges–Lehmann shift: the median of all candidate − stable differences, in the metric's units. */
  shift: number;
  /** Distribution-free interval for the shift at `confidence` (normal approximation, no tie correction); null when the samples are too small for that confidence. */
  shiftCi: [number, number] | null;
  candidateMean: number;
  stableMean: number;
  /** mean(candidate)/mean(stable) − 1; null when the stable mean is 0. */
  relativeChange: number | null;
}

export interface MetricClassification {
  classification: Classification;
  /** Two-sided Mann–Whitney p-value; null for nodata. */
  pValue: number | null;
  /** Which way the candidate moved, significant or not ('none' when U sits exactly at its mean or for nodata). */
  observed: 'higher' | 'lower' | 'none';
  significant: boolean;
  effect: MetricEffect | null;
  candidateCount: number;
  stableCount: number;
  reason: string;
}

function finiteSorted(values: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out.push(values[i]);
  return Float64Array.from(out).sort();
}

function mean(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** How many differences x[i] − y[j] are ≤ d (x, y ascending); O(n + m). */
function countDifferencesAtMost(x: Float64Array, y: Float64Array, d: number): number {
  // For fixed i the qualifying j form a suffix of y (x[i] − y[j] falls as j grows), and that
  // suffix only shrinks as i grows; floating-point subtraction is monotone, so this stays exact.
  let count = 0;
  let j = 0;
  for (let i = 0; i < x.length; i++) {
    while (j < y.length && x[i] - y[j] > d) j++;
    count += y.length - j;
  }
  return count;
}

/**
 * The k-th smallest (1-based) of the n·m differences x[i] − y[j], without forming them: bisect on
 * the value until the bracket closes to adjacent doubles. O((n + m)·iterations), ≤ ~2100
 * iterations even in the worst case of bisecting toward zero.
 */
export function kthPairwiseDifference(x: Float64Array, y: Float64Array, k: number): number {
  const total = x.length * y.length;
  if (!(Number.isInteger(k) && k >= 1 && k <= total)) throw new RangeError(`k must be an integer in [1, ${total}] (got ${k})`);
  let lo = x[0] - y[y.length - 1]; // the smallest difference
  if (countDifferencesAtMost(x, y, lo) >= k) return lo;
  let hi = x[x.length - 1] - y[0]; // the largest; count(lo) < k ≤ count(hi)
  for (let i = 0; i < 2200; i++) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    if (countDifferencesAtMost(x, y, mid) >= k) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Hodges–Lehmann shift estimate and its distribution-free interval (Lehmann 1963; Moses' order statistics). */
export function hodgesLehmann(candidate: Float64Array, stable: Float64Array, confidence: number): { shift: number; ci: [number, number] | null } {
  const n = candidate.length;
  const m = stable.length;
  const total = n * m;
  const shift =
    total % 2 === 1
      ? kthPairwiseDifference(candidate, stable, (total + 1) / 2)
      : (kthPairwiseDifference(candidate, stable, total / 2) + kthPairwiseDifference(candidate, stable, total / 2 + 1)) / 2;
  const z = normalIsf((1 - confidence) / 2);
  const k = Math.floor(total / 2 - z * Math.sqrt((total * (n + m + 1)) / 12));
  if (k < 1) return { shift, ci: null };
  return { shift, ci: [kthPairwiseDifference(candidate, stable, k), kthPairwiseDifference(candidate, stable, total + 1 - k)] };
}

/** Classify one metric of a canary: is the candidate significantly worse than the stable version? */
export function classifyMetric(input: ClassifyMetricInput): MetricClassification {
  const { direction, confidence = 0.98, allowedRelativeChange } = input;
  if (!['increase-is-bad', 'decrease-is-bad', 'either-is-bad'].includes(direction)) throw new RangeError(`unknown direction ${String(direction)}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1) (got ${confidence})`);
  if (allowedRelativeChange !== undefined && !(allowedRelativeChange >= 0)) {
    throw new RangeError(`allowedRelativeChange must be >= 0 (got ${allowedRelativeChange})`);
  }
  // Missing points (NaN, ±Infinity from a failed query) are dropped, as Kayenta's NaN strategy "remove".
  const candidate = finiteSorted(input.candidate);
  const stable = finiteSorted(input.stable);
  const counts = { candidateCount: candidate.length, stableCount: stable.length };
  if (candidate.length === 0 || stable.length === 0) {
    return { classification: 'nodata', pValue: null, observed: 'none', significant: false, effect: null, ...counts, reason: 'no finite values in one of the samples' };
  }
  const candidateMean = mean(candidate);
  const stableMean = mean(stable);
  const relativeChange = stableMean === 0 ? null : candidateMean / stableMean - 1;
  const { shift, ci } = hodgesLehmann(candidate, stable, confidence);
  const effect: MetricEffect = { shift, shiftCi: ci, candidateMean, stableMean, relativeChange };

  const test = mannWhitneyU(candidate, stable, 'two-sided');
  const uMean = (candidate.length * stable.length) / 2;
  const observed = test.statistic > uMean ? 'higher' : test.statistic < uMean ? 'lower' : 'none';
  const significant = test.pValue < 1 - confidence && observed !== 'none';
  const base = { pValue: test.pValue, observed, significant, effect, ...counts } as const;
  const p = test.pValue.toPrecision(3);
  if (!significant) return { classification: 'pass', ...base, reason: `no significant difference (p = ${p})` };

  const bad = (observed === 'higher' && direction !== 'decrease-is-bad') || (observed === 'lower' && direction !== 'increase-is-bad');
  if (!bad) return { classification: 'pass', ...base, reason: `significantly ${observed} (p = ${p}), which is not the bad direction` };
  if (allowedRelativeChange !== undefined && relativeChange !== null && Math.abs(relativeChange) <= allowedRelativeChange) {
    return {
      classification: 'pass',
      ...base,
      reason: `significantly ${observed} (p = ${p}) but the mean changed by ${(relativeChange * 100).toFixed(2)}%, within the allowed ±${(allowedRelativeChange * 100).toFixed(2)}%`,
    };
  }
  return { classification: observed === 'higher' ? 'high' : 'low', ...base, reason: `significantly ${observed} (p = ${p})` };
}

export interface ScoreGroupOptions {
  /** Scores at or above pass the canary. Default 95. */
  passThreshold?: number;
  /** Scores at or above (and below pass) are marginal; below, the canary fails. Default 75. */
  marginalThreshold?: number;
  /** Per-metric flags: a critical metric classified high or low fails the group outright (score 0). */
  critical?: readonly boolean[];
}

export interface GroupScore {
  /** 0–100: weighted share of metrics with data that passed. */
  score: number;
  /** 'nodata' when no metric had data (score 0). */
  verdict: 'pass' | 'marginal' | 'fail' | 'nodata';
  counts: Record<Classification, number>;
  /** Indices of critical metrics that failed, if any. */
  criticalFailures: number[];
}

/**
 * Score a group of metric classifications as Kayenta does: 100 × (weight of passing metrics) /
 * (weight of metrics with data). Metrics without data neither help nor hurt.
 */
export function scoreGroup(
  classifications: readonly (Classification | Pick<MetricClassification, 'classification'>)[],
  weights?: readonly number[],
  options: ScoreGroupOptions = {},
): GroupScore {
  const { passThreshold = 95, marginalThreshold = 75, critical } = options;
  if (!(marginalThreshold <= passThreshold)) throw new RangeError(`marginalThreshold (${marginalThreshold}) must not exceed passThreshold (${passThreshold})`);
  const labels = classifications.map((c) => (typeof c === 'string' ? c : c.classification));
  if (weights && weights.length !== labels.length) throw new RangeError(`got ${weights.length} weights for ${labels.length} classifications`);
  if (critical && critical.length !== labels.length) throw new RangeError(`got ${critical.length} critical flags for ${labels.length} classifications`);
  const counts: Record<Classification, number> = { pass: 0, high: 0, low: 0, nodata: 0 };
  let passed = 0;
  let considered = 0;
  const criticalFailures: number[] = [];
  labels.forEach((label, i) => {
    if (!(label in counts)) throw new RangeError(`unknown classification ${String(label)} at ${i}`);
    const w = weights ? weights[i] : 1;
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`weights[${i}] must be finite and >= 0 (got ${w})`);
    counts[label]++;
    if (label === 'nodata') return;
    considered += w;
    if (label === 'pass') passed += w;
    else if (critical?.[i]) criticalFailures.push(i);
  });
  if (criticalFailures.length > 0) return { score: 0, verdict: 'fail', counts, criticalFailures };
  if (considered === 0) return { score: 0, verdict: 'nodata', counts, criticalFailures };
  const score = (100 * passed) / considered;
  const verdict = score >= passThreshold ? 'pass' : score >= marginalThreshold ? 'marginal' : 'fail';
  return { score, verdict, counts, criticalFailures };
}
