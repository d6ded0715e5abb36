/**
 * Multinomial logistic (softmax) regression trained by minibatch SGD with L2 — Flywheel's first
 * model family. Pure and deterministic: the same data, hyperparameters and seed give the same
 * bits, which is what lets a Temporal activity retry from a checkpoint and still produce the
 * model an uninterrupted run would have.
 */
import { deriveSeed } from '../random';
import { ShuffledRows } from './shuffled-rows';
import type { Dataset } from '../data/table';
import type { SoftmaxRegressionParams } from './types';

export interface SoftmaxRegressionHyperparameters {
  learningRate: number;
  /** L2 penalty: the objective is mean log loss + l2/2 · ||W||² (bias not penalised), as in scikit-learn's alpha. */
  l2: number;
  epochs: number;
  batchSize: number;
  seed: number;
}

/** Loss became NaN/Infinity: the learning rate is too high for this data. Retrying cannot help. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

// Below this the lazily-applied L2 factor is folded into the weights, long before it could
// underflow or make lr/wScale overflow.
const MIN_WEIGHT_SCALE = 1e-9;

export class SoftmaxRegression {
  readonly nClasses: number;
  private readonly mean: Float64Array;
  private readonly scale: Float64Array;
  /** 1/scale: training multiplies, as divisions would dominate the per-sample cost. */
  private readonly invScale: Float64Array;
  private scalerSet = false;
  /**
   * Class-major [C][d] (the params format is [d][C]) so dot products and updates run along
   * contiguous rows. During a pass the true weights are wScale·w (see the kernels); between
   * passes wScale is folded in, so w alone is the model.
   */
  private readonly w: Float64Array;
  private readonly b: Float64Array;
  private readonly p: Float64Array;
  private readonly gradW: Float64Array;
  private readonly gradB: Float64Array;
  private rows: ShuffledRows | undefined;

  private constructor(
    readonly nFeatures: number,
    readonly classes: readonly string[],
    readonly hp: SoftmaxRegressionHyperparameters,
  ) {
    checkHyperparameters(hp);
    if (!Number.isInteger(nFeatures) || nFeatures < 1) throw new RangeError(`nFeatures must be a positive integer (got ${nFeatures})`);
    if (classes.length < 2) throw new RangeError(`softmax regression needs at least two classes (got ${classes.length})`);
    const d = nFeatures;
    const C = classes.length;
    this.nClasses = C;
    this.mean = new Float64Array(d);
    this.scale = new Float64Array(d).fill(1);
    this.invScale = new Float64Array(d).fill(1);
    this.w = new Float64Array(C * d);
    this.b = new Float64Array(C);
    this.p = new Float64Array(C + 1);
    this.gradW = new Float64Array(C * d);
    this.gradB = new Float64Array(C);
  }

  /** Zero weights: the problem is convex, so no random init is needed and none can vary. */
  static create(nFeatures: number, classes: readonly string[], hp: SoftmaxRegressionHyperparameters): SoftmaxRegression {
    return new SoftmaxRegression(nFeatures, classes.slice(), hp);
  }

  static fromParams(p: SoftmaxRegressionParams, hp: SoftmaxRegressionHyperparameters): SoftmaxRegression {
    checkParams(p);
    const m = new SoftmaxRegression(p.nFeatures, p.classes.slice(), hp);
    const d = p.nFeatures;
    const C = p.classes.length;
    for (let j = 0; j < d; j++) {
      m.mean[j] = p.mean[j];
      m.scale[j] = p.scale[j];
      m.invScale[j] = 1 / p.scale[j];
      for (let c = 0; c < C; c++) m.w[c * d + j] = p.weights[j * C + c];
    }
    m.b.set(p.bias);
    m.scalerSet = true;
    return m;
  }

  /**
   * Learns per-feature mean and standard deviation from the first n rows, once: refitting later
   * would silently change what the trained weights mean. Constant columns get scale 1 (and a mean
   * equal to the constant), so they standardise to exactly 0 instead of dividing by ~0.
   */
  fitScaler(x: Float64Array, n: number): void {
    if (this.scalerSet) throw new Error('the scaler is already set: it is learnt once, before training');
    const d = this.nFeatures;
    checkRows(x, n, d);
    if (n < 1) throw new RangeError('fitScaler needs at least one row');
    const sum = new Float64Array(d);
    const min = new Float64Array(d).fill(Infinity);
    const max = new Float64Array(d).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      for (let j = 0; j < d; j++) {
        const v = x[off + j];
        sum[j] += v;
        if (v < min[j]) min[j] = v;
        if (v > max[j]) max[j] = v;
      }
    }
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(sum[j])) throw new RangeError(`feature ${j} has non-finite values`);
      this.mean[j] = sum[j] / n;
    }
    // Two passes: the one-pass formula E[x²]−E[x]² cancels catastrophically for large means.
    const ss = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      for (let j = 0; j < d; j++) {
        const dv = x[off + j] - this.mean[j];
        ss[j] += dv * dv;
      }
    }
    for (let j = 0; j < d; j++) {
      const sd = Math.sqrt(ss[j] / n);
      if (min[j] === max[j] || !(sd > 0)) {
        this.mean[j] = min[j];
        this.scale[j] = 1;
      } else {
        this.scale[j] = sd;
      }
      this.invScale[j] = 1 / this.scale[j];
    }
    this.scalerSet = true;
  }

  /**
   * One pass of minibatch SGD over the first n rows, in a uniformly random order that depends
   * only on (hp.seed, epoch). Returns the mean log loss of the rows, each measured just before the
   * step that used it (progressive validation: free to compute). Works on a fresh model once the
   * scaler is set, or on a trained one, which makes it the entry point for online updates.
   */
  partialFit(x: Float64Array, y: Int32Array, n: number, epoch = 0): number {
    if (!this.scalerSet) throw new Error('call fitScaler (or start from params) before partialFit');
    const d = this.nFeatures;
    const C = this.nClasses;
    checkRows(x, n, d);
    if (y.length < n) throw new RangeError(`y has ${y.length} labels, expected at least ${n}`);
    for (let i = 0; i < n; i++) {
      if (!(y[i] >= 0 && y[i] < C)) throw new RangeError(`label index ${y[i]} at row ${i} is outside [0, ${C})`);
    }
    if (n === 0) return NaN;

    const { learningRate, l2, batchSize } = this.hp;
    // With two classes the softmax gradients of the two columns are exact negatives, so a model
    // that starts mirrored (W[:,0] = −W[:,1], b0 = −b1, as zero does) stays mirrored: one row of
    // weights and one exp per row suffice, and the mirror is written back after the pass.
    // Params that are not mirrored (made elsewhere) take the general path.
    const binary = C === 2 && isMirrored(this.w, this.b, d);
    const st: KernelState = {
      w: binary ? this.w.subarray(d) : this.w,
      b: this.b,
      d,
      C,
      lr: learningRate,
      decay: 1 - learningRate * l2,
      batchSize,
      wScale: 1,
      loss: 0,
      inBatch: 0,
      gradW: this.gradW,
      gradB: this.gradB,
      p: this.p,
    };
    st.gradW.fill(0);
    st.gradB.fill(0);
    const kernel = binary ? (batchSize === 1 ? binarySgd : binaryMinibatch) : batchSize === 1 ? softmaxSgd : softmaxMinibatch;
    this.rows ??= new ShuffledRows(d);
    this.rows.forEach(x, y, n, this.mean, this.invScale, deriveSeed(this.hp.seed, epoch), (z, labels, count) => kernel(z, labels, count, st));
    if (st.inBatch > 0) (binary ? applyBinaryBatch : applySoftmaxBatch)(st);

    // Fold the lazy scale back in at every pass boundary, so params taken here — and a model
    // rebuilt from them — continue bit-for-bit like the model that never stopped.
    const w = st.w;
    if (st.wScale !== 1) for (let k = 0; k < w.length; k++) w[k] *= st.wScale;
    if (binary) {
      for (let j = 0; j < d; j++) this.w[j] = -w[j];
      this.b[0] = -this.b[1];
    }
    return st.loss / n;
  }

  /** Row-major n × C probabilities, computed exactly as types.ts documents ((x − mean) / scale). */
  predictProba(x: Float64Array, n: number): Float64Array {
    const d = this.nFeatures;
    const C = this.nClasses;
    checkRows(x, n, d);
    const { w, b, mean, scale } = this;
    const z = new Float64Array(d);
    const out = new Float64Array(n * C);
    for (let i = 0; i < n; i++) {
      const off = i * d;
      for (let j = 0; j < d; j++) z[j] = (x[off + j] - mean[j]) / scale[j];
      const o = i * C;
      let max = -Infinity;
      for (let c = 0; c < C; c++) {
        const row = c * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += w[row + j] * z[j];
        const l = s + b[c];
        out[o + c] = l;
        if (l > max) max = l;
      }
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(out[o + c] - max);
        out[o + c] = e;
        sum += e;
      }
      for (let c = 0; c < C; c++) out[o + c] /= sum;
    }
    return out;
  }

  /** Most probable class index per row; ties go to the lower index. */
  predict(x: Float64Array, n: number): Int32Array {
    const C = this.nClasses;
    const p = this.predictProba(x, n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (p[i * C + c] > p[i * C + best]) best = c;
      out[i] = best;
    }
    return out;
  }

  toParams(): SoftmaxRegressionParams {
    const d = this.nFeatures;
    const C = this.nClasses;
    const weights = new Array<number>(d * C);
    for (let j = 0; j < d; j++) for (let c = 0; c < C; c++) weights[j * C + c] = this.w[c * d + j];
    return {
      family: 'softmax-regression',
      nFeatures: d,
      classes: this.classes.slice(),
      mean: Array.from(this.mean),
      scale: Array.from(this.scale),
      weights,
      bias: Array.from(this.b),
    };
  }
}

export interface EpochEvent {
  /** 1-based: the first epoch is 1, the last hp.epochs. */
  epoch: number;
  loss: number;
}

export interface TrainOptions {
  /**
   * Called after every epoch; `params()` gives the model at that point (to checkpoint), computed
   * only if called. Returning false stops training; the result then holds the epochs run so far.
   */
  onEpoch?(e: EpochEvent & { params(): SoftmaxRegressionParams }): void | false;
  /**
   * The 1-based epoch to run first (default 1). To resume from the params checkpointed after
   * epoch k, pass { startEpoch: k + 1, initial: params }.
   */
  startEpoch?: number;
  initial?: SoftmaxRegressionParams;
}

export interface TrainResult {
  params: SoftmaxRegressionParams;
  /** The epochs run by this call (not those before startEpoch). */
  epochs: EpochEvent[];
}

/**
 * Trains on the whole dataset (the caller passes the training split). Resuming gives bit-for-bit
 * the params of an uninterrupted run, because each epoch's shuffle depends only on (seed, epoch)
 * and the scaler travels inside the params.
 */
export function trainSoftmaxRegression(ds: Dataset, hp: SoftmaxRegressionHyperparameters, opts: TrainOptions = {}): TrainResult {
  const start = opts.startEpoch ?? 1;
  if (!Number.isInteger(start) || start < 1 || start > hp.epochs + 1) {
    throw new RangeError(`startEpoch must be an integer in [1, ${hp.epochs + 1}] (got ${start})`);
  }
  if (start > 1 && !opts.initial) throw new Error(`startEpoch ${start} needs the initial params checkpointed after epoch ${start - 1}`);

  let model: SoftmaxRegression;
  if (opts.initial) {
    const p = opts.initial;
    if (p.nFeatures !== ds.nFeatures || p.classes.length !== ds.classes.length || p.classes.some((c, k) => c !== ds.classes[k])) {
      throw new Error(
        `initial params (${p.nFeatures} features, classes ${p.classes.join(',')}) do not match the dataset (${ds.nFeatures} features, classes ${ds.classes.join(',')})`,
      );
    }
    model = SoftmaxRegression.fromParams(p, hp);
  } else {
    model = SoftmaxRegression.create(ds.nFeatures, ds.classes, hp);
    model.fitScaler(ds.x, ds.nRows);
  }

  const epochs: EpochEvent[] = [];
  const params = () => model.toParams();
  for (let epoch = start; epoch <= hp.epochs; epoch++) {
    const loss = model.partialFit(ds.x, ds.y, ds.nRows, epoch);
    if (!Number.isFinite(loss)) {
      throw new TrainingDivergedError(`training diverged in epoch ${epoch} (loss is ${loss}): lower learningRate (now ${hp.learningRate})`);
    }
    epochs.push({ epoch, loss });
    if (opts.onEpoch?.({ epoch, loss, params }) === false) break;
  }
  return { params: model.toParams(), epochs };
}

// ---- the hot loops: free functions over typed arrays, so V8 sees monomorphic element access ----
//
// Rows arrive already standardised (see ShuffledRows). True weights are wScale·w: L2 decay
// W ← (1 − lr·l2)·W is then one multiply on wScale instead of a pass over every weight (the trick
// scikit-learn's SGD uses too), and a gradient step moves w by lr·g·z / wScale.

interface KernelState {
  /** Class-major weights; for the binary kernels only the class-1 row. */
  w: Float64Array;
  b: Float64Array;
  d: number;
  C: number;
  lr: number;
  decay: number;
  batchSize: number;
  wScale: number;
  loss: number;
  /** Rows accumulated into gradW/gradB since the last step (batches span bucket boundaries). */
  inBatch: number;
  gradW: Float64Array;
  gradB: Float64Array;
  /** Per-class probabilities of the current row, then (at index C) its softmax normaliser. */
  p: Float64Array;
}

/**
 * A row's log loss is log(normaliser) − (logit − max). Summing logs per row costs a Math.log
 * (~20 ns, as much as the rest of a two-class step), so the normalisers are multiplied instead
 * and the product's log taken when it nears overflow and at the end of each block. Each factor is
 * in [1, C]; the product's rounding error stays ~1e-16 relative per factor — far below anything
 * a loss curve shows.
 */
const FLUSH_PRODUCT_ABOVE = 1e280;

/** One L2 decay step on the lazy scale; folds it into w before it gets small enough to hurt precision. */
function decayScale(w: Float64Array, ws: number, factor: number): number {
  if (factor === 1) return ws;
  const next = ws * factor;
  if (next > MIN_WEIGHT_SCALE) return next;
  for (let k = 0; k < w.length; k++) w[k] *= next;
  return 1;
}

/**
 * Softmax probabilities of row r into p[0..C) (max logit subtracted before exp, so nothing
 * overflows) and their normaliser into p[C]; returns max − logit[label], so that
 * −log p[label] = log p[C] + the returned value.
 */
function softmaxForward(z: Float64Array, r: number, label: number, st: KernelState, ws: number): number {
  const { w, b, d, C, p } = st;
  const off = r * d;
  let max = -Infinity;
  for (let c = 0; c < C; c++) {
    const row = c * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += w[row + j] * z[off + j];
    const l = ws * s + b[c];
    p[c] = l;
    if (l > max) max = l;
  }
  const shiftedLabelLogit = p[label] - max;
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp(p[c] - max);
    p[c] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let c = 0; c < C; c++) p[c] *= inv;
  p[C] = sum;
  return -shiftedLabelLogit;
}

function softmaxSgd(z: Float64Array, labels: Int32Array, count: number, st: KernelState): void {
  const { w, b, d, C, lr, decay, p } = st;
  let ws = st.wScale;
  let loss = 0;
  let product = 1;
  for (let r = 0; r < count; r++) {
    const label = labels[r];
    loss += softmaxForward(z, r, label, st, ws);
    product *= p[C];
    if (product > FLUSH_PRODUCT_ABOVE) {
      loss += Math.log(product);
      product = 1;
    }
    ws = decayScale(w, ws, decay);
    const step = lr / ws;
    const off = r * d;
    for (let c = 0; c < C; c++) {
      const g = c === label ? p[c] - 1 : p[c];
      b[c] -= lr * g;
      const k = step * g;
      const row = c * d;
      for (let j = 0; j < d; j++) w[row + j] -= k * z[off + j];
    }
  }
  st.wScale = ws;
  st.loss += loss + Math.log(product);
}

function softmaxMinibatch(z: Float64Array, labels: Int32Array, count: number, st: KernelState): void {
  const { d, C, batchSize, gradW, gradB, p } = st;
  let loss = 0;
  let product = 1;
  for (let r = 0; r < count; r++) {
    const label = labels[r];
    loss += softmaxForward(z, r, label, st, st.wScale);
    product *= p[C];
    if (product > FLUSH_PRODUCT_ABOVE) {
      loss += Math.log(product);
      product = 1;
    }
    const off = r * d;
    for (let c = 0; c < C; c++) {
      const g = c === label ? p[c] - 1 : p[c];
      gradB[c] += g;
      const row = c * d;
      for (let j = 0; j < d; j++) gradW[row + j] += g * z[off + j];
    }
    if (++st.inBatch === batchSize) applySoftmaxBatch(st);
  }
  st.loss += loss + Math.log(product);
}

/** A step along the batch's mean gradient, so the learning rate means the same at any batch size. */
function applySoftmaxBatch(st: KernelState): void {
  const { w, b, C, gradW, gradB } = st;
  const lrMean = st.lr / st.inBatch;
  st.wScale = decayScale(w, st.wScale, st.decay);
  const k = lrMean / st.wScale;
  for (let q = 0; q < gradW.length; q++) {
    w[q] -= k * gradW[q];
    gradW[q] = 0;
  }
  for (let c = 0; c < C; c++) {
    b[c] -= lrMean * gradB[c];
    gradB[c] = 0;
  }
  st.inBatch = 0;
}

/**
 * With W[:,0] = −W[:,1] = −v and b0 = −b1, the logit gap is t = 2(v·z + b1) and p1 = σ(t): one
 * exp per row instead of a full softmax. Sets p[1] and, as softmaxForward does, the normaliser
 * p[2] = 1 + e^−|t|; returns the rest of the log loss, max(0, ∓t).
 */
function binaryForward(z: Float64Array, off: number, label: number, v: Float64Array, d: number, ws: number, b1: number, p: Float64Array): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += v[j] * z[off + j];
  const t = 2 * (ws * s + b1);
  const e = Math.exp(-Math.abs(t));
  const normaliser = 1 + e;
  p[1] = t >= 0 ? 1 / normaliser : e / normaliser;
  p[2] = normaliser;
  const margin = label === 1 ? -t : t;
  return margin > 0 ? margin : 0;
}

function binarySgd(z: Float64Array, labels: Int32Array, count: number, st: KernelState): void {
  const { w: v, b, d, lr, decay, p } = st;
  let ws = st.wScale;
  let b1 = b[1];
  let loss = 0;
  let product = 1;
  for (let r = 0; r < count; r++) {
    const label = labels[r];
    const off = r * d;
    loss += binaryForward(z, off, label, v, d, ws, b1, p);
    product *= p[2];
    if (product > FLUSH_PRODUCT_ABOVE) {
      loss += Math.log(product);
      product = 1;
    }
    const g = p[1] - label;
    b1 -= lr * g;
    ws = decayScale(v, ws, decay);
    const k = (lr / ws) * g;
    for (let j = 0; j < d; j++) v[j] -= k * z[off + j];
  }
  b[1] = b1;
  st.wScale = ws;
  st.loss += loss + Math.log(product);
}

function binaryMinibatch(z: Float64Array, labels: Int32Array, count: number, st: KernelState): void {
  const { w: v, b, d, batchSize, gradW, gradB, p } = st;
  let loss = 0;
  let product = 1;
  for (let r = 0; r < count; r++) {
    const label = labels[r];
    const off = r * d;
    loss += binaryForward(z, off, label, v, d, st.wScale, b[1], p);
    product *= p[2];
    if (product > FLUSH_PRODUCT_ABOVE) {
      loss += Math.log(product);
      product = 1;
    }
    const g = p[1] - label;
    gradB[1] += g;
    for (let j = 0; j < d; j++) gradW[j] += g * z[off + j];
    if (++st.inBatch === batchSize) applyBinaryBatch(st);
  }
  st.loss += loss + Math.log(product);
}

function applyBinaryBatch(st: KernelState): void {
  const { w: v, b, d, gradW, gradB } = st;
  const lrMean = st.lr / st.inBatch;
  st.wScale = decayScale(v, st.wScale, st.decay);
  const k = lrMean / st.wScale;
  for (let j = 0; j < d; j++) {
    v[j] -= k * gradW[j];
    gradW[j] = 0;
  }
  b[1] -= lrMean * gradB[1];
  gradB[1] = 0;
  st.inBatch = 0;
}

function isMirrored(w: Float64Array, b: Float64Array, d: number): boolean {
  if (b[0] !== -b[1]) return false;
  for (let j = 0; j < d; j++) if (w[j] !== -w[d + j]) return false;
  return true;
}

function checkRows(x: Float64Array, n: number, d: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`row count must be a non-negative integer (got ${n})`);
  if (x.length < n * d) throw new RangeError(`x has ${x.length} values, expected at least ${n} rows × ${d} features`);
}

function checkHyperparameters(hp: SoftmaxRegressionHyperparameters): void {
  const { learningRate, l2, epochs, batchSize, seed } = hp;
  if (!(Number.isFinite(learningRate) && learningRate > 0)) throw new RangeError(`learningRate must be > 0 (got ${learningRate})`);
  if (!(Number.isFinite(l2) && l2 >= 0)) throw new RangeError(`l2 must be >= 0 (got ${l2})`);
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be a positive integer (got ${epochs})`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer (got ${batchSize})`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer (got ${seed})`);
}

function checkParams(p: SoftmaxRegressionParams): void {
  const bad = (why: string) => new Error(`invalid softmax-regression params: ${why}`);
  if (p.family !== 'softmax-regression') throw bad(`family is "${p.family}"`);
  const d = p.nFeatures;
  const C = p.classes?.length ?? 0;
  if (!Number.isInteger(d) || d < 1) throw bad(`nFeatures is ${d}`);
  if (C < 2) throw bad(`${C} classes`);
  const shapes: [string, number[], number][] = [
    ['mean', p.mean, d],
    ['scale', p.scale, d],
    ['weights', p.weights, d * C],
    ['bias', p.bias, C],
  ];
  for (const [name, arr, len] of shapes) {
    if (!Array.isArray(arr) || arr.length !== len) throw bad(`${name} has ${arr?.length} values, expected ${len}`);
    if (!arr.every(Number.isFinite)) throw bad(`${name} has a non-finite value`);
  }
  if (!p.scale.every((s) => s > 0)) throw bad('scale has a value <= 0');
}
