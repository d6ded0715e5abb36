/**
 * Population stability index of a feature: fixed bins cut at the reference window's quantiles,
 * then Σ (p_cur − p_ref)·ln(p_cur / p_ref) over bins. Bins are frozen from the reference so that
 * successive live windows are scored on the same grid and their PSIs are comparable over time.
 *
 * Rule of thumb in credit scoring, where PSI comes from: < 0.1 stable, 0.1–0.25 moderate shift,
 * > 0.25 significant shift.
 */

export interface PsiReference {
  /**
   * Interior cut points, ascending and distinct; bin i holds (edges[i-1], edges[i]], the first
   * bin everything ≤ edges[0], the last everything > edges[last].
   */
  edges: number[];
  /** Reference proportion in each bin (edges.length + 1 of them). */
  proportions: number[];
  nReference: number;
}

export interface PsiResult {
  psi: number;
  /** Each bin's term of the sum: the bins that moved most are where to look. */
  contributions: number[];
  /** Proportions of the scored window in each bin. */
  proportions: number[];
}

export interface PsiOptions {
  /** Number of quantile bins wanted; fewer result when the reference has ties at cut points. */
  bins?: number;
}

/**
 * Proportions are floored at this before the log ratio: an empty bin would otherwise make the
 * PSI infinite, and one stray value in a bin would dominate any real shift.
 */
export const PSI_EPSILON = 1e-4;

export function psiReference(reference: ArrayLike<number>, options: PsiOptions = {}): PsiReference {
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`bins must be an integer ≥ 2 (got ${bins})`);
  const n = reference.length;
  if (n === 0) throw new RangeError('psiReference needs a non-empty reference window');
  const sorted = Float64Array.from(reference as ArrayLike<number>);
  for (let i = 0; i < n; i++) if (!Number.isFinite(sorted[i])) throw new RangeError(`reference value ${i} is not finite`);
  sorted.sort();
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    // The value at rank ceil(q·n/bins): with (lo, hi] bins that puts ≈ q/bins of the reference
    // at or below the cut, even for discrete features.
    const e = sorted[Math.min(n - 1, Math.max(0, Math.ceil((q * n) / bins) - 1))];
    // A cut at the maximum would leave its bin empty in the reference.
    if (e < sorted[n - 1] && (edges.length === 0 || e > edges[edges.length - 1])) edges.push(e);
  }
  return { edges, proportions: binProportions(edges, sorted), nReference: n };
}

export function psi(ref: PsiReference, current: ArrayLike<number>): PsiResult {
  if (current.length === 0) throw new RangeError('psi needs a non-empty window to score');
  const proportions = binProportions(ref.edges, current);
  const contributions = proportions.map((p, i) => {
    const a = Math.max(p, PSI_EPSILON);
    const e = Math.max(ref.proportions[i], PSI_EPSILON);
    return (a - e) * Math.log(a / e);
  });
  return { psi: contributions.reduce((s, c) => s + c, 0), contributions, proportions };
}

function binProportions(edges: number[], values: ArrayLike<number>): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) throw new RangeError(`value ${i} is NaN`);
    // First edge ≥ v: the bin (edges[b-1], edges[b]] that holds v.
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]++;
  }
  return counts.map((c) => c / values.length);
}
