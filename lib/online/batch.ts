/**
 * Many samples at once over a row-major Float64Array (n rows × nFeatures): the throughput path
 * for replaying logged feedback, where per-sample calls through learnOne would copy or view
 * every row.
 */
import { hasRowKernels, type OnlineClassifier } from './types';

export interface ProgressiveResult {
  n: number;
  correct: number;
  /** Accuracy of predictions made before each sample was learnt (test-then-train). */
  accuracy: number;
  /** Per-sample 0/1 errors, the stream a drift detector watches. */
  errors: Uint8Array;
}

function checkShape(model: OnlineClassifier, X: Float64Array, y?: ArrayLike<number>): number {
  const d = model.nFeatures;
  if (X.length % d !== 0) throw new RangeError(`X has ${X.length} values, not a multiple of nFeatures ${d}`);
  const n = X.length / d;
  if (y && y.length !== n) throw new RangeError(`X has ${n} rows but y has ${y.length} labels`);
  if (y) {
    for (let i = 0; i < n; i++) {
      const v = y[i];
      if (!(Number.isInteger(v) && v >= 0 && v < model.nClasses)) throw new RangeError(`label ${i} must be a class index in [0, ${model.nClasses}) (got ${v})`);
    }
  }
  return n;
}

/** Learns the rows in order, one SGD/PA step each: the same result as learnOne row by row. */
export function learnMany(model: OnlineClassifier, X: Float64Array, y: ArrayLike<number>): void {
  const n = checkShape(model, X, y);
  const d = model.nFeatures;
  if (hasRowKernels(model)) for (let i = 0; i < n; i++) model.learnRow(X, i * d, y[i]);
  else for (let i = 0; i < n; i++) model.learnOne(X.subarray(i * d, (i + 1) * d), y[i]);
}

export function predictMany(model: OnlineClassifier, X: Float64Array): Int32Array {
  const n = checkShape(model, X);
  const d = model.nFeatures;
  const out = new Int32Array(n);
  if (hasRowKernels(model)) for (let i = 0; i < n; i++) out[i] = model.predictRow(X, i * d);
  else for (let i = 0; i < n; i++) out[i] = model.predictOne(X.subarray(i * d, (i + 1) * d));
  return out;
}

/** Row-major n × nClasses. */
export function predictProbaMany(model: OnlineClassifier, X: Float64Array): Float64Array {
  const n = checkShape(model, X);
  const d = model.nFeatures;
  const C = model.nClasses;
  const out = new Float64Array(n * C);
  if (hasRowKernels(model)) for (let i = 0; i < n; i++) model.predictProbaRow(X, i * d, out, i * C);
  else for (let i = 0; i < n; i++) out.set(model.predictProbaOne(X.subarray(i * d, (i + 1) * d)), i * C);
  return out;
}

/**
 * Test-then-train over the rows (progressive validation): predict each sample, then learn it.
 * Every sample is scored by a model that has not seen it, so the accuracy is an honest estimate
 * without a holdout — the standard way to evaluate a learner on a stream.
 */
export function progressiveValidation(model: OnlineClassifier, X: Float64Array, y: ArrayLike<number>): ProgressiveResult {
  const n = checkShape(model, X, y);
  const d = model.nFeatures;
  const errors = new Uint8Array(n);
  let correct = 0;
  if (hasRowKernels(model)) {
    for (let i = 0; i < n; i++) {
      const o = i * d;
      const ok = model.predictRow(X, o) === y[i];
      if (ok) correct++;
      else errors[i] = 1;
      model.learnRow(X, o, y[i]);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = X.subarray(i * d, (i + 1) * d);
      const ok = model.predictOne(x) === y[i];
      if (ok) correct++;
      else errors[i] = 1;
      model.learnOne(x, y[i]);
    }
  }
  return { n, correct, accuracy: n === 0 ? NaN : correct / n, errors };
}
