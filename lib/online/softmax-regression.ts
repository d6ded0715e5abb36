/**
 * Multiclass logistic (softmax) regression by per-sample SGD with an intercept per class: the
 * online counterpart of the batch model in lib/models, and warm-startable from its parameters so
 * a deployed batch model can keep learning from feedback instead of starting from zero.
 *
 * River's `linear_model.SoftmaxRegression` has no intercept and discovers classes as they arrive;
 * this one knows its classes up front (its output has a fixed shape) and so is not bit-compatible
 * with River's. Use LogisticRegression for the River-exact binary case.
 */
import type { SoftmaxRegressionParams } from '../models/types';
import { RowKernelClassifier } from './classifier-base';
import {
  checkNonNegative,
  checkPositiveInt,
  checkSnapshot,
  type OnlineSnapshot,
} from './types';

export interface SoftmaxRegressionOptions {
  nFeatures: number;
  nClasses: number;
  learningRate?: number;
  interceptLearningRate?: number;
  l2?: number;
  /**
   * Fixed standardisation applied to every input, z = (x − mean) / scale. A warm start from a
   * batch model keeps the batch model's scaler so its weights stay meaningful.
   */
  standardize?: { mean: number[]; scale: number[] } | null;
}

export interface SoftmaxRegressionSnapshot extends OnlineSnapshot {
  kind: 'softmax-regression';
  version: 1;
  options: Required<SoftmaxRegressionOptions>;
  /** Row-major [nFeatures][nClasses], the batch params' layout. */
  weights: number[];
  bias: number[];
  classes: string[] | null;
}

export class OnlineSoftmaxRegression extends RowKernelClassifier {
  readonly nFeatures: number;
  readonly nClasses: number;
  readonly options: Readonly<Required<SoftmaxRegressionOptions>>;
  /** Row-major [nFeatures][nClasses]. */
  readonly weights: Float64Array;
  readonly bias: Float64Array;
  /** Labels of the class indices when warm-started from a batch model. */
  classes: string[] | null = null;
  private readonly shift: Float64Array | null;
  private readonly invScale: Float64Array | null;
  private readonly z: Float64Array;
  private readonly p: Float64Array;

  constructor(options: SoftmaxRegressionOptions) {
    super();
    const o: Required<SoftmaxRegressionOptions> = { learningRate: 0.01, interceptLearningRate: 0.01, l2: 0, standardize: null, ...options };
    checkPositiveInt('nFeatures', o.nFeatures);
    checkPositiveInt('nClasses', o.nClasses);
    if (o.nClasses < 2) throw new RangeError(`nClasses must be at least 2 (got ${o.nClasses})`);
    checkNonNegative('learningRate', o.learningRate);
    checkNonNegative('interceptLearningRate', o.interceptLearningRate);
    checkNonNegative('l2', o.l2);
    this.options = Object.freeze(o);
    this.nFeatures = o.nFeatures;
    this.nClasses = o.nClasses;
    this.weights = new Float64Array(o.nFeatures * o.nClasses);
    this.bias = new Float64Array(o.nClasses);
    this.z = new Float64Array(o.nFeatures);
    this.p = new Float64Array(o.nClasses);
    if (o.standardize) {
      const { mean, scale } = o.standardize;
      if (mean.length !== o.nFeatures || scale.length !== o.nFeatures) throw new RangeError('standardize.mean and .scale need nFeatures entries');
      if (scale.some((s) => !(s > 0 && Number.isFinite(s)))) throw new RangeError('standardize.scale entries must be positive and finite');
      this.shift = Float64Array.from(mean);
      this.invScale = Float64Array.from(scale, (s) => 1 / s);
    } else {
      this.shift = null;
      this.invScale = null;
    }
  }

  /** Fills this.p with the class probabilities and this.z with the (standardised) input. */
  private forward(X: Float64Array, o: number): void {
    const { nFeatures: d, nClasses: C, weights: w, z, p } = this;
    if (this.shift) {
      const m = this.shift;
      const s = this.invScale as Float64Array;
      for (let j = 0; j < d; j++) z[j] = (X[o + j] - m[j]) * s[j];
    } else {
      for (let j = 0; j < d; j++) z[j] = X[o + j];
    }
    for (let c = 0; c < C; c++) p[c] = this.bias[c];
    for (let j = 0; j < d; j++) {
      const zj = z[j];
      if (zj === 0) continue;
      const row = j * C;
      for (let c = 0; c < C; c++) p[c] += zj * w[row + c];
    }
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (p[c] > max) max = p[c];
    let sum = 0;
    for (let c = 0; c < C; c++) {
      p[c] = Math.exp(p[c] - max);
      sum += p[c];
    }
    for (let c = 0; c < C; c++) p[c] /= sum;
  }

  learnRow(X: Float64Array, o: number, y: number): void {
    this.forward(X, o);
    const { nFeatures: d, nClasses: C, weights: w, z, p } = this;
    const lr = this.options.learningRate;
    const l2 = this.options.l2;
    const blr = this.options.interceptLearningRate;
    // d(cross-entropy)/d(logit_c) = p_c − [c = y]
    p[y] -= 1;
    for (let c = 0; c < C; c++) this.bias[c] -= blr * p[c];
    for (let j = 0; j < d; j++) {
      const zj = z[j];
      const row = j * C;
      if (l2 === 0) {
        if (zj === 0) continue;
        for (let c = 0; c < C; c++) w[row + c] -= lr * zj * p[c];
      } else {
        for (let c = 0; c < C; c++) w[row + c] -= lr * (zj * p[c] + l2 * w[row + c]);
      }
    }
  }

  predictProbaRow(X: Float64Array, o: number, out: Float64Array, outOffset: number): void {
    this.forward(X, o);
    out.set(this.p, outOffset);
  }

  predictRow(X: Float64Array, o: number): number {
    this.forward(X, o);
    const p = this.p;
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
    return best;
  }

  clone(): OnlineSoftmaxRegression {
    const m = new OnlineSoftmaxRegression(this.options);
    m.classes = this.classes && [...this.classes];
    return m;
  }

  /** Back to the batch model's parameter format, e.g. to export a refreshed model to ONNX. */
  toParams(): SoftmaxRegressionParams {
    const d = this.nFeatures;
    return {
      family: 'softmax-regression',
      nFeatures: d,
      classes: this.classes ? [...this.classes] : Array.from({ length: this.nClasses }, (_, c) => String(c)),
      mean: this.options.standardize ? [...this.options.standardize.mean] : new Array<number>(d).fill(0),
      scale: this.options.standardize ? [...this.options.standardize.scale] : new Array<number>(d).fill(1),
      weights: Array.from(this.weights),
      bias: Array.from(this.bias),
    };
  }

  toJSON(): SoftmaxRegressionSnapshot {
    return {
      kind: 'softmax-regression',
      version: 1,
      options: { ...this.options },
      weights: Array.from(this.weights),
      bias: Array.from(this.bias),
      classes: this.classes && [...this.classes],
    };
  }

  static fromJSON(s: SoftmaxRegressionSnapshot): OnlineSoftmaxRegression {
    checkSnapshot(s, 'softmax-regression', 1);
    const m = new OnlineSoftmaxRegression(s.options);
    if (s.weights.length !== m.weights.length || s.bias.length !== m.nClasses) throw new Error('snapshot weights do not match nFeatures × nClasses');
    m.weights.set(s.weights);
    m.bias.set(s.bias);
    m.classes = s.classes && [...s.classes];
    return m;
  }
}

/**
 * Warm start from a batch-trained model: same predictions as the batch model from the first
 * sample, then per-sample SGD on the batch model's standardised scale. Class index i is
 * params.classes[i].
 */
export function fromSoftmaxRegressionParams(
  params: SoftmaxRegressionParams,
  options: Omit<SoftmaxRegressionOptions, 'nFeatures' | 'nClasses' | 'standardize'> = {},
): OnlineSoftmaxRegression {
  const d = params.nFeatures;
  const C = params.classes.length;
  if (params.weights.length !== d * C || params.bias.length !== C) throw new RangeError('params.weights/bias do not match nFeatures × classes');
  const m = new OnlineSoftmaxRegression({ ...options, nFeatures: d, nClasses: C, standardize: { mean: [...params.mean], scale: [...params.scale] } });
  m.weights.set(params.weights);
  m.bias.set(params.bias);
  m.classes = [...params.classes];
  return m;
}
