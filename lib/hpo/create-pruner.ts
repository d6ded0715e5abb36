/** Pruner construction from a name and JSON options, validated like the samplers'. */
import { MedianPruner, MEDIAN_OPTIONS } from './median-pruner';
import { validateOptions } from './options';
import type { Pruner, PrunerName } from './pruner';
import { SuccessiveHalvingPruner, SH_OPTIONS } from './successive-halving-pruner';

export const PRUNER_NAMES: readonly PrunerName[] = ['none', 'median', 'successive-halving'];

export function createPruner(name: PrunerName, options?: Record<string, unknown>): Pruner {
  const owner = `pruner "${name}"`;
  switch (name) {
    case 'none':
      validateOptions(owner, options, {});
      return { name: 'none', shouldPrune: () => false };
    case 'median':
      return new MedianPruner(validateOptions(owner, options, MEDIAN_OPTIONS));
    case 'successive-halving':
      return new SuccessiveHalvingPruner(validateOptions(owner, options, SH_OPTIONS));
    default:
      throw new Error(`unknown pruner "${String(name)}" (known: ${PRUNER_NAMES.join(', ')})`);
  }
}
