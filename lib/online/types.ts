/**
 * The one interface every online learner here implements, after River's: learn from one sample,
 * predict one sample, snapshot. Samples are dense feature vectors of a fixed length and labels
 * are class indices, so a learner's state is a few typed arrays and a step costs nanoseconds.
 */

export type Features = Float64Array | readonly number[];

export interface OnlineClassifier {
  readonly nFeatures: number;
  readonly nClasses: number;
  /** One update from one labelled sample; y is a class index in [0, nClasses). */
  learnOne(x: Features, y: number): void;
  /** Class probabilities (length nClasses, summing to 1). A fresh array the caller may keep. */
  predictProbaOne(x: Features): Float64Array;
  /** The most probable class; ties go to the lower index, as River's max over its dict does. */
  predictOne(x: Features): number;
  /** A JSON-safe snapshot that `fromJSON` (./snapshot) turns back into an identical learner. */
  toJSON(): OnlineSnapshot;
  /** A fresh, untrained learner with the same hyperparameters (River's `clone`). */
  clone(): OnlineClassifier;
}

/**
 * Kernels over one row of a row-major matrix: the batch helpers and the ensembles use them to
 * skip the per-sample view or copy that learnOne(x) would need. Every learner here has them.
 */
export interface RowKernels {
  learnRow(X: Float64Array, offset: number, y: number): void;
  predictRow(X: Float64Array, offset: number): number;
  /** Writes nClasses probabilities to out[outOffset …]. */
  predictProbaRow(X: Float64Array, offset: number, out: Float64Array, outOffset: number): void;
}

export type FastOnlineClassifier = OnlineClassifier & RowKernels;

export interface OnlineSnapshot {
  kind: string;
  version: number;
  [key: string]: unknown;
}

export function hasRowKernels(m: OnlineClassifier): m is FastOnlineClassifier {
  return typeof (m as Partial<RowKernels>).learnRow === 'function';
}

export function checkSample(model: { nFeatures: number; nClasses: number }, x: Features, y?: number): void {
  if (x.length !== model.nFeatures) throw new RangeError(`expected ${model.nFeatures} features, got ${x.length}`);
  if (y !== undefined && !(Number.isInteger(y) && y >= 0 && y < model.nClasses)) {
    throw new RangeError(`label must be a class index in [0, ${model.nClasses}) (got ${y})`);
  }
}

export function checkPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer (got ${v})`);
}

export function checkNonNegative(name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a finite number ≥ 0 (got ${v})`);
}

export function checkSnapshot(s: OnlineSnapshot, kind: string, version: number): void {
  if (s.kind !== kind || s.version !== version) {
    throw new Error(`expected a ${kind} v${version} snapshot, got ${String(s.kind)} v${String(s.version)}`);
  }
}

/** The dense feature vector as a Float64Array, copying only when it is a plain array. */
export function asFloat64(x: Features): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

/** River's sigmoid: exactly 0 or 1 beyond ±30, where exp would otherwise round to them anyway. */
export function riverSigmoid(z: number): number {
  if (z < -30) return 0;
  if (z > 30) return 1;
  return 1 / (1 + Math.exp(-z));
}

/**
 * River's binary decision, p(1) > p(0) with p the sigmoid of the logit, without the exp: away
 * from 0 the logit's sign decides. Near 0, sigmoid rounds to exactly 0.5 for |z| below ~1e-17
 * (a tie, which River gives to class 0), so there the sigmoid itself is evaluated.
 */
export function predictFromLogit(z: number): number {
  if (z > 1e-6) return 1;
  if (z < -1e-6) return 0;
  return riverSigmoid(z) > 0.5 ? 1 : 0;
}
