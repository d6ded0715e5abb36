import { describe, expect, it } from 'vitest';
import { DEFAULT_ANALYSIS, DEFAULT_STEPS, FIXED_HORIZON_METRICS } from './spec';
import { gateStep, isUnanalysedFinalStep, stepAction } from './step-controller';

const sequential = DEFAULT_ANALYSIS;
const fixed = { ...DEFAULT_ANALYSIS, judge: 'fixed-horizon' as const, metrics: FIXED_HORIZON_METRICS };
const at = (step: number, elapsedS: number, verdict: 'pass' | 'fail' | 'inconclusive', spec = sequential, failures = 0) =>
  stepAction({ spec, steps: DEFAULT_STEPS, step, elapsedMs: elapsedS * 1000, verdict, failures });

describe('step controller', () => {
  it('gates the last step below 100%', () => {
    expect(gateStep(DEFAULT_STEPS)).toBe(2);
    expect(gateStep([{ weight: 10, pauseSeconds: 5 }, { weight: 100, pauseSeconds: 60 }])).toBe(0);
    expect(isUnanalysedFinalStep(DEFAULT_STEPS, 3)).toBe(true);
    expect(isUnanalysedFinalStep([{ weight: 100, pauseSeconds: 60 }], 0)).toBe(false);
  });

  it('sequential: rolls back at once, even inside a pause', () => {
    expect(at(0, 5, 'fail')).toBe('rollback');
  });

  it('sequential: early steps advance after their pause without waiting for evidence', () => {
    expect(at(0, 20, 'inconclusive')).toBe('wait');
    expect(at(0, 30, 'inconclusive')).toBe('advance');
  });

  it('sequential: the gate waits for evidence of no regression, then pauses for a person', () => {
    expect(at(2, 30, 'inconclusive')).toBe('wait');
    expect(at(2, 30, 'pass')).toBe('advance');
    expect(at(2, 30 + 7199, 'inconclusive')).toBe('wait');
    expect(at(2, 30 + 7200, 'inconclusive')).toBe('pause');
  });

  it('fixed-horizon: counts failures against the limit and pauses after the inconclusive limit', () => {
    expect(at(0, 10, 'fail', fixed, 1)).toBe('rollback');
    expect(at(0, 10, 'fail', { ...fixed, failureLimit: 1 }, 1)).toBe('wait');
    expect(at(0, 30, 'pass', fixed)).toBe('advance');
    expect(at(0, 30 + 60, 'inconclusive', fixed)).toBe('pause');
  });
});
