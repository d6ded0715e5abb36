import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { kolmogorovSf, ksTwoSample } from './ks';

const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/river/ks.json', import.meta.url), 'utf8')) as {
  versions: { scipy: string };
  cases: { name: string; a: number[]; b: number[]; statistic: number; pvalueKolmogorov: number; pvalueScipyAsymp: number }[];
};

describe(`two-sample KS against scipy ${fixture.versions.scipy}`, () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const r = ksTwoSample(c.a, c.b);
      expect(r.statistic).toBeCloseTo(c.statistic, 14);
      expect(Math.abs(r.pvalue - c.pvalueKolmogorov) / c.pvalueKolmogorov).toBeLessThan(1e-9);
      // ks_2samp(method="asymp") uses the finite-n distribution kstwo(round(n·m/(n+m))): the
      // limit is a little more conservative, never wildly off where the decision is made.
      if (c.pvalueScipyAsymp > 1e-12) {
        expect(r.pvalue).toBeGreaterThanOrEqual(c.pvalueScipyAsymp);
        expect(r.pvalue / c.pvalueScipyAsymp).toBeLessThan(1.3);
      }
    });
  }
});

describe('ksTwoSample', () => {
  it('is symmetric, does not touch its inputs, and is 0 for identical samples', () => {
    const a = [3, 1, 2, 2];
    const b = [5, 4, 4];
    expect(ksTwoSample(a, b).statistic).toBe(1);
    expect(ksTwoSample(b, a).statistic).toBe(1);
    expect(a).toEqual([3, 1, 2, 2]);
    const r = ksTwoSample(a, [...a]);
    expect(r.statistic).toBe(0);
    expect(r.pvalue).toBe(1);
  });

  it('holds its size under the null: about 5% of p-values below 0.05', () => {
    const rng = createRng(11);
    let rejections = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const a = Array.from({ length: 200 }, () => rng.normal());
      const b = Array.from({ length: 150 }, () => rng.normal());
      if (ksTwoSample(a, b).pvalue < 0.05) rejections++;
    }
    // The asymptotic test is slightly conservative at these sizes.
    expect(rejections / trials).toBeGreaterThan(0.01);
    expect(rejections / trials).toBeLessThan(0.09);
  });

  it('rejects empty samples and NaN', () => {
    expect(() => ksTwoSample([], [1])).toThrow(RangeError);
    expect(() => ksTwoSample([1, NaN], [1])).toThrow(RangeError);
  });
});

describe('kolmogorovSf', () => {
  it('matches known values of the Kolmogorov distribution', () => {
    // scipy.stats.kstwobign.sf at these points.
    expect(kolmogorovSf(0)).toBe(1);
    expect(kolmogorovSf(1.3580986393225507)).toBeCloseTo(0.05, 12);
    expect(kolmogorovSf(1)).toBeCloseTo(0.26999967167735456, 14);
    expect(kolmogorovSf(0.5)).toBeCloseTo(0.9639452436648751, 14);
    expect(kolmogorovSf(3)).toBeCloseTo(3.045995948942526e-8, 20);
    // Both series agree where they meet.
    expect(Math.abs(kolmogorovSf(1 - 1e-12) - kolmogorovSf(1))).toBeLessThan(1e-11);
  });
});
