/**
 * Fixed-horizon hypothesis tests, each matching a SciPy/statsmodels reference (see
 * test/fixtures/stats/make_fixtures.py). Conventions, uniform across the library:
 * - the effect is always "first argument minus second" (A − B), as in scipy's ttest_ind(a, b);
 * - alternative 'greater' means A > B, 'less' means A < B (scipy's names; statsmodels calls them
 *   'larger'/'smaller').
 *
 * A fixed-horizon p-value is valid once, at a sample size fixed in advance. Re-checking it as data
 * arrive inflates the false-positive rate (see bench/ab); monitors use always-valid.ts instead.
 */

import { chiSquareSf, normalCdf, normalSf, studentTCdf, studentTPpf, studentTSf } from './distributions';

export type Alternative = 'two-sided' | 'greater' | 'less';

/** Summary statistics of one sample: size, mean and unbiased (n − 1) variance. */
export interface SampleSummary {
  n: number;
  mean: number;
  variance: number;
}

export interface TestResult {
  statistic: number;
  pValue: number;
}

export interface TwoProportionZTestResult extends TestResult {
  /** proportionA − proportionB */
  estimate: number;
  proportionA: number;
  proportionB: number;
  /** Pooled standard error of the difference under H0 (what the z statistic divides by). */
  standardError: number;
}

export interface WelchTTestResult extends TestResult {
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** meanA − meanB */
  estimate: number;
  standardError: number;
  /** Confidence interval for meanA − meanB, one-sided (with an infinite end) for one-sided alternatives, as scipy's. */
  ci: [number, number];
  confidence: number;
}

export interface MannWhitneyUResult extends TestResult {
  /** U of the first sample: the number of pairs (a, b) with a > b, ties counting ½. */
  statistic: number;
  /** The continuity-corrected, tie-corrected normal deviate the p-value came from. */
  z: number;
}

export interface ChiSquareResult extends TestResult {
  df: number;
}

export interface SampleRatioMismatchResult extends ChiSquareResult {
  /** pValue < threshold: the assignment itself is suspect, so the experiment's comparisons are too. */
  mismatch: boolean;
  threshold: number;
}

const ALTERNATIVES: readonly Alternative[] = ['two-sided', 'greater', 'less'];

function checkAlternative(alternative: Alternative): void {
  if (!ALTERNATIVES.includes(alternative)) throw new RangeError(`alternative must be one of ${ALTERNATIVES.join(', ')} (got ${String(alternative)})`);
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min} (got ${value})`);
}

/** p-value of a standard-normal statistic. */
export function pValueFromZ(z: number, alternative: Alternative = 'two-sided'): number {
  checkAlternative(alternative);
  if (alternative === 'greater') return normalSf(z);
  if (alternative === 'less') return normalCdf(z);
  return Math.min(1, 2 * normalSf(Math.abs(z)));
}

/** p-value of a Student-t statistic with df degrees of freedom. */
export function pValueFromT(t: number, df: number, alternative: Alternative = 'two-sided'): number {
  checkAlternative(alternative);
  if (alternative === 'greater') return studentTSf(t, df);
  if (alternative === 'less') return studentTCdf(t, df);
  return Math.min(1, 2 * studentTSf(Math.abs(t), df));
}

/**
 * Two-proportion z-test with the pooled variance under H0: pA = pB, as statsmodels'
 * proportions_ztest([successesA, successesB], [nA, nB]). When both arms are all failures or all
 * successes the difference is exactly 0 and there is no evidence: statistic 0, p-value 1
 * (statsmodels returns NaN).
 */
export function twoProportionZTest(
  successesA: number,
  nA: number,
  successesB: number,
  nB: number,
  alternative: Alternative = 'two-sided',
): TwoProportionZTestResult {
  checkAlternative(alternative);
  checkCount('nA', nA, 1);
  checkCount('nB', nB, 1);
  checkCount('successesA', successesA, 0);
  checkCount('successesB', successesB, 0);
  if (successesA > nA || successesB > nB) throw new RangeError(`successes cannot exceed trials (${successesA}/${nA}, ${successesB}/${nB})`);
  const proportionA = successesA / nA;
  const proportionB = successesB / nB;
  const estimate = proportionA - proportionB;
  const pooled = (successesA + successesB) / (nA + nB);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  if (standardError === 0) return { statistic: 0, pValue: 1, estimate, proportionA, proportionB, standardError };
  const statistic = estimate / standardError;
  return { statistic, pValue: pValueFromZ(statistic, alternative), estimate, proportionA, proportionB, standardError };
}

function checkSummary(name: string, s: SampleSummary, minN: number): void {
  if (s === null || typeof s !== 'object') throw new RangeError(`${name} must be a { n, mean, variance } summary`);
  if (!Number.isFinite(s.n) || s.n < minN) throw new RangeError(`${name}.n must be >= ${minN} (got ${s.n})`);
  if (!Number.isFinite(s.mean)) throw new RangeError(`${name}.mean must be finite (got ${s.mean})`);
  if (!Number.isFinite(s.variance) || s.variance < 0) throw new RangeError(`${name}.variance must be finite and >= 0 (got ${s.variance})`);
}

/**
 * Welch's unequal-variance t-test from summaries, as scipy's
 * ttest_ind_from_stats(meanA, sqrt(varA), nA, meanB, sqrt(varB), nB, equal_var=False).
 * Both variances zero (scipy: NaN) is handled as the limit: equal means give statistic 0 and
 * p-value 1, different means an infinite statistic; df is then reported as nA + nB − 2.
 */
export function welchTTest(
  summaryA: SampleSummary,
  summaryB: SampleSummary,
  alternative: Alternative = 'two-sided',
  confidence = 0.95,
): WelchTTestResult {
  checkAlternative(alternative);
  checkSummary('summaryA', summaryA, 2);
  checkSummary('summaryB', summaryB, 2);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1) (got ${confidence})`);
  const va = summaryA.variance / summaryA.n;
  const vb = summaryB.variance / summaryB.n;
  const estimate = summaryA.mean - summaryB.mean;
  const standardError = Math.sqrt(va + vb);
  if (standardError === 0) {
    const statistic = estimate === 0 ? 0 : estimate > 0 ? Infinity : -Infinity;
    const df = summaryA.n + summaryB.n - 2;
    const pValue = estimate === 0 ? 1 : pValueFromT(statistic, df, alternative);
    return { statistic, pValue, df, estimate, standardError, ci: [estimate, estimate], confidence };
  }
  const df = (va + vb) ** 2 / ((va * va) / (summaryA.n - 1) + (vb * vb) / (summaryB.n - 1));
  const statistic = estimate / standardError;
  let ci: [number, number];
  if (alternative === 'two-sided') {
    const q = studentTPpf(1 - (1 - confidence) / 2, df);
    ci = [estimate - q * standardError, estimate + q * standardError];
  } else if (alternative === 'greater') {
    ci = [estimate - studentTPpf(confidence, df) * standardError, Infinity];
  } else {
    ci = [-Infinity, estimate + studentTPpf(confidence, df) * standardError];
  }
  return { statistic, pValue: pValueFromT(statistic, df, alternative), df, estimate, standardError, ci, confidence };
}

/** Summary of raw values (Welford's one-pass algorithm; no catastrophic cancellation). */
export function summarize(values: ArrayLike<number>): SampleSummary {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new RangeError(`summarize: value ${i} is not finite (${v})`);
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  return { n, mean: n > 0 ? mean : NaN, variance: n > 1 ? m2 / (n - 1) : NaN };
}

/**
 * The summary of the union of two samples (Chan et al.'s pairwise update), so a monitor can keep
 * cumulative summaries from per-batch ones.
 */
export function combineSummaries(a: SampleSummary, b: SampleSummary): SampleSummary {
  if (a.n === 0) return { ...b };
  if (b.n === 0) return { ...a };
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  const mean = a.mean + (delta * b.n) / n;
  const m2 = (a.n > 1 ? a.variance * (a.n - 1) : 0) + (b.n > 1 ? b.variance * (b.n - 1) : 0) + (delta * delta * a.n * b.n) / n;
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : NaN };
}

/**
 * Mann–Whitney U test with the normal approximation, tie correction and continuity correction:
 * scipy's mannwhitneyu(a, b, alternative, method='asymptotic', use_continuity=True).
 * Infinite values rank like any other; NaN is rejected (it has no rank).
 */
export function mannWhitneyU(a: ArrayLike<number>, b: ArrayLike<number>, alternative: Alternative = 'two-sided'): MannWhitneyUResult {
  checkAlternative(alternative);
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError(`mannWhitneyU needs two non-empty samples (got ${n1} and ${n2})`);
  const n = n1 + n2;
  const values = new Float64Array(n);
  for (let i = 0; i < n1; i++) values[i] = a[i];
  for (let j = 0; j < n2; j++) values[n1 + j] = b[j];
  for (let i = 0; i < n; i++) if (Number.isNaN(values[i])) throw new RangeError(`mannWhitneyU: NaN in ${i < n1 ? 'a' : 'b'}`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((i, j) => values[i] - values[j] || i - j);

  // Average ranks over runs of ties; Σ(t³ − t) feeds the variance correction.
  let rankSumA = 0;
  let tieTerm = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    const t = end - start;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) if (order[k] < n1) rankSumA += averageRank;
    tieTerm += t * t * t - t;
    start = end;
  }
  const u1 = rankSumA - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  // Every value tied: no evidence either way (scipy divides by zero and lands on p = 1 too).
  if (!(sigma > 0)) return { statistic: u1, pValue: 1, z: 0 };
  const z = (u - mu - 0.5) / sigma;
  const pValue = Math.min(1, Math.max(0, (alternative === 'two-sided' ? 2 : 1) * normalSf(z)));
  return { statistic: u1, pValue, z };
}

function checkProportions(observed: readonly number[], expectedProportions: readonly number[]): number[] {
  if (observed.length < 2) throw new RangeError(`need at least 2 categories (got ${observed.length})`);
  if (expectedProportions.length !== observed.length) {
    throw new RangeError(`observed has ${observed.length} categories but expectedProportions has ${expectedProportions.length}`);
  }
  observed.forEach((o, i) => {
    if (!Number.isFinite(o) || o < 0) throw new RangeError(`observed[${i}] must be a finite count >= 0 (got ${o})`);
  });
  let total = 0;
  expectedProportions.forEach((p, i) => {
    if (!Number.isFinite(p) || p <= 0) throw new RangeError(`expectedProportions[${i}] must be > 0 (got ${p})`);
    total += p;
  });
  // Weights such as [1, 1] or [90, 10] are accepted and normalised.
  return expectedProportions.map((p) => p / total);
}

/**
 * Pearson's chi-square goodness of fit of counts to expected proportions (normalised if they are
 * weights), df = k − 1: scipy's chisquare(observed, total·p). No observations gives statistic 0
 * and p-value 1.
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], expectedProportions: readonly number[]): ChiSquareResult {
  const proportions = checkProportions(observed, expectedProportions);
  const total = observed.reduce((s, o) => s + o, 0);
  const df = observed.length - 1;
  if (total === 0) return { statistic: 0, pValue: 1, df };
  let statistic = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = total * proportions[i];
    const d = observed[i] - expected;
    statistic += (d * d) / expected;
  }
  return { statistic, pValue: chiSquareSf(statistic, df), df };
}

/**
 * Sample-ratio mismatch check: are the arms' sizes consistent with the configured split? Flags at
 * p < threshold (0.001 by convention: this check runs on every experiment and every look, so it
 * must rarely cry wolf, and a real SRM is usually blatant).
 */
export function sampleRatioMismatch(counts: readonly number[], expectedProportions: readonly number[], threshold = 0.001): SampleRatioMismatchResult {
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`threshold must be in (0, 1) (got ${threshold})`);
  const r = chiSquareGoodnessOfFit(counts, expectedProportions);
  return { ...r, mismatch: r.pValue < threshold, threshold };
}
