/**
 * Rotating hyperplane (Hulten et al. 2001) as River's `datasets.synth.Hyperplane`: x uniform in
 * [0, 1)^d, label Σ w_i x_i ≥ ½ Σ w_i, and after every sample the first `nDriftFeatures` weights
 * move by ±magChange, each reversing direction with probability `sigma` — gradual drift whose
 * speed is magChange.
 *
 * River's quirk is kept: a label is flipped when 0.01 + u ≤ noisePercentage (u uniform), so the
 * real flip rate is noisePercentage − 0.01 (4% at the default 5%), and likewise sigma − 0.01.
 */
import { createRng, type Rng } from '../random';
import type { DataStream, Sample } from './types';

export interface HyperplaneOptions {
  nFeatures?: number;
  nDriftFeatures?: number;
  magChange?: number;
  noisePercentage?: number;
  sigma?: number;
  seed?: number;
}

export class Hyperplane implements DataStream {
  readonly nFeatures: number;
  readonly nClasses = 2;
  readonly featureNames: readonly string[];
  readonly nDriftFeatures: number;
  readonly magChange: number;
  readonly noisePercentage: number;
  readonly sigma: number;
  /** Current hyperplane weights (they move with the drift). */
  readonly weights: Float64Array;
  private readonly direction: Float64Array;
  private readonly rng: Rng;

  constructor(options: HyperplaneOptions = {}) {
    const d = options.nFeatures ?? 10;
    const k = options.nDriftFeatures ?? 2;
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`nFeatures must be a positive integer (got ${d})`);
    if (!Number.isInteger(k) || k < 0 || k > d) throw new RangeError(`nDriftFeatures must be an integer in [0, nFeatures] (got ${k})`);
    const mag = options.magChange ?? 0;
    const noise = options.noisePercentage ?? 0.05;
    const sigma = options.sigma ?? 0.1;
    for (const [name, v] of [['magChange', mag], ['noisePercentage', noise], ['sigma', sigma]] as const) {
      if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be in [0, 1] (got ${v})`);
    }
    this.nFeatures = d;
    this.featureNames = Array.from({ length: d }, (_, i) => `x${i}`);
    this.nDriftFeatures = k;
    this.magChange = mag;
    this.noisePercentage = noise;
    this.sigma = sigma;
    this.rng = createRng(options.seed ?? 0);
    this.weights = new Float64Array(d);
    for (let i = 0; i < d; i++) this.weights[i] = this.rng.next();
    this.direction = new Float64Array(d);
    this.direction.fill(1, 0, k);
  }

  next(): Sample {
    const { nFeatures: d, weights: w, rng } = this;
    const x = new Float64Array(d);
    let sumW = 0;
    for (let i = 0; i < d; i++) sumW += w[i];
    let sum = 0;
    for (let i = 0; i < d; i++) {
      x[i] = rng.next();
      sum += w[i] * x[i];
    }
    let y = sum >= sumW * 0.5 ? 1 : 0;
    if (0.01 + rng.next() <= this.noisePercentage) y = 1 - y;
    for (let i = 0; i < this.nDriftFeatures; i++) {
      w[i] += this.direction[i] * this.magChange;
      if (0.01 + rng.next() <= this.sigma) this.direction[i] *= -1;
    }
    return { x, y };
  }
}
