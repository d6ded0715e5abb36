/**
 * What every learner here shares: the one-sample API (learnOne/predictProbaOne/predictOne) is the
 * row kernels applied to a single row, checked. A learner writes its kernels and snapshot only.
 */
import { asFloat64, checkSample, type FastOnlineClassifier, type Features, type OnlineSnapshot } from './types';

export abstract class RowKernelClassifier implements FastOnlineClassifier {
  abstract readonly nFeatures: number;
  abstract readonly nClasses: number;
  abstract learnRow(X: Float64Array, offset: number, y: number): void;
  abstract predictRow(X: Float64Array, offset: number): number;
  abstract predictProbaRow(X: Float64Array, offset: number, out: Float64Array, outOffset: number): void;
  abstract toJSON(): OnlineSnapshot;
  abstract clone(): RowKernelClassifier;

  learnOne(x: Features, y: number): void {
    checkSample(this, x, y);
    this.learnRow(asFloat64(x), 0, y);
  }

  predictProbaOne(x: Features): Float64Array {
    checkSample(this, x);
    const out = new Float64Array(this.nClasses);
    this.predictProbaRow(asFloat64(x), 0, out, 0);
    return out;
  }

  predictOne(x: Features): number {
    checkSample(this, x);
    return this.predictRow(asFloat64(x), 0);
  }
}
