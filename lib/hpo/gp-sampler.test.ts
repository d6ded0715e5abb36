import { describe, expect, it } from 'vitest';
import { createSampler } from './sampler';
import type { Params } from './space';
import { activeParams, isPossibleValue } from './space';
import { bestValue, median, runStudy, space } from './test-helpers';
import type { Trial } from './trial';

const BRANIN_MIN = 0.39788735772973816;
const braninSpace = space({ x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } });
function branin(p: Params): number {
  const x1 = p.x1 as number;
  const x2 = p.x2 as number;
  const b = 5.1 / (4 * Math.PI ** 2);
  return (x2 - b * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
}

describe('GP sampler', () => {
  it('beats random search on Branin in 30 trials', () => {
    const seeds = [0, 1, 2, 3, 4];
    const gp = seeds.map((s) => bestValue(runStudy(createSampler('gp'), braninSpace, branin, 30, s)) - BRANIN_MIN);
    const random = seeds.map((s) => bestValue(runStudy(createSampler('random'), braninSpace, branin, 30, s)) - BRANIN_MIN);
    expect(median(gp)).toBeLessThan(median(random) / 5);
    expect(gp.filter((g, i) => g < random[i]).length).toBeGreaterThanOrEqual(4);
  });

  it('is deterministic', () => {
    const a = runStudy(createSampler('gp'), braninSpace, branin, 14, 3);
    const b = runStudy(createSampler('gp'), braninSpace, branin, 14, 3);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('handles mixed, stepped and conditional spaces', () => {
    const sp = space({
      opt: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      layers: { type: 'int', low: 1, high: 8 },
      drop: { type: 'float', low: 0, high: 0.5, step: 0.05 },
      momentum: { type: 'float', low: 0, high: 0.99, condition: { param: 'opt', equals: ['sgd'] } },
    });
    const f = (p: Params) =>
      (p.opt === 'adam' ? 0 : 0.2) + 0.5 * (Math.log10(p.lr as number) + 3) ** 2 + 0.1 * ((p.layers as number) - 4) ** 2 + 4 * ((p.drop as number) - 0.2) ** 2 + (p.opt === 'sgd' ? ((p.momentum as number) - 0.9) ** 2 : 0);
    const trials = runStudy(createSampler('gp', { nCandidates: 256 }), sp, f, 30, 9);
    for (const t of trials) {
      expect(Object.keys(t.params)).toEqual(activeParams(sp, t.params));
      for (const [k, v] of Object.entries(t.params)) expect(isPossibleValue(sp[k], v)).toBe(true);
    }
    expect(bestValue(trials)).toBeLessThan(0.3);
  });

  it('keeps parallel proposals apart (running trials enter at the predicted mean)', () => {
    const history = runStudy(createSampler('gp'), braninSpace, branin, 15, 1);
    const sampler = createSampler('gp', { nCandidates: 256 });
    const trials: Trial[] = [...history];
    const proposals: Params[] = [];
    for (let k = 0; k < 4; k++) {
      const params = sampler.sample({ space: braninSpace, trials, direction: 'minimize', seed: 500 + k });
      trials.push({ number: trials.length, params, state: 'running', intermediate: [] });
      proposals.push(params);
    }
    for (let i = 0; i < proposals.length; i++) {
      for (let j = i + 1; j < proposals.length; j++) {
        const d = Math.hypot((proposals[i].x1 as number) - (proposals[j].x1 as number), (proposals[i].x2 as number) - (proposals[j].x2 as number));
        expect(d).toBeGreaterThan(0.05);
      }
    }
  });
});
