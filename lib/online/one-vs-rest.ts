/**
 * One-vs-rest: multiclass from any binary learner (River's `multiclass.OneVsRestClassifier`).
 * Class c's learner sees y == c as positive; probabilities are the positives' scores normalised
 * to sum to 1. River creates a class's learner when the class first appears; here all exist from
 * the start (fixed output shape), which only differs while some class is still unseen.
 */
import { RowKernelClassifier } from './classifier-base';
import {
  checkPositiveInt,
  checkSnapshot,
  hasRowKernels,
  type FastOnlineClassifier,
  type OnlineClassifier,
  type OnlineSnapshot,
} from './types';

export interface OneVsRestSnapshot extends OnlineSnapshot {
  kind: 'one-vs-rest';
  version: 1;
  nClasses: number;
  models: OnlineSnapshot[];
}

export class OneVsRest extends RowKernelClassifier {
  readonly nFeatures: number;
  readonly nClasses: number;
  readonly models: FastOnlineClassifier[];
  private readonly two = new Float64Array(2);

  /** `base` is the untrained binary learner to copy, once per class. */
  constructor(base: OnlineClassifier, nClasses: number);
  constructor(models: OnlineClassifier[]);
  constructor(baseOrModels: OnlineClassifier | OnlineClassifier[], nClasses?: number) {
    super();
    if (!Array.isArray(baseOrModels)) checkPositiveInt('nClasses', nClasses ?? NaN);
    const models = Array.isArray(baseOrModels) ? baseOrModels : Array.from({ length: nClasses as number }, () => baseOrModels.clone());
    if (models.length < 2) throw new RangeError(`one-vs-rest needs at least 2 classes (got ${models.length})`);
    for (const m of models) {
      if (m.nClasses !== 2) throw new RangeError('one-vs-rest wraps binary learners');
      if (!hasRowKernels(m)) throw new TypeError('one-vs-rest needs learners with row kernels (every learner in lib/online has them)');
      if (m.nFeatures !== models[0].nFeatures) throw new RangeError('one-vs-rest learners disagree on nFeatures');
    }
    this.models = models as FastOnlineClassifier[];
    this.nClasses = models.length;
    this.nFeatures = models[0].nFeatures;
  }

  learnRow(X: Float64Array, o: number, y: number): void {
    for (let c = 0; c < this.models.length; c++) this.models[c].learnRow(X, o, c === y ? 1 : 0);
  }

  predictProbaRow(X: Float64Array, o: number, out: Float64Array, outOffset: number): void {
    const C = this.models.length;
    let total = 0;
    for (let c = 0; c < C; c++) {
      this.models[c].predictProbaRow(X, o, this.two, 0);
      out[outOffset + c] = this.two[1];
      total += this.two[1];
    }
    for (let c = 0; c < C; c++) out[outOffset + c] = total > 0 ? out[outOffset + c] / total : 1 / C;
  }

  predictRow(X: Float64Array, o: number): number {
    // Normalising does not change the argmax.
    let best = 0;
    let bestP = -1;
    for (let c = 0; c < this.models.length; c++) {
      this.models[c].predictProbaRow(X, o, this.two, 0);
      if (this.two[1] > bestP) {
        bestP = this.two[1];
        best = c;
      }
    }
    return best;
  }

  clone(): OneVsRest {
    return new OneVsRest(this.models.map((m) => m.clone()));
  }

  toJSON(): OneVsRestSnapshot {
    return { kind: 'one-vs-rest', version: 1, nClasses: this.nClasses, models: this.models.map((m) => m.toJSON()) };
  }

  static fromJSON(s: OneVsRestSnapshot, restore: (m: OnlineSnapshot) => OnlineClassifier): OneVsRest {
    checkSnapshot(s, 'one-vs-rest', 1);
    return new OneVsRest(s.models.map(restore));
  }
}
