import { describe, expect, it } from 'vitest';
import { normalCdf } from './distributions';
import { msprtCriticalZ } from './always-valid';
import { msprtOperatingCharacteristics } from './msprt-power';

/*
 * Monte Carlo references, computed independently with NumPy (200,000 Brownian paths with drift
 * `effect`, the mSPRT's log Λ checked at 100 evenly spaced looks, rng seed 7); standard errors
 * about 0.001 for power and 0.01 for the mean sample.
 */
const MONTE_CARLO: Array<[{ effect: number; tau2: number; maxSamplePerArm: number; alpha: number }, number, number]> = [
  [{ effect: 1, tau2: 1, maxSamplePerArm: 13, alpha: 0.05 }, 0.795345, 7.950971],
  [{ effect: 1, tau2: 25, maxSamplePerArm: 16, alpha: 0.05 }, 0.79065, 9.585692],
  [{ effect: 1, tau2: 1, maxSamplePerArm: 20, alpha: 0.01 }, 0.8641, 11.814307],
  [{ effect: 0, tau2: 1, maxSamplePerArm: 13, alpha: 0.05 }, 0.01801, 12.866771],
];

describe('msprtOperatingCharacteristics', () => {
  it.each(MONTE_CARLO)('agrees with simulation for %j', (input, power, mean) => {
    const r = msprtOperatingCharacteristics({ ...input, pairVariance: 1, looks: 100 });
    expect(Math.abs(r.power - power)).toBeLessThan(0.004);
    expect(Math.abs(r.expectedSamplePerArm - mean)).toBeLessThan(0.05);
  });

  it('with one look is the closed-form power of the mSPRT boundary', () => {
    // One look at n per arm: reject when |Z| ≥ c, Z ~ N(δ/√v, 1), v = s²/n.
    const [effect, pairVariance, n, tau2, alpha] = [0.02, 0.2, 2000, 1e-3, 0.05];
    const v = pairVariance / n;
    const c = msprtCriticalZ(v, tau2, alpha);
    const shift = effect / Math.sqrt(v);
    const exact = normalCdf(shift - c) + normalCdf(-shift - c);
    const r = msprtOperatingCharacteristics({ effect, pairVariance, tau2, alpha, maxSamplePerArm: n, looks: 1, gridPoints: 4000 });
    expect(r.power).toBeCloseTo(exact, 3);
    expect(r.expectedSamplePerArm).toBe(n);
  });

  it('is scale-free: effect, variance and n enter only through n·effect²/variance (with τ² ∝ effect²)', () => {
    const a = msprtOperatingCharacteristics({ effect: 1, pairVariance: 1, tau2: 1, alpha: 0.05, maxSamplePerArm: 13 });
    const b = msprtOperatingCharacteristics({ effect: 0.01, pairVariance: 0.19, tau2: 1e-4, alpha: 0.05, maxSamplePerArm: 13 * 1900 });
    expect(b.power).toBeCloseTo(a.power, 10);
    expect(b.expectedSamplePerArm / 1900).toBeCloseTo(a.expectedSamplePerArm, 8);
  });

  it('rejects bad input', () => {
    expect(() => msprtOperatingCharacteristics({ effect: 1, pairVariance: 0, tau2: 1, alpha: 0.05, maxSamplePerArm: 10 })).toThrow(/pairVariance/);
    expect(() => msprtOperatingCharacteristics({ effect: 1, pairVariance: 1, tau2: 1, alpha: 0.05, maxSamplePerArm: 10, looks: 0 })).toThrow(/looks/);
  });
});
