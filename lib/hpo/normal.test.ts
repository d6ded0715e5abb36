import { describe, expect, it } from 'vitest';
import { logH } from './gp-acquisition';
import { erf, erfc, logGaussMass, logNdtr, ndtr, ndtri, truncNormPpf } from './normal';

// Reference values from scipy.special (erf, erfc, log_ndtr, ndtri).
describe('normal distribution helpers', () => {
  it('match scipy to near machine precision, deep into the tails', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erfc(3)).toBeCloseTo(2.209049699858544e-5, 18);
    expect(erfc(10) / 2.088487583762545e-45).toBeCloseTo(1, 13);
    expect(logNdtr(-30) / -454.32124395634327).toBeCloseTo(1, 14);
    expect(logNdtr(5) / -2.8665161296376294e-7).toBeCloseTo(1, 9);
    expect(ndtri(0.975)).toBeCloseTo(1.959963984540054, 14);
    expect(ndtri(1e-20) / -9.262340089798408).toBeCloseTo(1, 14);
    for (const p of [1e-12, 0.01, 0.3, 0.5, 0.77]) expect(ndtr(ndtri(p)) / p).toBeCloseTo(1, 13);
  });

  it('computes interval masses in the accurate tail', () => {
    expect(logGaussMass(-1, 1)).toBeCloseTo(Math.log(0.6826894921370859), 14);
    expect(logGaussMass(40, 50)).toBeCloseTo(-804.6084420137538, 9);
    expect(logGaussMass(-50, -40)).toBeCloseTo(-804.6084420137538, 9);
  });

  it('samples truncated normals inside their bounds, at the right quantiles', () => {
    expect(truncNormPpf(0.5, -1, 1)).toBeCloseTo(0, 14);
    expect(truncNormPpf(0, 0.3, 2)).toBe(0.3);
    for (const q of [1e-9, 0.2, 0.9, 1 - 1e-9]) {
      const x = truncNormPpf(q, 5, 9);
      expect(x).toBeGreaterThanOrEqual(5);
      expect(x).toBeLessThanOrEqual(9);
    }
    // Half-normal median: Φ⁻¹(0.75).
    expect(truncNormPpf(0.5, 0, 50)).toBeCloseTo(0.6744897501960817, 13);
  });

  it('keeps log EI finite and monotone where EI itself underflows', () => {
    expect(Math.exp(logH(0))).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 15);
    const zs = [-1e5, -1e3, -40, -10, -1.5, -1, -0.5, 0, 2];
    const v = zs.map(logH);
    for (const x of v) expect(Number.isFinite(x)).toBe(true);
    for (let i = 1; i < v.length; i++) expect(v[i]).toBeGreaterThan(v[i - 1]);
    // h(−t) = φ(t)(1/t² − 3/t⁴ + 15/t⁶ − 105/t⁸ + …): at t = 10 the series gives 0.0097139.
    expect(logH(-10)).toBeCloseTo(-50 - 0.5 * Math.log(2 * Math.PI) + Math.log(0.0097139), 4);
  });
});
