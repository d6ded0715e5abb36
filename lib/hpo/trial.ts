/**
 * The trial record samplers and pruners read. Storage and the trial loop live elsewhere (the
 * workflow); this is only the shape of what they hand over.
 */
import type { Params } from './space';

export type { Params } from './space';

export type TrialState = 'running' | 'complete' | 'pruned' | 'failed';

export interface Trial {
  number: number;
  params: Params;
  state: TrialState;
  value?: number;
  intermediate: Array<[step: number, value: number]>;
}

export type Direction = 'minimize' | 'maximize';

/**
 * A complete trial with a usable value. NaN means the objective broke, so, as in Optuna, such a
 * trial counts as failed; ±Infinity is a legitimate (if extreme) observation.
 */
export function hasValue(t: Trial): t is Trial & { value: number } {
  return t.state === 'complete' && typeof t.value === 'number' && !Number.isNaN(t.value);
}

/** Trials a model learns from: complete ones with a value, and pruned ones. */
export function isFinished(t: Trial): boolean {
  return hasValue(t) || t.state === 'pruned';
}

/** Trials in number order: samplers must not depend on the order storage happened to return. */
export function byNumber<T extends Trial>(trials: readonly T[]): T[] {
  return [...trials].sort((a, b) => a.number - b.number);
}

/** The value at the highest step reported, or undefined when nothing was reported. */
export function lastIntermediate(t: Trial): [step: number, value: number] | undefined {
  let best: [number, number] | undefined;
  for (const [step, value] of t.intermediate) if (!best || step > best[0]) best = [step, value];
  return best;
}

/**
 * The trials other than the one being proposed for: when the caller has already recorded the new
 * trial as running, a sampler must not mistake it for a parallel worker's.
 */
export function otherTrials(trials: readonly Trial[], trialNumber: number | undefined): readonly Trial[] {
  return trialNumber === undefined ? trials : trials.filter((t) => t.number !== trialNumber);
}
