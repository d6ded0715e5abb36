/**
 * Uniform random search: the baseline every model-based sampler must beat, and the source of their
 * startup trials.
 */
import type { Rng } from '../random';
import { createRng } from '../random';
import { numericInfo, fromWorking } from './numeric';
import type { SampleContext, Sampler } from './sampler';
import type { ParamSpec, ParamValue, Params, SearchSpace } from './space';
import { isActive, topologicalOrder } from './space';

/**
 * Uniform on the working scale: log-uniform for log parameters, and for discrete ones uniform over
 * the grid (each value owns one step-wide slice of the widened range).
 */
export function randomValue(spec: ParamSpec, rng: Rng): ParamValue {
  if (spec.type === 'categorical') return spec.choices[rng.nextInt(spec.choices.length)];
  const info = numericInfo(spec);
  return fromWorking(info, info.lowT + rng.next() * (info.highT - info.lowT));
}

/**
 * Random values for the active parameters not already in `fixed`, parents before children so a
 * child is drawn only when the drawn parent activates it.
 */
export function randomParams(space: SearchSpace, rng: Rng, fixed: Params = {}): Params {
  const out: Params = {};
  for (const name of topologicalOrder(space)) {
    if (!isActive(space, name, out)) continue;
    out[name] = name in fixed ? fixed[name] : randomValue(space[name], rng);
  }
  return Object.fromEntries(Object.keys(space).filter((n) => n in out).map((n) => [n, out[n]]));
}

export class RandomSampler implements Sampler {
  readonly name = 'random';

  sample(ctx: SampleContext): Params {
    return randomParams(ctx.space, createRng(ctx.seed));
  }
}
