/**
 * Two-sample Kolmogorov–Smirnov test for feature drift: a window of live values against a
 * reference window. The statistic equals scipy's `ks_2samp`; the p-value is Kolmogorov's limiting
 * distribution at sqrt(n·m/(n+m))·D (scipy's `kstwobign.sf`). scipy's `method="asymp"` instead
 * evaluates the finite-n one-sample distribution at n = round(n·m/(n+m)), which is slightly less
 * conservative (0.000187 against our 0.000213 at D = 0.163, n = 400, m = 300).
 */

export interface KsResult {
  /** sup |F_a − F_b| over all values. */
  statistic: number;
  /** Asymptotic two-sided p-value: Kolmogorov's survival function at sqrt(n·m/(n+m))·D. */
  pvalue: number;
  nA: number;
  nB: number;
}

/** Does not modify its inputs. NaNs are rejected: where they would sort is arbitrary. */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) throw new RangeError('ksTwoSample needs two non-empty samples');
  const sa = sortedCopy(a, 'a');
  const sb = sortedCopy(b, 'b');
  // Walk both sorted samples, stepping past every copy of the smallest pending value at once so
  // tied values (discrete features) move both ECDFs before the gap is measured.
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = sa[i] <= sb[j] ? sa[i] : sb[j];
    while (i < n && sa[i] === v) i++;
    while (j < m && sb[j] === v) j++;
    const gap = Math.abs(i / n - j / m);
    if (gap > d) d = gap;
  }
  const en = (n * m) / (n + m);
  return { statistic: d, pvalue: kolmogorovSf(Math.sqrt(en) * d), nA: n, nB: m };
}

function sortedCopy(x: ArrayLike<number>, name: string): Float64Array {
  const s = Float64Array.from(x as ArrayLike<number>);
  for (let i = 0; i < s.length; i++) if (Number.isNaN(s[i])) throw new RangeError(`sample ${name} contains NaN at ${i}`);
  return s.sort();
}

/**
 * P(K > x) for Kolmogorov's limiting distribution (scipy's `kstwobign.sf`). The alternating
 * series converges fast for large x; for small x it cancels badly, so there the complement is
 * taken from Jacobi's theta-transformed series of the CDF, which converges fast for small x.
 */
export function kolmogorovSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x < 1) {
    // CDF = sqrt(2π)/x · Σ_{k≥1} exp(−(2k−1)²π²/(8x²))
    const w = (Math.PI * Math.PI) / (8 * x * x);
    let s = 0;
    for (let k = 1; k < 20; k++) {
      const t = Math.exp(-(2 * k - 1) * (2 * k - 1) * w);
      s += t;
      if (t < 1e-17 * s) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / x) * s;
  }
  // SF = 2 Σ_{k≥1} (−1)^{k−1} exp(−2k²x²)
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const t = Math.exp(-2 * k * k * x * x);
    s += k % 2 === 1 ? t : -t;
    if (t < 1e-17 * Math.abs(s) || t === 0) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}
