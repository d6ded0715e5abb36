import { describe, expect, it } from 'vitest';
import { gridSize } from './grid';
import { createSampler } from './sampler';
import type { Params } from './space';
import { space } from './test-helpers';
import type { Trial } from './trial';

const key = (p: Params) => JSON.stringify(Object.entries(p).sort());

function exhaust(sp: ReturnType<typeof space>, options: Record<string, unknown> = {}, seed = 7): Trial[] {
  const sampler = createSampler('grid', options);
  const trials: Trial[] = [];
  const n = gridSize(sp, (options.gridPoints ?? {}) as never);
  for (let i = 0; i < n; i++) {
    const params = sampler.sample({ space: sp, trials, direction: 'minimize', seed: seed * 1_000_003 + i });
    trials.push({ number: i, params, state: i % 3 === 0 ? 'running' : 'complete', value: 0, intermediate: [] });
  }
  return trials;
}

describe('grid sampler', () => {
  const sp = space({
    depth: { type: 'int', low: 2, high: 10, step: 4 },
    drop: { type: 'float', low: 0, high: 0.3, step: 0.1 },
    kind: { type: 'categorical', choices: ['a', 'b'] },
  });

  it('covers every grid point exactly once, then refuses clearly', () => {
    expect(gridSize(sp)).toBe(3 * 4 * 2);
    const trials = exhaust(sp);
    const keys = trials.map((t) => key(t.params));
    expect(new Set(keys).size).toBe(24);
    expect(trials.map((t) => t.params.drop)).toContain(0.3); // clean grid values, not 0.30000000000000004
    const sampler = createSampler('grid');
    expect(() => sampler.sample({ space: sp, trials, direction: 'minimize', seed: 1 })).toThrow(/grid exhausted: all 24 grid points/);
  });

  it('visits the grid in a seeded shuffled order', () => {
    const a = exhaust(sp, {}, 1).map((t) => key(t.params));
    const b = exhaust(sp, {}, 1).map((t) => key(t.params));
    const c = exhaust(sp, {}, 2).map((t) => key(t.params));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(c)).toEqual(new Set(a));
  });

  it('needs a step or gridPoints for floats; gridPoints may list values or count them', () => {
    const f = space({ lr: { type: 'float', low: 1e-4, high: 1, log: true }, x: { type: 'float', low: 0, high: 1 } });
    expect(() => gridSize(f)).toThrow('grid: float parameter "lr" needs a step or a gridPoints entry');
    const gp = { lr: 5, x: [0, 0.5] };
    expect(gridSize(f, gp)).toBe(10);
    const lrs = [...new Set(exhaust(f, { gridPoints: gp }).map((t) => t.params.lr as number))].sort((p, q) => p - q);
    expect(lrs.map((v) => Math.log10(v))).toEqual([-4, -3, -2, -1, 0].map((e) => expect.closeTo(e, 12)));
    expect(() => createSampler('grid', { points: {} })).toThrow('sampler "grid": unknown option "points" (known: gridPoints)');
  });

  it('counts only active parameters in a conditional space', () => {
    const c = space({
      model: { type: 'categorical', choices: ['tree', 'linear'] },
      depth: { type: 'int', low: 1, high: 3, condition: { param: 'model', equals: ['tree'] } },
      l2: { type: 'categorical', choices: [0.1, 1, 10, 100], condition: { param: 'model', equals: ['linear'] } },
    });
    expect(gridSize(c)).toBe(3 + 4);
    const trials = exhaust(c);
    expect(new Set(trials.map((t) => key(t.params))).size).toBe(7);
    for (const t of trials) expect(Object.keys(t.params)).toEqual(t.params.model === 'tree' ? ['model', 'depth'] : ['model', 'l2']);
  });

  it('skips the points parallel (running) trials hold and ignores the trial being proposed for', () => {
    const sampler = createSampler('grid');
    const small = space({ k: { type: 'categorical', choices: [1, 2, 3] } });
    const trials: Trial[] = [
      { number: 0, params: { k: 1 }, state: 'running', intermediate: [] },
      { number: 1, params: { k: 3 }, state: 'failed', intermediate: [] },
      { number: 2, params: {}, state: 'running', intermediate: [] },
    ];
    expect(sampler.sample({ space: small, trials, direction: 'minimize', seed: 5, trialNumber: 2 })).toEqual({ k: 2 });
  });
});
