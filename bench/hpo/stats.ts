/** Order statistics for the benchmark tables (linear interpolation, as numpy's default). */

export function quantile(values: readonly number[], q: number): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const rank = q * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return lo === hi ? v[lo] : v[lo] + (v[hi] - v[lo]) * (rank - lo);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

export interface Summary {
  median: number;
  q25: number;
  q75: number;
}

export function summarize(values: readonly number[]): Summary {
  return { median: median(values), q25: quantile(values, 0.25), q75: quantile(values, 0.75) };
}
