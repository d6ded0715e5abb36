/**
 * Covariate shift over any stream: the inputs' distribution moves, the concept does not. Each
 * sample of the inner stream is kept with probability `keep(x)` (rejection sampling), so the
 * shifted density is p(x)·keep(x) up to a constant while P(y | x) — the labelling rule, noise
 * included — is the inner stream's own, untouched. What a feature drift monitor must notice and an
 * error-rate monitor cannot: the model is still right, on inputs it saw little of.
 */
import { createRng, type Rng } from '../random';
import type { DataStream, Sample } from './types';

export interface CovariateShiftOptions {
  /** Probability in [0, 1] of keeping a sample with these features. */
  keep: (x: Float64Array) => number;
  seed?: number;
  /** Inner samples drawn for one kept sample before giving up (a `keep` that is ~0 everywhere). */
  maxTries?: number;
}

export class CovariateShiftStream implements DataStream {
  readonly nFeatures: number;
  readonly nClasses: number;
  readonly featureNames: readonly string[];
  private readonly rng: Rng;
  private readonly keep: (x: Float64Array) => number;
  private readonly maxTries: number;

  constructor(
    readonly stream: DataStream,
    options: CovariateShiftOptions,
  ) {
    this.nFeatures = stream.nFeatures;
    this.nClasses = stream.nClasses;
    this.featureNames = stream.featureNames;
    this.keep = options.keep;
    this.rng = createRng(options.seed ?? 0);
    this.maxTries = options.maxTries ?? 1_000_000;
    if (!(Number.isInteger(this.maxTries) && this.maxTries >= 1)) throw new RangeError(`maxTries must be a positive integer (got ${options.maxTries})`);
  }

  next(): Sample {
    for (let i = 0; i < this.maxTries; i++) {
      const s = this.stream.next();
      const p = this.keep(s.x);
      if (!(p >= 0 && p <= 1)) throw new RangeError(`keep(x) must be a probability in [0, 1] (got ${p})`);
      if (this.rng.next() < p) return s;
    }
    throw new RangeError(`no sample kept in ${this.maxTries} draws: keep(x) is ~0 wherever the stream goes`);
  }
}
