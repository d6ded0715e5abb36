/**
 * Passive-aggressive binary classifier (Crammer et al. 2006) as River's
 * `linear_model.PAClassifier`: hinge loss, C = 1, PA-I by default; mode 0 is plain PA and mode 2
 * PA-II. No learning rate: each step is the smallest change that fixes the margin (capped by C),
 * which is why it adapts to drift fast and needs no tuning beyond C.
 */
import { BinaryLinearClassifier } from './binary-linear';
import { checkPositiveInt, checkSnapshot, type OnlineSnapshot } from './types';

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

export class PaClassifier extends BinaryLinearClassifier {
  readonly options: Readonly<Required<PaClassifierOptions>>;
  private readonly C: number;
  private readonly mode: PaMode;
  private readonly learnIntercept: boolean;

  constructor(options: PaClassifierOptions) {
    const o: Required<PaClassifierOptions> = { C: 1.0, mode: 1, learnIntercept: true, ...options };
    checkPositiveInt('nFeatures', o.nFeatures);
    if (!(o.C > 0 && Number.isFinite(o.C))) throw new RangeError(`C must be a positive finite number (got ${o.C})`);
    if (o.mode !== 0 && o.mode !== 1 && o.mode !== 2) throw new RangeError(`mode must be 0, 1 or 2 (got ${String(o.mode)})`);
    super(o.nFeatures);
    this.options = Object.freeze(o);
    this.C = o.C;
    this.mode = o.mode;
    this.learnIntercept = o.learnIntercept;
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

  clone(): PaClassifier {
    return new PaClassifier(this.options);
  }

  toJSON(): PaClassifierSnapshot {
    return { kind: 'pa-classifier', version: 1, options: { ...this.options }, weights: Array.from(this.weights), intercept: this.intercept };
  }

  static fromJSON(s: PaClassifierSnapshot): PaClassifier {
    checkSnapshot(s, 'pa-classifier', 1);
    return new PaClassifier(s.options).restore(s.weights, s.intercept);
  }
}
