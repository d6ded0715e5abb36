import { describe, expect, it } from 'vitest';
import { createPruner } from './pruner';
import type { Trial } from './trial';

const complete = (number: number, curve: number[]): Trial => ({
  number,
  params: {},
  state: 'complete',
  value: curve[curve.length - 1],
  intermediate: curve.map((v, s) => [s, v] as [number, number]),
});
const running = (number: number, curve: number[]): Trial => ({ ...complete(number, curve), state: 'running', value: undefined });

describe('median pruner', () => {
  const finished = [1, 2, 3, 4, 5].map((k, i) => complete(i, [k, k - 0.5, k - 0.8]));
  const pruner = createPruner('median');
  const ask = (trials: Trial[], step: number, value: number, direction: 'minimize' | 'maximize' = 'minimize') =>
    pruner.shouldPrune({ trials, trialNumber: 99, step, value, direction });

  it('prunes a trial worse than the median at the same step (median at step 1 is 2.5)', () => {
    expect(ask(finished, 1, 2.6)).toBe(true);
    expect(ask(finished, 1, 2.4)).toBe(false);
    expect(ask(finished, 1, 2.5)).toBe(false);
  });

  it('judges the trial by its best value so far', () => {
    const me = running(99, [1.0]);
    expect(ask([...finished, me], 1, 2.6)).toBe(false);
  });

  it('waits for 5 completed trials', () => {
    expect(ask(finished.slice(0, 4), 1, 100)).toBe(false);
  });

  it('flips for maximisation', () => {
    expect(ask(finished, 1, 2.4, 'maximize')).toBe(true);
    expect(ask(finished, 1, 2.6, 'maximize')).toBe(false);
  });

  it('honours warm-up and interval, and does not judge steps nobody reached', () => {
    const warm = createPruner('median', { nWarmupSteps: 2 });
    expect(warm.shouldPrune({ trials: finished, trialNumber: 99, step: 1, value: 100, direction: 'minimize' })).toBe(false);
    expect(warm.shouldPrune({ trials: finished, trialNumber: 99, step: 2, value: 100, direction: 'minimize' })).toBe(true);
    const every2 = createPruner('median', { intervalSteps: 2 });
    const me = running(99, [9, 9]);
    // Step 1 reported after step 0 in the same interval [0, 2): not a check point.
    expect(every2.shouldPrune({ trials: [...finished, me], trialNumber: 99, step: 1, value: 9, direction: 'minimize' })).toBe(false);
    expect(ask(finished, 7, 100)).toBe(false);
  });

  it('stops a trial that only reports NaN', () => {
    expect(ask(finished, 1, NaN)).toBe(true);
  });

  it('validates options', () => {
    expect(() => createPruner('median', { warmup: 3 })).toThrow('pruner "median": unknown option "warmup" (known: nStartupTrials, nWarmupSteps, intervalSteps, nMinTrials)');
    expect(() => createPruner('none', { x: 1 })).toThrow('pruner "none": unknown option "x"');
  });
});

describe('successive halving pruner', () => {
  // Rungs close at steps 1, 4, 16, … (minResource 1, reduction factor 4).
  const sh = createPruner('successive-halving');
  const ask = (trials: Trial[], step: number, value: number, direction: 'minimize' | 'maximize' = 'minimize') =>
    sh.shouldPrune({ trials, trialNumber: 99, step, value, direction });

  it('does not judge before the first rung', () => {
    expect(ask([], 0, 123)).toBe(false);
  });

  it('with fewer than reductionFactor values, only the best so far goes on', () => {
    const others = [complete(0, [5, 4]), complete(1, [5, 3])]; // rung-0 values: 4 and 3
    expect(ask(others, 1, 2.5)).toBe(false);
    expect(ask(others, 1, 3.5)).toBe(true);
  });

  it('keeps the top quarter at a rung', () => {
    // Eight others at rung 0 (step 1) with values 1..8; with this trial nine values: index 9//4-1 = 1.
    const others = [1, 2, 3, 4, 5, 6, 7, 8].map((v, i) => complete(i, [10, v]));
    expect(ask(others, 1, 1.5)).toBe(false); // ≤ second smallest (1.5 sorts second)
    expect(ask(others, 1, 2)).toBe(false);
    expect(ask(others, 1, 2.5)).toBe(true);
    expect(ask(others, 1, 7.5, 'maximize')).toBe(false);
    expect(ask(others, 1, 6.5, 'maximize')).toBe(true);
  });

  it('checks a later rung against the values other trials had there', () => {
    // Others' rung-1 values are read at their first report at or past step 4.
    const others = [0, 1, 2, 3].map((i) => complete(i, [9, 9, 9, 9, 2 + i, 0]));
    const me = running(99, [9, 0.5, 0.5, 0.5]);
    expect(sh.shouldPrune({ trials: [...others, me], trialNumber: 99, step: 4, value: 1.5, direction: 'minimize' })).toBe(false);
    expect(sh.shouldPrune({ trials: [...others, me], trialNumber: 99, step: 4, value: 2.5, direction: 'minimize' })).toBe(true);
    // Between rungs there is nothing to decide.
    expect(sh.shouldPrune({ trials: [...others, me], trialNumber: 99, step: 3, value: 100, direction: 'minimize' })).toBe(false);
  });

  it('prunes NaN at a rung and validates options', () => {
    expect(ask([], 1, NaN)).toBe(true);
    expect(() => createPruner('successive-halving', { reductionFactor: 1 })).toThrow('pruner "successive-halving": option "reductionFactor" must be an integer ≥ 2 (got 1)');
    expect(() => createPruner('successive-halving', { minResource: 'auto' })).not.toThrow();
    expect(() => createPruner('successive-halving', { minResource: 'never' })).toThrow(/option "minResource" must be an integer ≥ 1 or "auto"/);
  });
});
