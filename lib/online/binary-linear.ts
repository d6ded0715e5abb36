/**
 * A binary linear model as River's linear learners see it: a logit w·x + b, class 1 when it is
 * positive, probabilities from River's sigmoid. Learners differ only in their update (learnRow).
 */
import { RowKernelClassifier } from './classifier-base';
import { predictFromLogit, riverSigmoid } from './types';

export abstract class BinaryLinearClassifier extends RowKernelClassifier {
  readonly nClasses = 2;
  readonly weights: Float64Array;
  intercept: number;

  constructor(
    readonly nFeatures: number,
    intercept = 0,
  ) {
    super();
    this.weights = new Float64Array(nFeatures);
    this.intercept = intercept;
  }

  /** The logit w·x + b. */
  decisionRow(X: Float64Array, o: number): number {
    const w = this.weights;
    let s = 0;
    for (let j = 0; j < w.length; j++) s += w[j] * X[o + j];
    return s + this.intercept;
  }

  predictRow(X: Float64Array, o: number): number {
    return predictFromLogit(this.decisionRow(X, o));
  }

  /** River's probabilities: the sigmoid of the logit (for PA, uncalibrated but monotone in the margin). */
  predictProbaRow(X: Float64Array, o: number, out: Float64Array, outOffset: number): void {
    const p = riverSigmoid(this.decisionRow(X, o));
    out[outOffset] = 1 - p;
    out[outOffset + 1] = p;
  }

  /** Restores weights and intercept from a snapshot, checking the length. */
  protected restore(weights: readonly number[], intercept: number): this {
    if (weights.length !== this.nFeatures) throw new Error(`snapshot has ${weights.length} weights for ${this.nFeatures} features`);
    this.weights.set(weights);
    this.intercept = intercept;
    return this;
  }
}
