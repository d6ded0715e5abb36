/**
 * Online bagging (Oza & Russell 2001) as River's `ensemble.BaggingClassifier`: each member learns
 * each sample k ~ Poisson(1) times, which mimics bootstrap resampling of an infinite stream;
 * probabilities are the members' average. With `adwin: true` it is ADWIN bagging (Bifet et al.
 * 2009, River's `ADWINBaggingClassifier`): every member's error stream feeds its own ADWIN, and
 * when one detects a rise in error the member with the highest estimated error is replaced by a
 * fresh learner, so the ensemble forgets a stale concept one member at a time.
 *
 * Difference from River 0.26: River feeds its ADWINs `y_pred == y` (correctness) while comparing
 * and ranking them as errors, so it reacts to improvements and resets its best member. We feed
 * the error, as the paper and River's own LeveragingBaggingClassifier do.
 */
import { RowKernelClassifier } from './classifier-base';
import { Adwin, type AdwinSnapshot } from '../drift/adwin';
import { createRng, type Rng } from '../random';
import {
  checkPositiveInt,
  checkSnapshot,
  hasRowKernels,
  type FastOnlineClassifier,
  type OnlineClassifier,
  type OnlineSnapshot,
} from './types';

export interface BaggingOptions {
  nModels?: number;
  seed?: number;
  /** ADWIN bagging: reset the worst member when a member's error rate drifts up. */
  adwin?: boolean;
}

export interface BaggingSnapshot extends OnlineSnapshot {
  kind: 'bagging';
  version: 1;
  options: Required<BaggingOptions>;
  /** Uniforms drawn so far: the generator is replayed to here on restore. */
  draws: number;
  nResets: number;
  base: OnlineSnapshot;
  models: OnlineSnapshot[];
  detectors: AdwinSnapshot[] | null;
}

/** CDF of Poisson(1) at k = 0, 1, …: one uniform picks k by inversion, so draws stay countable. */
const POISSON1_CDF: Float64Array = (() => {
  const cdf: number[] = [];
  let p = Math.exp(-1);
  let s = 0;
  for (let k = 0; k < 24; k++) {
    s += p;
    cdf.push(s);
    p /= k + 1;
  }
  return Float64Array.from(cdf);
})();

export function poisson1(u: number): number {
  let k = 0;
  while (k < POISSON1_CDF.length && u >= POISSON1_CDF[k]) k++;
  return k;
}

export class BaggingClassifier extends RowKernelClassifier {
  readonly nFeatures: number;
  readonly nClasses: number;
  readonly options: Readonly<Required<BaggingOptions>>;
  readonly models: FastOnlineClassifier[];
  private readonly base: FastOnlineClassifier;
  private detectors: Adwin[] | null;
  private rng: Rng;
  private draws = 0;
  private resets = 0;
  /** Scratch: one member's probabilities, and the ensemble's for predictRow. */
  private readonly buf: Float64Array;
  private readonly acc: Float64Array;

  /** `base` is the untrained learner to copy; it is cloned, never trained itself. */
  constructor(base: OnlineClassifier, options: BaggingOptions = {}) {
    super();
    const o: Required<BaggingOptions> = { nModels: 10, seed: 0, adwin: false, ...options };
    checkPositiveInt('nModels', o.nModels);
    if (!Number.isSafeInteger(o.seed)) throw new RangeError(`seed must be a safe integer (got ${o.seed})`);
    if (!hasRowKernels(base)) throw new TypeError('bagging needs a learner with row kernels (every learner in lib/online has them)');
    this.options = Object.freeze(o);
    this.base = base.clone() as FastOnlineClassifier;
    this.nFeatures = base.nFeatures;
    this.nClasses = base.nClasses;
    this.models = Array.from({ length: o.nModels }, () => this.base.clone() as FastOnlineClassifier);
    this.detectors = o.adwin ? Array.from({ length: o.nModels }, () => new Adwin()) : null;
    this.rng = createRng(o.seed);
    this.buf = new Float64Array(this.nClasses);
    this.acc = new Float64Array(this.nClasses);
  }

  /** Members replaced after a drift (ADWIN bagging only). */
  get nResets(): number {
    return this.resets;
  }

  learnRow(X: Float64Array, o: number, y: number): void {
    const { models, detectors } = this;
    let change = false;
    for (let i = 0; i < models.length; i++) {
      const m = models[i];
      const k = poisson1(this.rng.next());
      for (let r = 0; r < k; r++) m.learnRow(X, o, y);
      if (detectors) {
        const a = detectors[i];
        const before = a.estimation;
        if (a.update(m.predictRow(X, o) === y ? 0 : 1).driftDetected && a.estimation > before) change = true;
      }
    }
    this.draws += models.length;
    if (change && detectors) {
      let worst = 0;
      for (let i = 1; i < detectors.length; i++) if (detectors[i].estimation > detectors[worst].estimation) worst = i;
      models[worst] = this.base.clone() as FastOnlineClassifier;
      detectors[worst] = new Adwin();
      this.resets++;
    }
  }

  predictProbaRow(X: Float64Array, o: number, out: Float64Array, outOffset: number): void {
    const C = this.nClasses;
    for (let c = 0; c < C; c++) out[outOffset + c] = 0;
    for (const m of this.models) {
      m.predictProbaRow(X, o, this.buf, 0);
      for (let c = 0; c < C; c++) out[outOffset + c] += this.buf[c];
    }
    for (let c = 0; c < C; c++) out[outOffset + c] /= this.models.length;
  }

  predictRow(X: Float64Array, o: number): number {
    const out = this.acc;
    this.predictProbaRow(X, o, out, 0);
    let best = 0;
    for (let c = 1; c < out.length; c++) if (out[c] > out[best]) best = c;
    return best;
  }

  clone(): BaggingClassifier {
    return new BaggingClassifier(this.base, this.options);
  }

  toJSON(): BaggingSnapshot {
    return {
      kind: 'bagging',
      version: 1,
      options: { ...this.options },
      draws: this.draws,
      nResets: this.resets,
      base: this.base.toJSON(),
      models: this.models.map((m) => m.toJSON()),
      detectors: this.detectors && this.detectors.map((a) => a.toJSON()),
    };
  }

  static fromJSON(s: BaggingSnapshot, restore: (m: OnlineSnapshot) => OnlineClassifier): BaggingClassifier {
    checkSnapshot(s, 'bagging', 1);
    if (s.models.length !== s.options.nModels) throw new Error(`bagging snapshot has ${s.models.length} members, options say ${s.options.nModels}`);
    const b = new BaggingClassifier(restore(s.base), s.options);
    s.models.forEach((m, i) => {
      b.models[i] = restore(m) as FastOnlineClassifier;
    });
    b.detectors = s.detectors && s.detectors.map((a) => Adwin.fromJSON(a));
    // xoshiro's state is not exported by lib/random; replaying the uniforms drawn so far costs
    // a few ns each (≈30 ms per million samples of a 10-member ensemble).
    b.rng = createRng(s.options.seed);
    for (let i = 0; i < s.draws; i++) b.rng.next();
    b.draws = s.draws;
    b.resets = s.nResets;
    return b;
  }
}
