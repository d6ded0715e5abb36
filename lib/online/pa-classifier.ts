/**
 * Passive-aggressive binary classifier (Crammer et al. 2006) as River's
 * `linear_model.PAClassifier`: hinge loss, C = 1, PA-I by default; mode 0 is plain PA and mode 2
 * PA-II. No learning rate: each step is the smallest change that fixes the margin (capped by C),
 * which is why it adapts to drift fast and needs no tuning beyond C.
 */
import {
  asFloat64,
  checkPositiveInt,
  checkSample,
  checkSnapshot,
  predictFromLogit,
  riverSigmoid,
  type Features,
  type FastOnlineClassifier,
  type OnlineSnapshot,
} from './types';

export type PaMode = 0 | 1 | 2;

export interface PaClassifierOptions {
  nFeatures: number;
  /** Aggressiveness: caps the step (PA-I) or softens it (PA-II). */
  C?: number;
  mode?: PaMode;
  learnIntercept?: boolean;
}

export interface PaClassifierSnapshot extends OnlineSnapshot {
  kind: 'pa-classifier';
  version: 1;
  options: Required<PaClassifierOptions>;
  weights: number[];
  intercept: number;
}

export class PaClassifier implements FastOnlineClassifier {
  readonly nFeatures: number;
  readonly nClasses = 2;
  readonly options: Readonly<Required<PaClassifierOptions>>;
  readonly weights: Float64Array;
  intercept = 0;
  private readonly C: number;
  private readonly mode: PaMode;
  private readonly learnIntercept: boolean;

  constructor(options: PaClassifierOptions) {
    const o: Required<PaClassifierOptions> = { C: 1.0, mode: 1, learnIntercept: true, ...options };
    checkPositiveInt('nFeatures', o.nFeatures);
    if (!(o.C > 0 && Number.isFinite(o.C))) throw new RangeError(`C must be a positive finite number (got ${o.C})`);
    if (o.mode !== 0 && o.mode !== 1 && o.mode !== 2) throw new RangeError(`mode must be 0, 1 or 2 (got ${String(o.mode)})`);
    this.options = Object.freeze(o);
    this.nFeatures = o.nFeatures;
    this.weights = new Float64Array(o.nFeatures);
    this.C = o.C;
    this.mode = o.mode;
    this.learnIntercept = o.learnIntercept;
  }

  decisionRow(X: Float64Array, o: number): number {
    const w = this.weights;
    let s = 0;
    for (let j = 0; j < w.length; j++) s += X[o + j] * w[j];
    return s + this.intercept;
  }

  learnRow(X: Float64Array, o: number, y: number): void {
    const w = this.weights;
    const d = w.length;
    const sign = y === 1 ? 1 : -1;
    const loss = Math.max(1 - sign * this.decisionRow(X, o), 0);
    let sq = 0;
    for (let j = 0; j < d; j++) sq += X[o + j] * X[o + j];
    // River squares numpy's norm rather than using the sum of squares: same value up to rounding,
    // and kept so our weights round the way River's do.
    const r = Math.sqrt(sq);
    const norm2 = r * r;
    let tau: number;
    if (this.mode === 1) tau = norm2 > 0 ? Math.min(this.C, loss / norm2) : 0;
    else if (this.mode === 0) tau = norm2 > 0 ? loss / norm2 : 0;
    else tau = loss / (norm2 + 0.5 / this.C);
    if (tau === 0) return;
    const step = tau * sign;
    for (let j = 0; j < d; j++) w[j] += step * X[o + j];
    if (this.learnIntercept) this.intercept += step;
  }

  predictRow(X: Float64Array, o: number): number {
    return predictFromLogit(this.decisionRow(X, o));
  }

  /** River's probabilities: the sigmoid of the margin, uncalibrated but monotone in it. */
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

  clone(): PaClassifier {
    return new PaClassifier(this.options);
  }

  toJSON(): PaClassifierSnapshot {
    return { kind: 'pa-classifier', version: 1, options: { ...this.options }, weights: Array.from(this.weights), intercept: this.intercept };
  }

  static fromJSON(s: PaClassifierSnapshot): PaClassifier {
    checkSnapshot(s, 'pa-classifier', 1);
    const m = new PaClassifier(s.options);
    if (s.weights.length !== m.nFeatures) throw new Error(`snapshot has ${s.weights.length} weights for ${m.nFeatures} features`);
    m.weights.set(s.weights);
    m.intercept = s.intercept;
    return m;
  }
}
