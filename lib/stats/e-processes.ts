/**
 * Likelihood-ratio e-processes for counts, exact at any sample size (no normal approximation),
 * for judges that look after every batch of data and must stay right however often they look.
 *
 * An e-process E_t ≥ 0 with E_0 = 1 whose expectation stays ≤ 1 under the null at every stopping
 * time gives, by Ville's inequality, P(sup_t E_t ≥ 1/α) ≤ α: reject when E reaches 1/α and the
 * error is bounded over every look. Each process here is a mixture, over a fixed grid of
 * alternatives, of products of per-batch likelihood ratios against the null's boundary value.
 * Both families have a monotone likelihood ratio, so a ratio against the boundary has expectation
 * ≤ 1 under every parameter on the null's side of it: the nulls may be one-sided (composite).
 *
 * - Two-sample (rate of a candidate against a stable version): condition each batch on its
 *   margins — trials of each version and the total number of events — and the candidate's event
 *   count is Fisher's noncentral hypergeometric in the odds ratio ψ. Conditioning removes the
 *   unknown base rate, and the batch's traffic split may change from batch to batch (canary
 *   steps): each batch's conditional law is exact whatever the weights were. This is the exact
 *   conditional test behind Fisher's exact test, made sequential.
 * - One-sample: a binomial likelihood ratio of the event rate against a boundary rate.
 *
 * State is plain JSON (arrays of log-ratios), so it survives Temporal payloads and
 * continue-as-new.
 */

/** log Σ exp(values), stable for large magnitudes. */
export function logSumExp(values: readonly number[]): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (const v of values) sum += Math.exp(v - max);
  return max + Math.log(sum);
}

/**
 * log Z(ψ) for Fisher's noncentral hypergeometric with margins (n1, n2, k), up to a constant that
 * does not depend on ψ: Z(ψ) = Σ_y C(n1, y)·C(n2, k − y)·ψ^y over the support. The constant
 * cancels in every likelihood ratio, so only differences of this function are meaningful.
 */
export function fnchLogNormaliser(n1: number, n2: number, k: number, logPsi: number): number {
  const lo = Math.max(0, k - n2);
  const hi = Math.min(k, n1);
  if (hi < lo) return NaN;
  // c_y relative to c_lo, built by the ratio of consecutive terms (no factorials needed).
  const terms: number[] = [];
  let c = 0;
  for (let y = lo; y <= hi; y++) {
    terms.push(c + y * logPsi);
    c += Math.log((n1 - y) / (y + 1)) + Math.log((k - y) / (n2 - k + y + 1));
  }
  return logSumExp(terms);
}

/** log P(X = x) under Fisher's noncentral hypergeometric (n1, n2, k, ψ): for tests and reports. */
export function fnchLogPmf(x: number, n1: number, n2: number, k: number, logPsi: number): number {
  const lo = Math.max(0, k - n2);
  const hi = Math.min(k, n1);
  if (x < lo || x > hi) return -Infinity;
  const logChoose = (n: number, r: number) => lnFactorial(n) - lnFactorial(r) - lnFactorial(n - r);
  const logC = logChoose(n1, x) + logChoose(n2, k - x) - (logChoose(n1, lo) + logChoose(n2, k - lo));
  return logC + x * logPsi - fnchLogNormaliser(n1, n2, k, logPsi);
}

function lnFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** One batch of a two-sample comparison: events out of trials for the candidate and the stable version. */
export interface TwoSampleBatch {
  candidateEvents: number;
  candidateTrials: number;
  stableEvents: number;
  stableTrials: number;
}

/**
 * Adds one batch to a two-sample mixture: for each alternative log-odds-ratio in `grid`, the log
 * of the conditional likelihood ratio against `logPsi0`. A batch without events in both versions,
 * or without trials in one of them, carries no information about ψ and leaves the state alone.
 */
export function twoSampleUpdate(logRatios: readonly number[], grid: readonly number[], logPsi0: number, b: TwoSampleBatch): number[] {
  checkBatch(b.candidateEvents, b.candidateTrials);
  checkBatch(b.stableEvents, b.stableTrials);
  const k = b.candidateEvents + b.stableEvents;
  if (k === 0 || b.candidateTrials === 0 || b.stableTrials === 0) return [...logRatios];
  const z0 = fnchLogNormaliser(b.candidateTrials, b.stableTrials, k, logPsi0);
  return logRatios.map((lr, i) => {
    const g = grid[i]!;
    return lr + b.candidateEvents * (g - logPsi0) - (fnchLogNormaliser(b.candidateTrials, b.stableTrials, k, g) - z0);
  });
}

/** Adds one batch (events out of trials) to a one-sample mixture: alternatives `grid` (rates) against the boundary rate p0. */
export function oneSampleUpdate(logRatios: readonly number[], grid: readonly number[], p0: number, events: number, trials: number): number[] {
  checkBatch(events, trials);
  if (!(p0 > 0 && p0 < 1)) throw new RangeError(`boundary rate must be in (0, 1) (got ${p0})`);
  if (trials === 0) return [...logRatios];
  const misses = trials - events;
  return logRatios.map((lr, i) => {
    const p1 = grid[i]!;
    const hit = events === 0 ? 0 : events * Math.log(p1 / p0);
    const miss = misses === 0 ? 0 : misses * Math.log1p(-p1) - misses * Math.log1p(-p0);
    return lr + hit + miss;
  });
}

/** log E for an equally weighted mixture of the components' log-ratios. */
export function mixtureLogE(logRatios: readonly number[]): number {
  if (logRatios.length === 0) return 0;
  return logSumExp(logRatios) - Math.log(logRatios.length);
}

function checkBatch(events: number, trials: number): void {
  if (!(Number.isInteger(events) && Number.isInteger(trials) && events >= 0 && trials >= events)) {
    throw new RangeError(`a batch needs integer counts with 0 ≤ events ≤ trials (got ${events}/${trials})`);
  }
}
