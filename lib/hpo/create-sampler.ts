/**
 * Sampler construction from a name and JSON options, validated so a misspelt option fails at
 * study creation rather than quietly running with defaults.
 */
import { GpSampler, GP_OPTIONS } from './gp-sampler';
import { GridSampler, GRID_OPTIONS } from './grid-sampler';
import { validateOptions } from './options';
import { RandomSampler } from './random-sampler';
import type { Sampler, SamplerName } from './sampler';
import { TpeSampler, TPE_OPTIONS } from './tpe-sampler';

export const SAMPLER_NAMES: readonly SamplerName[] = ['grid', 'random', 'tpe', 'gp'];

export function createSampler(name: SamplerName, options?: Record<string, unknown>): Sampler {
  const owner = `sampler "${name}"`;
  switch (name) {
    case 'grid':
      return new GridSampler(validateOptions(owner, options, GRID_OPTIONS));
    case 'random':
      validateOptions(owner, options, {});
      return new RandomSampler();
    case 'tpe':
      return new TpeSampler(validateOptions(owner, options, TPE_OPTIONS));
    case 'gp':
      return new GpSampler(validateOptions(owner, options, GP_OPTIONS));
    default:
      throw new Error(`unknown sampler "${String(name)}" (known: ${SAMPLER_NAMES.join(', ')})`);
  }
}
