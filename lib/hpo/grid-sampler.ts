/**
 * Exhaustive grid search in a seeded random order. Each proposal draws uniformly among the points
 * no trial has taken yet (running and failed trials included, as in Optuna), so successive draws
 * form a seeded shuffle, parallel workers never duplicate a point, and a short budget still sees a
 * spread of the grid rather than one corner of it.
 */
import { createRng } from '../random';
import type { Grid, GridPoints } from './grid';
import { buildGrid } from './grid';
import type { OptionSpec } from './options';
import type { SampleContext, Sampler } from './sampler';
import type { Params, SearchSpace } from './space';
import { otherTrials } from './trial';

export const GRID_OPTIONS: Record<string, OptionSpec> = {
  /** Per parameter: explicit values, or a count of evenly spaced points. Needed for unstepped floats. */
  gridPoints: { kind: 'object' },
};

export class GridSampler implements Sampler {
  readonly name = 'grid';
  private readonly gridPoints: GridPoints;
  // Building a conditional grid lists every point; keep it per space object. Pure memo: the
  // output does not depend on whether the cache was warm.
  private readonly cache = new WeakMap<SearchSpace, Grid>();

  constructor(options: Record<string, unknown>) {
    this.gridPoints = (options.gridPoints as GridPoints | undefined) ?? {};
  }

  grid(space: SearchSpace): Grid {
    let g = this.cache.get(space);
    if (!g) {
      g = buildGrid(space, this.gridPoints);
      this.cache.set(space, g);
    }
    return g;
  }

  sample(ctx: SampleContext): Params {
    const grid = this.grid(ctx.space);
    const taken = new Set<number>();
    for (const t of otherTrials(ctx.trials, ctx.trialNumber)) {
      const i = grid.indexOf(t.params);
      if (i !== undefined) taken.add(i);
    }
    const remaining = grid.size - taken.size;
    if (remaining <= 0) {
      throw new Error(`grid exhausted: all ${grid.size} grid points have been proposed; stop the study at gridSize(space) trials`);
    }
    // The k-th untaken index, found by stepping over the taken ones below it.
    let index = createRng(ctx.seed).nextInt(remaining);
    for (const t of [...taken].sort((a, b) => a - b)) {
      if (t <= index) index++;
      else break;
    }
    return grid.at(index);
  }
}
