/**
 * A stream that moves from one concept to another along a sigmoid, River's
 * `datasets.synth.ConceptDriftStream`: sample t (1-based) comes from the drift stream with
 * probability 1 / (1 + exp(−4 (t − position) / width)). `width` 1 is an abrupt switch; a wide
 * one is gradual drift, the two concepts interleaved. Nest them for several drifts.
 */
import { createRng, type Rng } from '../random';
import type { DataStream, Sample } from './types';

export interface ConceptDriftOptions {
  /** Centre of the change: where both concepts are equally likely. */
  position?: number;
  /** Length of the change: the drift probability rises from 12% to 88% over position ± width/2. */
  width?: number;
  /** Alternative to width, River's: the sigmoid's angle in degrees, width = ⌊1 / tan α⌋. */
  alpha?: number;
  seed?: number;
}

export class ConceptDriftStream implements DataStream {
  readonly nFeatures: number;
  readonly nClasses: number;
  readonly featureNames: readonly string[];
  readonly position: number;
  readonly width: number;
  private readonly rng: Rng;
  private t = 0;
  /** Which stream produced the last sample: 0 the first concept, 1 the drift concept. */
  lastSource: 0 | 1 = 0;

  constructor(
    readonly stream: DataStream,
    readonly driftStream: DataStream,
    options: ConceptDriftOptions = {},
  ) {
    if (stream.nFeatures !== driftStream.nFeatures) {
      throw new RangeError(`the two streams disagree on nFeatures (${stream.nFeatures} vs ${driftStream.nFeatures})`);
    }
    let width = options.width ?? 1000;
    if (options.alpha !== undefined) {
      if (!(options.alpha > 0 && options.alpha <= 90)) throw new RangeError(`alpha must be in (0, 90] (got ${options.alpha})`);
      const w = Math.trunc(1 / Math.tan((options.alpha * Math.PI) / 180));
      width = w > 0 ? w : 1;
    }
    if (!(width > 0)) throw new RangeError(`width must be positive (got ${width})`);
    this.width = width;
    this.position = options.position ?? 5000;
    this.nFeatures = stream.nFeatures;
    this.nClasses = Math.max(stream.nClasses, driftStream.nClasses);
    this.featureNames = stream.featureNames;
    this.rng = createRng(options.seed ?? 0);
  }

  /** Probability that sample t (1-based) comes from the drift stream. */
  driftProbability(t: number): number {
    return 1 / (1 + Math.exp((-4 * (t - this.position)) / this.width));
  }

  next(): Sample {
    this.t++;
    // Only the chosen stream advances, as in River.
    if (this.rng.next() > this.driftProbability(this.t)) {
      this.lastSource = 0;
      return this.stream.next();
    }
    this.lastSource = 1;
    return this.driftStream.next();
  }
}
