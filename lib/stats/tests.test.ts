import { describe, expect, it } from 'vitest';
import reference from '../../test/fixtures/stats/scipy-reference.json';
import { createRng } from '../random';
import {
  type Alternative,
  type SampleSummary,
  chiSquareGoodnessOfFit,
  combineSummaries,
  mannWhitneyU,
  sampleRatioMismatch,
  summarize,
  twoProportionZTest,
  welchTTest,
} from './tests';

type Cell = number | string;
const decode = (v: Cell): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : (v as number));
const relativeError = (got: number, expected: number) => (got === expected ? 0 : Math.abs(got - expected) / Math.abs(expected));

const ref = reference.tests as unknown as {
  twoProportionZTest: { args: [number, number, number, number, Alternative]; statistic: Cell; pValue: Cell }[];
  welchTTest: { a: SampleSummary; b: SampleSummary; alternative: Alternative; statistic: Cell; pValue: Cell; df: Cell; ci95: [Cell, Cell] }[];
  mannWhitneyU: { name: string; a: number[]; b: number[]; alternative: Alternative; statistic: Cell; pValue: Cell }[];
  chiSquareGoodnessOfFit: { observed: number[]; expectedProportions: number[]; statistic: Cell; pValue: Cell }[];
};

// Statistics are closed-form arithmetic (1e-13); p-values add the distribution functions' error
// (1e-12 relative, see distributions.test.ts).
describe('twoProportionZTest', () => {
  it('matches statsmodels proportions_ztest (pooled) for every alternative', () => {
    expect(ref.twoProportionZTest.length).toBe(18);
    for (const c of ref.twoProportionZTest) {
      const r = twoProportionZTest(...c.args);
      expect(relativeError(r.statistic, decode(c.statistic)), JSON.stringify(c)).toBeLessThan(1e-13);
      expect(relativeError(r.pValue, decode(c.pValue)), JSON.stringify(c)).toBeLessThan(1e-12);
    }
  });

  it('reports the difference as A − B and no evidence when both arms are degenerate', () => {
    const r = twoProportionZTest(30, 100, 20, 100, 'greater');
    expect(r.estimate).toBeCloseTo(0.1, 15);
    expect(r.pValue).toBeLessThan(0.06);
    expect(twoProportionZTest(0, 50, 0, 70)).toMatchObject({ statistic: 0, pValue: 1, estimate: 0 });
    expect(twoProportionZTest(50, 50, 70, 70)).toMatchObject({ statistic: 0, pValue: 1 });
  });

  it('rejects impossible counts', () => {
    expect(() => twoProportionZTest(11, 10, 1, 10)).toThrow(/cannot exceed/);
    expect(() => twoProportionZTest(1.5, 10, 1, 10)).toThrow(/integer/);
    expect(() => twoProportionZTest(1, 0, 1, 10)).toThrow(/nA/);
    expect(() => twoProportionZTest(1, 10, 1, 10, 'bigger' as Alternative)).toThrow(/alternative/);
  });
});

describe('welchTTest', () => {
  it('matches scipy ttest_ind_from_stats(equal_var=False), with df and the 95% interval', () => {
    expect(ref.welchTTest.length).toBe(18);
    for (const c of ref.welchTTest) {
      const r = welchTTest(c.a, c.b, c.alternative);
      const label = JSON.stringify(c);
      expect(relativeError(r.statistic, decode(c.statistic)), label).toBeLessThan(1e-13);
      expect(relativeError(r.pValue, decode(c.pValue)), label).toBeLessThan(1e-12);
      expect(relativeError(r.df, decode(c.df)), label).toBeLessThan(1e-13);
      for (const k of [0, 1]) {
        const expected = decode(c.ci95[k]);
        if (Number.isFinite(expected)) expect(Math.abs(r.ci[k] - expected), label).toBeLessThan(1e-12 * Math.max(1, Math.abs(expected)));
        else expect(r.ci[k]).toBe(expected);
      }
    }
  });

  it('treats zero variance in both arms as the limit instead of NaN', () => {
    const same = welchTTest({ n: 10, mean: 3, variance: 0 }, { n: 12, mean: 3, variance: 0 });
    expect(same).toMatchObject({ statistic: 0, pValue: 1 });
    const apart = welchTTest({ n: 10, mean: 4, variance: 0 }, { n: 12, mean: 3, variance: 0 }, 'greater');
    expect(apart).toMatchObject({ statistic: Infinity, pValue: 0 });
    expect(() => welchTTest({ n: 1, mean: 0, variance: 1 }, { n: 5, mean: 0, variance: 1 })).toThrow(/summaryA.n/);
    expect(() => welchTTest({ n: 5, mean: 0, variance: -1 }, { n: 5, mean: 0, variance: 1 })).toThrow(/variance/);
  });
});

describe('summaries', () => {
  it('summarize matches the two-pass definitions and combineSummaries equals summarising the union', () => {
    const rng = createRng(7);
    const xs = Array.from({ length: 1000 }, () => 1e6 + rng.normal());
    const s = summarize(xs);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
    expect(s.n).toBe(1000);
    expect(relativeError(s.mean, mean)).toBeLessThan(1e-14);
    expect(s.variance / variance).toBeCloseTo(1, 10);
    const c = combineSummaries(summarize(xs.slice(0, 137)), summarize(xs.slice(137)));
    expect(c.n).toBe(1000);
    expect(relativeError(c.mean, s.mean)).toBeLessThan(1e-14);
    expect(c.variance / s.variance).toBeCloseTo(1, 10);
    expect(combineSummaries({ n: 0, mean: NaN, variance: NaN }, s)).toEqual(s);
    expect(() => summarize([1, NaN])).toThrow(/not finite/);
  });
});

describe('mannWhitneyU', () => {
  it("matches scipy's mannwhitneyu(method='asymptotic') including heavy ties and all-tied samples", () => {
    expect(ref.mannWhitneyU.length).toBe(18);
    for (const c of ref.mannWhitneyU) {
      const r = mannWhitneyU(c.a, c.b, c.alternative);
      const label = `${c.name} ${c.alternative}`;
      expect(r.statistic, label).toBe(decode(c.statistic));
      expect(relativeError(r.pValue, decode(c.pValue)), label).toBeLessThan(1e-12);
    }
  });

  it('is symmetric: swapping the samples swaps U and the one-sided alternatives', () => {
    const rng = createRng(11);
    const a = Array.from({ length: 30 }, () => Math.round(rng.normal() * 3));
    const b = Array.from({ length: 25 }, () => Math.round(rng.normal() * 3 + 1));
    const ab = mannWhitneyU(a, b, 'greater');
    const ba = mannWhitneyU(b, a, 'less');
    expect(ab.statistic + mannWhitneyU(b, a).statistic).toBe(a.length * b.length);
    expect(ab.pValue).toBeCloseTo(ba.pValue, 15);
    expect(mannWhitneyU(a, b).pValue).toBeCloseTo(mannWhitneyU(b, a).pValue, 15);
  });

  it('ranks infinities and rejects NaN and empty samples', () => {
    expect(mannWhitneyU([Infinity, 5], [-Infinity, 1]).statistic).toBe(4);
    expect(() => mannWhitneyU([1, NaN], [2])).toThrow(/NaN/);
    expect(() => mannWhitneyU([], [2])).toThrow(/non-empty/);
  });
});

describe('chi-square goodness of fit and sample-ratio mismatch', () => {
  it('matches scipy.stats.chisquare', () => {
    for (const c of ref.chiSquareGoodnessOfFit) {
      const r = chiSquareGoodnessOfFit(c.observed, c.expectedProportions);
      expect(relativeError(r.statistic, decode(c.statistic))).toBeLessThan(1e-13);
      expect(relativeError(r.pValue, decode(c.pValue))).toBeLessThan(1e-12);
      expect(r.df).toBe(c.observed.length - 1);
    }
  });

  it('flags a 52/48 split of 10,000 as a mismatch at p < 0.001 but not a 50.1/49.9 one', () => {
    const bad = sampleRatioMismatch([5200, 4800], [0.5, 0.5]);
    expect(bad.mismatch).toBe(true);
    expect(bad.pValue).toBeLessThan(1e-4);
    expect(sampleRatioMismatch([5010, 4990], [0.5, 0.5]).mismatch).toBe(false);
    // Weights are normalised; a 90/10 split is checked against its own expectation.
    expect(sampleRatioMismatch([9000, 1000], [9, 1])).toMatchObject({ statistic: 0, pValue: 1, mismatch: false });
    expect(sampleRatioMismatch([0, 0], [1, 1])).toMatchObject({ pValue: 1, mismatch: false });
  });

  it('rejects malformed input', () => {
    expect(() => chiSquareGoodnessOfFit([1, 2, 3], [0.5, 0.5])).toThrow(/categories/);
    expect(() => chiSquareGoodnessOfFit([1, 2], [1, 0])).toThrow(/> 0/);
    expect(() => chiSquareGoodnessOfFit([1, -2], [1, 1])).toThrow(/>= 0/);
    expect(() => sampleRatioMismatch([1, 2], [1, 1], 0)).toThrow(/threshold/);
  });
});
