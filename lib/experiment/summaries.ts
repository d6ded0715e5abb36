/** Raw per-arm sums → the mean/variance summaries the tests take (NaN for an empty arm stays in-process). */
import type { SampleSummary } from '../stats/tests';

export function summaryFromSums(n: number, sum: number, sumSquares: number): SampleSummary {
  if (n === 0) return { n: 0, mean: NaN, variance: NaN };
  const mean = sum / n;
  const variance = n > 1 ? Math.max(0, (sumSquares - n * mean * mean) / (n - 1)) : 0;
  return { n, mean, variance };
}

/** A proportion's variance is p(1 − p), the plug-in the mSPRT for proportions uses. */
export function proportionFromSums(n: number, successes: number): SampleSummary {
  if (n === 0) return { n: 0, mean: NaN, variance: NaN };
  const p = successes / n;
  return { n, mean: p, variance: p * (1 - p) };
}
