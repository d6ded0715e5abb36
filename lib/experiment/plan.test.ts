import { describe, expect, it } from 'vitest';
import { msprtOperatingCharacteristics } from '../stats/msprt-power';
import { parseMde, planAbTest, planDuration } from './plan';

describe('parseMde', () => {
  it.each([
    ['0.01', { absolute: 0.01 }],
    ['10%', { relative: 0.1 }],
    [' 2.5% ', { relative: 0.025 }],
    ['.5', { absolute: 0.5 }],
    ['ten', null],
    ['-0.01', null],
    ['', null],
    ['1%%', null],
  ] as const)('%j → %j', (text, expected) => expect(parseMde(text)).toEqual(expected));
});

describe('planAbTest', () => {
  const base = { metric: 'click-rate', baseline: 0.1, mde: { absolute: 0.01 }, alpha: 0.05, arms: 2 } as const;

  it('sizes a 0.10 → 0.11 conversion test: τ² = MDE², 80% power at the maximum sample', () => {
    const r = planAbTest(base);
    if (!r.ok) throw new Error(r.message);
    const p = r.value;
    expect(p).toMatchObject({ mde: 0.01, alternative: 0.11, tau2: 0.01 ** 2, alphaPerComparison: 0.05, power: 0.8 });
    expect(p.pairVariance).toBeCloseTo(0.1 * 0.9 + 0.11 * 0.89, 12);
    // Fixed horizon: (1.96 + 0.8416)² · 0.1879 / 0.01² = 14,749 per arm (the textbook unpooled formula).
    expect(p.fixedHorizonSamplePerArm).toBe(14749);
    const oc = msprtOperatingCharacteristics({ effect: p.mde, pairVariance: p.pairVariance, tau2: p.tau2, alpha: 0.05, maxSamplePerArm: p.maxSamplePerArm });
    expect(oc.power).toBeGreaterThanOrEqual(0.8);
    expect(oc.power).toBeLessThan(0.802);
    expect(p.maxSamplePerArm / p.fixedHorizonSamplePerArm).toBeCloseTo(1.67, 1);
    expect(p.expectedSamplePerArmAtMde / p.fixedHorizonSamplePerArm).toBeCloseTo(1.02, 1);
  });

  it('reads a relative MDE against the baseline, and gives the same plan', () => {
    const a = planAbTest(base);
    const b = planAbTest({ ...base, mde: { relative: 0.1 } });
    if (!a.ok || !b.ok) throw new Error('plan failed');
    expect(b.value.maxSamplePerArm).toBe(a.value.maxSamplePerArm);
  });

  it('sizes for a decrease where an increase would leave (0, 1)', () => {
    const r = planAbTest({ ...base, metric: 'accuracy', baseline: 0.97, mde: { absolute: 0.05 } });
    expect(r.ok && r.value.alternative).toBeCloseTo(0.92, 12);
  });

  it('splits α over the comparisons with more than two arms', () => {
    const r = planAbTest({ ...base, arms: 3 });
    if (!r.ok) throw new Error(r.message);
    expect(r.value.alphaPerComparison).toBe(0.025);
    expect(r.value.maxSamplePerArm).toBeGreaterThan(24_000);
  });

  it('uses the given variance for a rating', () => {
    const r = planAbTest({ metric: 'rating', baseline: 3.5, mde: { absolute: 0.1 }, variance: 1.2, alpha: 0.05, arms: 2 });
    if (!r.ok) throw new Error(r.message);
    expect(r.value.pairVariance).toBe(2.4);
    expect(r.value.tau2).toBeCloseTo(0.01, 12);
  });

  it.each([
    [{ mde: { absolute: 0 } }, 'mde', /^mde must be > 0/],
    [{ mde: { absolute: 0.95 } }, 'mde', /too large for a click-rate of 0.1/],
    [{ baseline: 1.2 }, 'baseline', /between 0 and 1/],
    [{ metric: 'rating', baseline: 3 }, 'variance', /variance of the rating/],
    [{ alpha: 0.7 }, 'alpha', /alpha must be/],
  ] as const)('rejects %j naming %s', (over, field, message) => {
    const r = planAbTest({ ...base, ...over } as Parameters<typeof planAbTest>[0]);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message).toMatch(message);
    }
  });
});

describe('planDuration', () => {
  it('divides the samples by the slowest arm’s share of the observation rate', () => {
    const r = planAbTest({ metric: 'click-rate', baseline: 0.1, mde: { absolute: 0.01 }, alpha: 0.05, arms: 2 });
    if (!r.ok) throw new Error(r.message);
    const d = planDuration(r.value, 10, [20, 80])!;
    expect(d.perArmRate).toBeCloseTo(2, 12);
    expect(d.maxSeconds).toBeCloseTo(r.value.maxSamplePerArm / 2, 9);
    expect(d.expectedSecondsAtMde).toBeCloseTo(r.value.expectedSamplePerArmAtMde / 2, 9);
    expect(planDuration(r.value, 0, [50, 50])).toBeNull();
  });
});
