/**
 * SEA concepts (Street & Kim 2001) as River's `datasets.synth.SEA`: three features uniform in
 * [0, 10), label x0 + x1 > θ with θ = 8, 9, 7, 9.5 for variants 0–3 (x2 is irrelevant), each
 * label flipped with probability `noise`. Switching variants is abrupt drift.
 */
import { createRng, type Rng } from '../random';
import type { DataStream, Sample } from './types';

export const SEA_THRESHOLDS = [8, 9, 7, 9.5] as const;

export interface SeaOptions {
  variant?: 0 | 1 | 2 | 3;
  noise?: number;
  seed?: number;
}

export class Sea implements DataStream {
  readonly nFeatures = 3;
  readonly nClasses = 2;
  readonly featureNames = ['x0', 'x1', 'x2'] as const;
  readonly variant: 0 | 1 | 2 | 3;
  readonly noise: number;
  readonly threshold: number;
  private readonly rng: Rng;

  constructor(options: SeaOptions = {}) {
    const variant = options.variant ?? 0;
    if (![0, 1, 2, 3].includes(variant)) throw new RangeError(`SEA variant must be 0, 1, 2 or 3 (got ${variant})`);
    const noise = options.noise ?? 0;
    if (!(noise >= 0 && noise <= 1)) throw new RangeError(`noise must be in [0, 1] (got ${noise})`);
    this.variant = variant;
    this.noise = noise;
    this.threshold = SEA_THRESHOLDS[variant];
    this.rng = createRng(options.seed ?? 0);
  }

  next(): Sample {
    const r = this.rng;
    const x = new Float64Array(3);
    x[0] = 10 * r.next();
    x[1] = 10 * r.next();
    x[2] = 10 * r.next();
    let y = x[0] + x[1] > this.threshold ? 1 : 0;
    // River draws the noise uniform only when noise > 0; so do we, to keep the draw pattern.
    if (this.noise && r.next() < this.noise) y = 1 - y;
    return { x, y };
  }
}
