/**
 * Feature drift of served traffic against the champion's training data (issue 15): per feature,
 * PSI for how far the distribution moved and a two-sample KS test for whether that is more than
 * sampling noise. A feature is flagged only when both say so — PSI at or above its threshold (0.1) and
 * the KS p-value below alpha divided by the number of features (Bonferroni: one look at d features
 * must not give d chances of a false alarm) — and only with at least `minSample` served rows, since
 * PSI on a small window is biased upwards ((bins − 1)/n on average under no drift).
 */
import { psi, psiReference, type PsiReference } from './psi';
import { ksTwoSample } from './ks';

export interface FeatureDriftOptions {
  psiThreshold: number;
  /** Family-wise level of the KS tests over all features of one check. */
  ksAlpha: number;
  minSample: number;
  bins: number;
}

/**
 * PSI 0.1 (the conventional "moderate shift") with KS support: 0 false alarms over 1,000 checks of
 * a stationary stream, and faster than PSI 0.25 after a shift (docs/benchmarks.md, feature drift).
 */
export const FEATURE_DRIFT_DEFAULTS: FeatureDriftOptions = { psiThreshold: 0.1, ksAlpha: 0.001, minSample: 500, bins: 10 };

export interface FeatureScore {
  feature: number;
  name: string;
  psi: number;
  ks: number;
  pvalue: number;
  moved: boolean;
}

export interface FeatureDriftResult {
  /** false: fewer than minSample served rows, nothing was judged. */
  judged: boolean;
  nCurrent: number;
  scores: FeatureScore[];
  /** The flagged features, largest PSI first. */
  moved: FeatureScore[];
}

/** The training data's columns, binned once: every later check scores on the same grid. */
export class FeatureReference {
  private constructor(
    readonly names: string[],
    private readonly columns: Float64Array[],
    private readonly psiRefs: PsiReference[],
  ) {}

  static fromRows(x: ArrayLike<number>, nRows: number, nFeatures: number, names: string[], bins = FEATURE_DRIFT_DEFAULTS.bins): FeatureReference {
    if (nRows === 0) throw new RangeError('a feature reference needs training rows');
    const columns = Array.from({ length: nFeatures }, (_, j) => Float64Array.from({ length: nRows }, (_, i) => x[i * nFeatures + j]!));
    return new FeatureReference(names, columns, columns.map((c) => psiReference(c, { bins })));
  }

  get nFeatures(): number {
    return this.columns.length;
  }

  /** `current` row-major (m × nFeatures). */
  check(current: ArrayLike<number>, m: number, opts: FeatureDriftOptions = FEATURE_DRIFT_DEFAULTS): FeatureDriftResult {
    if (m < opts.minSample) return { judged: false, nCurrent: m, scores: [], moved: [] };
    const d = this.nFeatures;
    const alpha = opts.ksAlpha / d;
    const scores = this.columns.map((ref, j) => {
      const col = Float64Array.from({ length: m }, (_, i) => current[i * d + j]!);
      const p = psi(this.psiRefs[j]!, col).psi;
      const ks = ksTwoSample(ref, col);
      return { feature: j, name: this.names[j] ?? `x${j}`, psi: p, ks: ks.statistic, pvalue: ks.pvalue, moved: p >= opts.psiThreshold && ks.pvalue < alpha };
    });
    return { judged: true, nCurrent: m, scores, moved: scores.filter((s) => s.moved).sort((a, b) => b.psi - a.psi) };
  }
}
