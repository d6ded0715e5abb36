/**
 * ADWIN (Bifet & Gavaldà 2007, the bucketed ADWIN2 variant) reproducing River's current
 * implementation (river ≥ 0.22, the Rust `AdaptiveWindowing`) bit for bit: same bucket layout,
 * same floating-point operation order, every cut point checked (River before 0.22 skipped one).
 * Identical detection indices are what let us swap River out of the loop without re-tuning the
 * retraining triggers that were calibrated against it.
 */

export interface AdwinOptions {
  /** Significance level of the cut test. */
  delta?: number;
  /** Check for change only every `clock` updates: the check costs O(log W). */
  clock?: number;
  /** Buckets of each size kept before two are merged into one of twice the size. */
  maxBuckets?: number;
  /** Neither sub-window of a cut may hold fewer items than this. */
  minWindowLength?: number;
  /** No check until the window holds more than this many items. */
  gracePeriod?: number;
}

export interface DriftResult {
  readonly driftDetected: boolean;
}

export interface AdwinSnapshot {
  kind: 'adwin';
  version: 1;
  options: Required<AdwinOptions>;
  nDetections: number;
  driftDetected: boolean;
  state: {
    total: number;
    variance: number;
    width: number;
    tick: number;
    /** Per level (bucket size 2^level), the [total, variance] pairs held, oldest first. */
    levels: [number, number][][];
  };
}

export const ADWIN_DEFAULTS: Readonly<Required<AdwinOptions>> = Object.freeze({
  delta: 0.002,
  clock: 32,
  maxBuckets: 5,
  minWindowLength: 5,
  gracePeriod: 10,
});

/** 2^l for every level a double-precision width can reach: a load instead of a pow call. */
const POW2 = Float64Array.from({ length: 64 }, (_, l) => 2 ** l);

// Shared results: update() runs millions of times a second and must not allocate.
const DRIFT: DriftResult = Object.freeze({ driftDetected: true });
const NO_DRIFT: DriftResult = Object.freeze({ driftDetected: false });

export class Adwin {
  readonly options: Readonly<Required<AdwinOptions>>;
  private readonly delta: number;
  private readonly clock: number;
  private readonly maxBuckets: number;
  private readonly minWindowLength: number;
  private readonly gracePeriod: number;
  /** Slots per level: one more than maxBuckets, so a level can overflow before it is merged. */
  private readonly cap: number;

  private total = 0;
  private sumSq = 0;
  private widthF = 0;
  private tick = 0;
  /** Level i holds buckets of 2^i items; totals/variances of a level are contiguous, oldest first. */
  private totals: Float64Array[] = [];
  private variances: Float64Array[] = [];
  private counts: number[] = [];
  private detected = false;
  private detections = 0;

  constructor(options: AdwinOptions = {}) {
    const o = { ...ADWIN_DEFAULTS, ...options };
    if (!(o.delta > 0 && o.delta < 1)) throw new RangeError(`delta must be in (0, 1) (got ${o.delta})`);
    for (const k of ['clock', 'maxBuckets', 'minWindowLength'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`${k} must be a positive integer (got ${o[k]})`);
    }
    if (!Number.isInteger(o.gracePeriod) || o.gracePeriod < 0) throw new RangeError(`gracePeriod must be a non-negative integer (got ${o.gracePeriod})`);
    this.options = Object.freeze(o);
    this.delta = o.delta;
    this.clock = o.clock;
    this.maxBuckets = o.maxBuckets;
    this.minWindowLength = o.minWindowLength;
    this.gracePeriod = o.gracePeriod;
    this.cap = o.maxBuckets + 1;
    this.resetWindow();
  }

  /** Items in the current window. */
  get width(): number {
    return this.widthF;
  }

  /** Mean of the current window (0 when empty), River's `estimation`. */
  get estimation(): number {
    return this.widthF === 0 ? 0 : this.total / this.widthF;
  }

  /** Sum of the window's values. */
  get sum(): number {
    return this.total;
  }

  /**
   * River's `variance`: despite the name, the window's sum of squared deviations from its mean
   * (1,2,3,4,5 gives 10). Divide by `width` for the per-item variance (`varianceInWindow`).
   */
  get variance(): number {
    return this.sumSq;
  }

  get varianceInWindow(): number {
    return this.sumSq / this.widthF;
  }

  /** Whether the last update detected a change. */
  get driftDetected(): boolean {
    return this.detected;
  }

  /**
   * Changes detected since construction. River's own counter restarts with the window after
   * each detection (so it never exceeds 1); this one is cumulative.
   */
  get nDetections(): number {
    return this.detections;
  }

  update(x: number): DriftResult {
    // River discards the whole window on the update after a detection, clock phase included.
    if (this.detected) this.resetWindow();
    this.insert(x);
    this.detected = this.detectChange();
    if (this.detected) {
      this.detections++;
      return DRIFT;
    }
    return NO_DRIFT;
  }

  toJSON(): AdwinSnapshot {
    const levels: [number, number][][] = [];
    for (let l = 0; l < this.counts.length; l++) {
      const level: [number, number][] = [];
      for (let k = 0; k < this.counts[l]; k++) level.push([this.totals[l][k], this.variances[l][k]]);
      levels.push(level);
    }
    return {
      kind: 'adwin',
      version: 1,
      options: { ...this.options },
      nDetections: this.detections,
      driftDetected: this.detected,
      state: { total: this.total, variance: this.sumSq, width: this.widthF, tick: this.tick, levels },
    };
  }

  static fromJSON(s: AdwinSnapshot): Adwin {
    if (s.kind !== 'adwin' || s.version !== 1) throw new Error(`not an ADWIN snapshot (kind ${String(s.kind)}, version ${String(s.version)})`);
    const a = new Adwin(s.options);
    a.detections = s.nDetections;
    a.detected = s.driftDetected;
    a.total = s.state.total;
    a.sumSq = s.state.variance;
    a.widthF = s.state.width;
    a.tick = s.state.tick;
    a.totals = [];
    a.variances = [];
    a.counts = [];
    for (const level of s.state.levels) {
      if (level.length > a.cap) throw new Error(`ADWIN snapshot level holds ${level.length} buckets, more than maxBuckets + 1`);
      a.addLevel();
      const l = a.counts.length - 1;
      level.forEach(([t, v], k) => {
        a.totals[l][k] = t;
        a.variances[l][k] = v;
      });
      a.counts[l] = level.length;
    }
    if (a.counts.length === 0) a.addLevel();
    return a;
  }

  private resetWindow(): void {
    this.total = 0;
    this.sumSq = 0;
    this.widthF = 0;
    this.tick = 0;
    this.totals = [];
    this.variances = [];
    this.counts = [];
    this.addLevel();
  }

  private addLevel(): void {
    this.totals.push(new Float64Array(this.cap));
    this.variances.push(new Float64Array(this.cap));
    this.counts.push(0);
  }

  private insert(value: number): void {
    const t0 = this.totals[0];
    const c0 = this.counts[0];
    t0[c0] = value;
    this.variances[0][c0] = 0;
    this.counts[0] = c0 + 1;

    // Streaming variance (Welford form); the operation order is River's, for identical rounding.
    this.widthF += 1;
    let inc = 0;
    if (this.widthF > 1) {
      const d = value - this.total / (this.widthF - 1);
      inc = ((this.widthF - 1) * d * d) / this.widthF;
    }
    this.sumSq += inc;
    this.total += value;
    this.compress();
  }

  /** Merges the two oldest buckets of every full level into one of the next level, cascading. */
  private compress(): void {
    const { cap, maxBuckets } = this;
    for (let l = 0; this.counts[l] === cap; l++) {
      const t = this.totals[l];
      const v = this.variances[l];
      const n = POW2[l];
      const mu1 = t[0] / n;
      const mu2 = t[1] / n;
      const t12 = t[0] + t[1];
      const v12 = v[0] + v[1] + n * 0.5 * (mu1 - mu2) * (mu1 - mu2);
      if (l + 1 === this.counts.length) this.addLevel();
      const c1 = this.counts[l + 1];
      this.totals[l + 1][c1] = t12;
      this.variances[l + 1][c1] = v12;
      this.counts[l + 1] = c1 + 1;
      shiftOut(t, v, this.counts[l], 2);
      this.counts[l] -= 2;
      if (this.counts[l + 1] <= maxBuckets) break;
    }
  }

  /** Drops the oldest bucket (the first of the top level). */
  private dropOldest(): void {
    const last = this.counts.length - 1;
    const n = POW2[last];
    const u = this.totals[last][0];
    const v = this.variances[last][0];
    const mu = u / n;
    this.widthF -= n;
    this.total -= u;
    const muWindow = this.total / this.widthF;
    this.sumSq -= v + (n * this.widthF * (mu - muWindow) * (mu - muWindow)) / (n + this.widthF);
    shiftOut(this.totals[last], this.variances[last], this.counts[last], 1);
    this.counts[last]--;
    if (this.counts[last] === 0) {
      this.counts.pop();
      this.totals.pop();
      this.variances.pop();
    }
  }

  private detectChange(): boolean {
    let change = false;
    this.tick++;
    if (this.tick % this.clock !== 0 || !(this.widthF > this.gracePeriod)) return false;
    const minLen = this.minWindowLength;
    let reduce = true;
    while (reduce) {
      reduce = false;
      // Constant over one scan of the cuts (the window only changes when a cut holds, and then
      // the scan restarts): computed once instead of per cut, the same doubles River computes.
      const width = this.widthF;
      const deltaPrime = Math.log((2 * Math.log(width)) / this.delta);
      const varPerItem = this.sumSq / width;
      const twoThirdsDp = (2 / 3) * deltaPrime;
      // Every cut's threshold is at least the one of the balanced cut (1/a + 1/b ≥ 4/(a + b) with
      // a + b fixed), so a mean difference clearly below that cannot trigger and its own
      // threshold (two divisions and a square root) is never computed. The 1e-9 margin dwarfs
      // any rounding, so decisions stay exactly River's.
      const mMin = 4 / (width - 2 * minLen + 2);
      const floor = (Math.sqrt(2 * mMin * varPerItem * deltaPrime) + twoThirdsDp * mMin) * (1 - 1e-9);
      let n0 = 0;
      let n1 = width;
      let u0 = 0;
      let u1 = this.total;
      // Older items first: W0 grows from the oldest bucket, W1 is the rest. The cut after the
      // newest bucket (W1 empty) is never tried.
      outer: for (let l = this.counts.length - 1; l >= 0; l--) {
        const size = POW2[l];
        const t = this.totals[l];
        const c = this.counts[l];
        for (let k = 0; k < c; k++) {
          n0 += size;
          n1 -= size;
          u0 += t[k];
          u1 -= t[k];
          if (l === 0 && k === c - 1) break outer;
          if (n1 >= minLen && n0 >= minLen) {
            const diff = Math.abs(u0 / n0 - u1 / n1);
            if (diff <= floor) continue;
            const mRecip = 1 / (n0 - minLen + 1) + 1 / (n1 - minLen + 1);
            const epsilon = Math.sqrt(2 * mRecip * varPerItem * deltaPrime) + twoThirdsDp * mRecip;
            if (diff > epsilon) {
              reduce = true;
              change = true;
              if (this.widthF > 0) {
                this.dropOldest();
                break outer;
              }
            }
          }
        }
      }
    }
    return change;
  }
}

/**
 * Removes the first n of count entries (a level holds ≤ maxBuckets + 1). Plain loops: copyWithin
 * is a builtin call whose overhead dwarfs moving six doubles. Slots past the count are never
 * read, so the freed tail is left as it is.
 */
function shiftOut(t: Float64Array, v: Float64Array, count: number, n: number): void {
  const keep = count - n;
  for (let i = 0; i < keep; i++) {
    t[i] = t[i + n];
    v[i] = v[i + n];
  }
}
