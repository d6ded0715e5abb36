import { describe, expect, it } from 'vitest';
import { createSampler } from './sampler';
import { activeParams, isPossibleValue } from './space';
import { median, space } from './test-helpers';

describe('random sampler', () => {
  const sp = space({
    lr: { type: 'float', low: 1e-5, high: 1, log: true },
    x: { type: 'float', low: -2, high: 3 },
    depth: { type: 'int', low: 1, high: 10, step: 3 },
    units: { type: 'int', low: 1, high: 1024, log: true },
    drop: { type: 'float', low: 0, high: 0.5, step: 0.05 },
    opt: { type: 'categorical', choices: ['sgd', 'adam'] },
    momentum: { type: 'float', low: 0, high: 0.99, condition: { param: 'opt', equals: ['sgd'] } },
  });
  const sampler = createSampler('random');
  const draws = Array.from({ length: 4000 }, (_, i) => sampler.sample({ space: sp, trials: [], direction: 'minimize', seed: i }));

  it('respects bounds, steps, integrality and conditions', () => {
    for (const p of draws) {
      expect(Object.keys(p)).toEqual(activeParams(sp, p));
      for (const [name, v] of Object.entries(p)) expect(isPossibleValue(sp[name], v)).toBe(true);
    }
    expect(new Set(draws.map((p) => p.depth))).toEqual(new Set([1, 4, 7, 10]));
    expect(new Set(draws.map((p) => p.drop)).size).toBe(11);
    expect(draws.some((p) => p.drop === 0.15)).toBe(true);
  });

  it('is uniform on the working scale: log-uniform for log parameters, even over grid values', () => {
    // Median of a log-uniform on [1e-5, 1] is 10^-2.5.
    expect(Math.log10(median(draws.map((p) => p.lr as number)))).toBeCloseTo(-2.5, 0);
    expect(median(draws.map((p) => p.x as number))).toBeCloseTo(0.5, 0);
    const ends = draws.filter((p) => p.depth === 1 || p.depth === 10).length / draws.length;
    expect(ends).toBeGreaterThan(0.45);
    expect(ends).toBeLessThan(0.55);
    expect(median(draws.map((p) => p.units as number))).toBeGreaterThan(16);
    expect(median(draws.map((p) => p.units as number))).toBeLessThan(48);
    const sgd = draws.filter((p) => p.opt === 'sgd').length / draws.length;
    expect(sgd).toBeGreaterThan(0.45);
    expect(sgd).toBeLessThan(0.55);
  });

  it('is deterministic in the seed', () => {
    const again = Array.from({ length: 50 }, (_, i) => sampler.sample({ space: sp, trials: [], direction: 'minimize', seed: i }));
    expect(JSON.stringify(again)).toBe(JSON.stringify(draws.slice(0, 50)));
  });

  it('rejects options it does not know', () => {
    expect(() => createSampler('random', { seed: 1 })).toThrow('sampler "random": unknown option "seed" (known: none)');
    expect(() => createSampler('bogus' as never)).toThrow('unknown sampler "bogus" (known: grid, random, tpe, gp)');
  });
});
