/**
 * The pruner contract: given the study so far and the value a running trial just reported at
 * `step`, decide whether to stop it. Stateless like the samplers, so replay repeats decisions.
 */
import type { Direction, Trial } from './trial';

export { createPruner, PRUNER_NAMES } from './create-pruner';

export interface PruneArgs {
  /** The study's trials; the reporting trial may be among them, with or without this report. */
  trials: readonly Trial[];
  trialNumber: number;
  step: number;
  value: number;
  direction: Direction;
}

export interface Pruner {
  readonly name: string;
  shouldPrune(args: PruneArgs): boolean;
}

export type PrunerName = 'none' | 'median' | 'successive-halving';

/** The reporting trial's intermediate values including the one being reported now. */
export function reportedSoFar(args: PruneArgs): Array<[step: number, value: number]> {
  const own = args.trials.find((t) => t.number === args.trialNumber);
  const rest = (own?.intermediate ?? []).filter(([s]) => s !== args.step);
  return [...rest, [args.step, args.value]];
}
