/**
 * Binary logistic regression by plain SGD, River's `linear_model.LogisticRegression` with its
 * defaults (learning rate 0.01, intercept learning rate 0.01, no penalty, zero init, gradient
 * clip 1e12). The operation order is River's, so after the same samples the weights agree with
 * River's to rounding (see test/fixtures/river): a model prototyped in River carries over.
 */
import { BinaryLinearClassifier } from './binary-linear';
import { checkNonNegative, checkPositiveInt, checkSnapshot, type OnlineSnapshot } from './types';

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

export class LogisticRegression extends BinaryLinearClassifier {
  readonly options: Readonly<Required<LogisticRegressionOptions>>;
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
    super(o.nFeatures, o.interceptInit);
    this.options = Object.freeze(o);
    this.lr = o.learningRate;
    this.interceptLr = o.interceptLearningRate;
    this.l2 = o.l2;
    this.clip = o.clipGradient;
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

  clone(): LogisticRegression {
    return new LogisticRegression(this.options);
  }

  toJSON(): LogisticRegressionSnapshot {
    return { kind: 'logistic-regression', version: 1, options: { ...this.options }, weights: Array.from(this.weights), intercept: this.intercept };
  }

  static fromJSON(s: LogisticRegressionSnapshot): LogisticRegression {
    checkSnapshot(s, 'logistic-regression', 1);
    return new LogisticRegression(s.options).restore(s.weights, s.intercept);
  }
}
