/**
 * Binary logistic regression by plain SGD, River's `linear_model.LogisticRegression` with its
 * defaults (learning rate 0.01, intercept learning rate 0.01, no penalty, zero init, gradient
 * clip 1e12). The operation order is River's, so after the same samples the weights agree with
 * River's to rounding (see test/fixtures/river): a model prototyped in River carries over.
 */
import {
  asFloat64,
  checkNonNegative,
  checkPositiveInt,
  checkSample,
  checkSnapshot,
  predictFromLogit,
  riverSigmoid,
  type Features,
  type FastOnlineClassifier,
  type OnlineSnapshot,
} from './types';

export interface LogisticRegressionOptions {
  nFeatures: number;
  /** SGD step for the weights. */
  learningRate?: number;
  /** Step for the intercept; 0 freezes it at interceptInit. */
  interceptLearningRate?: number;
  interceptInit?: number;
  /** L2 penalty: adds l2·w to each weight's gradient. */
  l2?: number;
  /** Bound on |dloss/dlogit|. */
  clipGradient?: number;
}

export interface LogisticRegressionSnapshot extends OnlineSnapshot {
  kind: 'logistic-regression';
  version: 1;
  options: Required<LogisticRegressionOptions>;
  weights: number[];
  intercept: number;
}

export class LogisticRegression implements FastOnlineClassifier {
  readonly nFeatures: number;
  readonly nClasses = 2;
  readonly options: Readonly<Required<LogisticRegressionOptions>>;
  readonly weights: Float64Array;
  intercept: number;
  private readonly lr: number;
  private readonly interceptLr: number;
  private readonly l2: number;
  private readonly clip: number;

  constructor(options: LogisticRegressionOptions) {
    const o: Required<LogisticRegressionOptions> = {
      learningRate: 0.01,
      interceptLearningRate: 0.01,
      interceptInit: 0,
      l2: 0,
      clipGradient: 1e12,
      ...options,
    };
    checkPositiveInt('nFeatures', o.nFeatures);
    checkNonNegative('learningRate', o.learningRate);
    checkNonNegative('interceptLearningRate', o.interceptLearningRate);
    checkNonNegative('l2', o.l2);
    checkNonNegative('clipGradient', o.clipGradient);
    if (!Number.isFinite(o.interceptInit)) throw new RangeError(`interceptInit must be finite (got ${o.interceptInit})`);
    this.options = Object.freeze(o);
    this.nFeatures = o.nFeatures;
    this.weights = new Float64Array(o.nFeatures);
    this.intercept = o.interceptInit;
    this.lr = o.learningRate;
    this.interceptLr = o.interceptLearningRate;
    this.l2 = o.l2;
    this.clip = o.clipGradient;
  }

  /** The logit w·x + b. */
  decisionRow(X: Float64Array, o: number): number {
    const w = this.weights;
    let s = 0;
    for (let j = 0; j < w.length; j++) s += w[j] * X[o + j];
    return s + this.intercept;
  }

  learnRow(X: Float64Array, o: number, y: number): void {
    const w = this.weights;
    const d = w.length;
    const sign = y === 1 ? 1 : -1;
    const z = this.decisionRow(X, o) * sign;
    // River's Log loss: the asymptotes beyond |z| > 18 avoid exp overflow and keep the tails exact.
    let g = z > 18 ? Math.exp(-z) * -sign : z < -18 ? -sign : -sign / (Math.exp(z) + 1);
    if (g > this.clip) g = this.clip;
    else if (g < -this.clip) g = -this.clip;
    this.intercept -= this.interceptLr * g;
    const lr = this.lr;
    if (this.l2 === 0) {
      for (let j = 0; j < d; j++) w[j] -= lr * (X[o + j] * g);
    } else {
      const l2 = this.l2;
      for (let j = 0; j < d; j++) w[j] -= lr * (X[o + j] * g + l2 * w[j]);
    }
  }

  predictRow(X: Float64Array, o: number): number {
    return predictFromLogit(this.decisionRow(X, o));
  }

  predictProbaRow(X: Float64Array, o: number, out: Float64Array, outOffset: number): void {
    const p = riverSigmoid(this.decisionRow(X, o));
    out[outOffset] = 1 - p;
    out[outOffset + 1] = p;
  }

  learnOne(x: Features, y: number): void {
    checkSample(this, x, y);
    this.learnRow(asFloat64(x), 0, y);
  }

  predictProbaOne(x: Features): Float64Array {
    checkSample(this, x);
    const out = new Float64Array(2);
    this.predictProbaRow(asFloat64(x), 0, out, 0);
    return out;
  }

  predictOne(x: Features): number {
    checkSample(this, x);
    return this.predictRow(asFloat64(x), 0);
  }

  clone(): LogisticRegression {
    return new LogisticRegression(this.options);
  }

  toJSON(): LogisticRegressionSnapshot {
    return { kind: 'logistic-regression', version: 1, options: { ...this.options }, weights: Array.from(this.weights), intercept: this.intercept };
  }

  static fromJSON(s: LogisticRegressionSnapshot): LogisticRegression {
    checkSnapshot(s, 'logistic-regression', 1);
    const m = new LogisticRegression(s.options);
    if (s.weights.length !== m.nFeatures) throw new Error(`snapshot has ${s.weights.length} weights for ${m.nFeatures} features`);
    m.weights.set(s.weights);
    m.intercept = s.intercept;
    return m;
  }
}
