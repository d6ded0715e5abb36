import { describe, expect, it } from 'vitest';
import { createSampler } from './sampler';
import type { Params } from './space';
import { activeParams, isPossibleValue } from './space';
import { median, runStudy, space } from './test-helpers';
import type { Trial } from './trial';

const line = space({ x: { type: 'float', low: -10, high: 10 } });
const quadratic = (p: Params) => ((p.x as number) - 2) ** 2;
const SEEDS = [0, 1, 2, 3, 4, 5];

describe('TPE sampler', () => {
  it('concentrates near the optimum of a 1-D quadratic, far more than random', () => {
    const spread = (name: 'tpe' | 'random', seed: number) => {
      const trials = runStudy(createSampler(name), line, quadratic, 60, seed);
      return median(trials.slice(-20).map((t) => Math.abs((t.params.x as number) - 2)));
    };
    for (const seed of SEEDS) {
      // Within 10% of the range (20) of the optimum.
      expect(spread('tpe', seed)).toBeLessThan(2);
    }
    const tpe = median(SEEDS.map((s) => spread('tpe', s)));
    const random = median(SEEDS.map((s) => spread('random', s)));
    expect(tpe).toBeLessThan(random / 3);
  });

  it('is deterministic: same history and seed, same proposal bit for bit', () => {
    const sp = space({
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      layers: { type: 'int', low: 1, high: 8 },
      opt: { type: 'categorical', choices: ['sgd', 'adam'] },
      momentum: { type: 'float', low: 0, high: 1, condition: { param: 'opt', equals: ['sgd'] } },
    });
    const f = (p: Params) => (Math.log10(p.lr as number) + 3) ** 2 + ((p.layers as number) - 3) ** 2 + (p.opt === 'sgd' ? 1 - (p.momentum as number) : 0.5);
    const a = runStudy(createSampler('tpe'), sp, f, 40, 11);
    const b = runStudy(createSampler('tpe'), sp, f, 40, 11);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = runStudy(createSampler('tpe'), sp, f, 40, 12);
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
    // Order of the history does not matter; the proposal does not depend on storage order.
    const ctx = { space: sp, direction: 'minimize' as const, seed: 99 };
    expect(createSampler('tpe').sample({ ...ctx, trials: [...a].reverse() })).toEqual(createSampler('tpe').sample({ ...ctx, trials: a }));
  });

  it('respects conditional spaces (joint kernels where possible, 1-D fallback elsewhere)', () => {
    const sp = space({
      opt: { type: 'categorical', choices: ['sgd', 'adam'] },
      momentum: { type: 'float', low: 0, high: 1, condition: { param: 'opt', equals: ['sgd'] } },
      beta: { type: 'float', low: 0.5, high: 1, condition: { param: 'opt', equals: ['adam'] } },
      steps: { type: 'int', low: 10, high: 100, step: 10 },
    });
    const f = (p: Params) => (p.opt === 'sgd' ? ((p.momentum as number) - 0.9) ** 2 : 0.05 + ((p.beta as number) - 0.9) ** 2) + ((p.steps as number) - 70) ** 2 / 1e4;
    const trials = runStudy(createSampler('tpe'), sp, f, 60, 3);
    for (const t of trials) {
      expect(Object.keys(t.params)).toEqual(activeParams(sp, t.params));
      for (const [k, v] of Object.entries(t.params)) expect(isPossibleValue(sp[k], v)).toBe(true);
    }
    expect(trials.slice(-20).filter((t) => t.params.opt === 'sgd').length).toBeGreaterThan(12);
  });

  it('maximises when asked', () => {
    const trials = runStudy(createSampler('tpe'), line, (p) => -quadratic(p), 50, 4, 'maximize');
    expect(median(trials.slice(-15).map((t) => Math.abs((t.params.x as number) - 2)))).toBeLessThan(2);
  });

  it('spreads parallel proposals with the constant liar', () => {
    // 30 finished trials, then 8 proposals made while the earlier ones are still running.
    const pairwise = (liar: boolean, seed: number) => {
      const sampler = createSampler('tpe', { constantLiar: liar });
      const trials = runStudy(createSampler('tpe'), line, quadratic, 30, seed);
      const xs: number[] = [];
      for (let k = 0; k < 8; k++) {
        const number = trials.length;
        const params = sampler.sample({ space: line, trials, direction: 'minimize', seed: seed * 7919 + k });
        trials.push({ number, params, state: 'running', intermediate: [] });
        xs.push(params.x as number);
      }
      let sum = 0;
      for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) sum += Math.abs(xs[i] - xs[j]);
      return sum / 28;
    };
    const withLiar = SEEDS.map((s) => pairwise(true, s));
    const without = SEEDS.map((s) => pairwise(false, s));
    expect(median(withLiar)).toBeGreaterThan(1.5 * median(without));
  });

  it('learns from pruned trials, ranking the ones that got further first', () => {
    const sampler = createSampler('tpe', { nStartupTrials: 5 });
    const trials: Trial[] = [];
    // Stopped at step 0 with a fine-looking value, around x = -8…
    for (let i = 0; i < 6; i++) trials.push({ number: i, params: { x: -8.5 + i * 0.2 }, state: 'pruned', intermediate: [[0, 0.1]] });
    // …and reached step 9, with a worse value, around x = 8: these are the better trials.
    for (let i = 0; i < 6; i++) trials.push({ number: 6 + i, params: { x: 7.5 + i * 0.2 }, state: 'pruned', intermediate: [[0, 5], [9, 1]] });
    const xs = Array.from({ length: 15 }, (_, s) => sampler.sample({ space: line, trials, direction: 'minimize', seed: s }).x as number);
    expect(median(xs)).toBeGreaterThan(2);
    // Complete trials outrank pruned ones whatever their values.
    trials.push({ number: 12, params: { x: -3 }, state: 'complete', value: 50, intermediate: [] });
    trials.push({ number: 13, params: { x: -3.2 }, state: 'complete', value: 60, intermediate: [] });
    const ys = Array.from({ length: 15 }, (_, s) => sampler.sample({ space: line, trials, direction: 'minimize', seed: s }).x as number);
    expect(median(ys)).toBeLessThan(0);
  });

  it('validates its options', () => {
    expect(() => createSampler('tpe', { nStartupTrial: 5 })).toThrow('sampler "tpe": unknown option "nStartupTrial" (known: nStartupTrials, nEiCandidates, priorWeight, considerMagicClip, considerEndpoints, multivariate, constantLiar)');
    expect(() => createSampler('tpe', { nEiCandidates: 0 })).toThrow('sampler "tpe": option "nEiCandidates" must be an integer ≥ 1 (got 0)');
    expect(() => createSampler('tpe', { multivariate: 'yes' })).toThrow('sampler "tpe": option "multivariate" must be true or false (got "yes")');
  });
});
