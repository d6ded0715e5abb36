/**
 * The sampler contract. A sampler is stateless: everything it may use arrives in the context
 * (space, history, direction, seed), so a workflow replaying its history gets the same proposals
 * bit for bit, and any worker can propose the next trial.
 */
import type { Params, SearchSpace } from './space';
import type { Direction, Trial } from './trial';

export { createSampler, SAMPLER_NAMES } from './create-sampler';

export interface SampleContext {
  space: SearchSpace;
  /** The study's trials in any order; failed ones are ignored, running ones may be used. */
  trials: readonly Trial[];
  direction: Direction;
  /** Per-trial seed chosen by the caller, e.g. studySeed * 1_000_003 + trialNumber. */
  seed: number;
  /**
   * The number of the trial being sampled, when the caller has already recorded it as running:
   * a sampler must not treat the trial it is proposing for as a parallel worker's.
   */
  trialNumber?: number;
}

export interface Sampler {
  readonly name: string;
  sample(ctx: SampleContext): Params;
}

export type SamplerName = 'grid' | 'random' | 'tpe' | 'gp';

