import { describe, expect, it } from 'vitest';
import { dirichletMultinomialLogEValue, sequentialMultinomialTest } from './sequential-multinomial';

/*
 * Reference log e-values computed independently with SciPy 1.17 as the ratio of the
 * Dirichlet-multinomial pmf to the multinomial pmf (the multinomial coefficient cancels):
 *   from scipy.stats import dirichlet_multinomial, multinomial
 *   dirichlet_multinomial.logpmf(x, c * p0, n) - multinomial.logpmf(x, n, p0)
 */
const REFERENCE: Array<[number[], number[], number, number]> = [
  [[10, 12], [0.5, 0.5], 1000, -0.00892726300791935],
  [[520, 480], [0.5, 0.5], 1000, 0.053528187392657856],
  [[1400, 600], [0.5, 0.5], 1000, 107.4556759580928],
  [[160, 40], [0.5, 0.5], 1000, 5.923865744343743],
  [[300, 350, 350], [0.2, 0.4, 0.4], 1000, 14.023410738285293],
  [[5100, 4900], [0.5, 0.5], 10, -1.480976626444317],
  [[50, 50], [0.5, 0.5], 2, -2.0842441128640985],
];

describe('sequentialMultinomialTest', () => {
  it.each(REFERENCE)('matches SciPy for counts %j, p0 %j, concentration %d', (counts, p0, concentration, expected) => {
    const r = sequentialMultinomialTest(counts, p0, { concentration });
    expect(r.logEValue).toBeCloseTo(expected, 9);
    expect(r.eValue / Math.exp(expected)).toBeCloseTo(1, 9);
  });

  it('is a martingale under the null: the expected next e-value is the current one', () => {
    // Σ_i p0_i · e(x + unit_i) = e(x) exactly, which is what makes Ville's inequality apply.
    const p0 = [0.2, 0.3, 0.5];
    const prior = p0.map((p) => 50 * p);
    for (const x of [[0, 0, 0], [3, 9, 1], [40, 70, 90]]) {
      const next = p0.reduce((s, p, i) => s + p * Math.exp(dirichletMultinomialLogEValue(x.map((c, j) => c + (i === j ? 1 : 0)), p0, prior)), 0);
      expect(next).toBeCloseTo(Math.exp(dirichletMultinomialLogEValue(x, p0, prior)), 10);
    }
  });

  it('rejects at e ≥ 1/α, and starts at e = 1 with no data', () => {
    expect(sequentialMultinomialTest([0, 0], [0.5, 0.5])).toMatchObject({ logEValue: 0, eValue: 1, threshold: 1000, reject: false });
    expect(sequentialMultinomialTest([160, 40], [0.5, 0.5]).reject).toBe(false); // e ≈ 374 < 1000
    expect(sequentialMultinomialTest([160, 40], [0.5, 0.5], { alpha: 0.01 }).reject).toBe(true); // e ≈ 374 ≥ 100
    const huge = sequentialMultinomialTest([900_000, 100_000], [0.5, 0.5]);
    expect(huge.reject).toBe(true);
    expect(Number.isFinite(huge.eValue)).toBe(true);
    expect(JSON.parse(JSON.stringify(huge)).eValue).toBe(1e300);
  });

  it('rejects bad input with a message naming it', () => {
    expect(() => sequentialMultinomialTest([1, 2], [0.5, 0.4])).toThrow(/proportions must sum to 1/);
    expect(() => sequentialMultinomialTest([1, -2], [0.5, 0.5])).toThrow(/counts must be integers >= 0/);
    expect(() => sequentialMultinomialTest([1, 2, 3], [0.5, 0.5])).toThrow(/same length/);
    expect(() => sequentialMultinomialTest([1, 2], [0.5, 0.5], { alpha: 0 })).toThrow(/alpha/);
    expect(() => sequentialMultinomialTest([1, 2], [0.5, 0.5], { concentration: -1 })).toThrow(/concentration/);
  });
});
