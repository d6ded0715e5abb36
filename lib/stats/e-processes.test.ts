import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { fnchLogPmf, mixtureLogE, oneSampleUpdate, twoSampleUpdate } from './e-processes';

describe("Fisher's noncentral hypergeometric", () => {
  // Reference: scipy.stats.nchypergeom_fisher(M=n1+n2, n=n1, N=k, odds=ψ).logpmf(x), SciPy 1.17.1.
  it.each([
    [3, 20, 50, 8, 2.0, -1.2445314965440268],
    [0, 5, 100, 3, 1.0, -0.1478227227353272],
    [7, 40, 40, 12, 0.5, -2.897178775124621],
    [1, 1, 1, 1, 3.0, -0.2876820724517808],
    [25, 200, 1800, 120, 1.5, -4.6735802132516495],
  ])('log pmf(x=%i; n1=%i, n2=%i, k=%i, ψ=%f) matches SciPy', (x, n1, n2, k, psi, expected) => {
    expect(fnchLogPmf(x, n1, n2, k, Math.log(psi))).toBeCloseTo(expected, 10);
  });

  it('is zero outside the support', () => {
    expect(fnchLogPmf(9, 5, 100, 10, 0)).toBe(-Infinity);
  });
});

describe('two-sample e-process', () => {
  it('adds the conditional log likelihood ratio of a batch (SciPy: log pmf(4; ψ=2) − log pmf(4; ψ=1) for n1=30, n2=70, k=9)', () => {
    const [lr] = twoSampleUpdate([0], [Math.log(2)], 0, { candidateEvents: 4, candidateTrials: 30, stableEvents: 5, stableTrials: 70 });
    expect(lr).toBeCloseTo(0.4562453880680869, 10);
  });

  it('leaves the state alone when a batch has no events or one version had no trials', () => {
    expect(twoSampleUpdate([0.3], [1], 0, { candidateEvents: 0, candidateTrials: 10, stableEvents: 0, stableTrials: 10 })).toEqual([0.3]);
    expect(twoSampleUpdate([0.3], [1], 0, { candidateEvents: 2, candidateTrials: 10, stableEvents: 0, stableTrials: 0 })).toEqual([0.3]);
  });

  it('rejects impossible counts', () => {
    expect(() => twoSampleUpdate([0], [1], 0, { candidateEvents: 3, candidateTrials: 2, stableEvents: 0, stableTrials: 5 })).toThrow(/0 ≤ events ≤ trials/);
  });

  // Ville's inequality: under the null the mixture crosses 1/α with probability ≤ α, however
  // often it is looked at and however the split moves between batches (here 5% → 50%).
  it('crosses 1/α under the null in at most α of the sequences, at every look, with a changing split', () => {
    const rng = createRng(11);
    const grid = [1.5, 2, 3, 5, 10].map(Math.log);
    const alpha = 0.1;
    let crossed = 0;
    const runs = 1000;
    for (let r = 0; r < runs; r++) {
      let state = grid.map(() => 0);
      for (let look = 0; look < 40; look++) {
        const w = look < 10 ? 0.05 : look < 20 ? 0.25 : 0.5;
        const n1 = Math.round(100 * w);
        const n2 = 100 - n1;
        let x1 = 0;
        let x2 = 0;
        for (let i = 0; i < n1; i++) if (rng.next() < 0.05) x1++;
        for (let i = 0; i < n2; i++) if (rng.next() < 0.05) x2++;
        state = twoSampleUpdate(state, grid, 0, { candidateEvents: x1, candidateTrials: n1, stableEvents: x2, stableTrials: n2 });
        if (mixtureLogE(state) >= Math.log(1 / alpha)) {
          crossed++;
          break;
        }
      }
    }
    expect(crossed / runs).toBeLessThanOrEqual(alpha);
  });

  it('grows under the alternative: a doubled rate is found', () => {
    const rng = createRng(12);
    const grid = [1.5, 2, 3, 5, 10].map(Math.log);
    let state = grid.map(() => 0);
    for (let look = 0; look < 40; look++) {
      let x1 = 0;
      let x2 = 0;
      for (let i = 0; i < 100; i++) if (rng.next() < 0.1) x1++;
      for (let i = 0; i < 100; i++) if (rng.next() < 0.05) x2++;
      state = twoSampleUpdate(state, grid, 0, { candidateEvents: x1, candidateTrials: 100, stableEvents: x2, stableTrials: 100 });
    }
    expect(mixtureLogE(state)).toBeGreaterThan(Math.log(100));
  });
});

describe('one-sample e-process', () => {
  it('adds the binomial log likelihood ratio (SciPy: binom.logpmf(2, 100, 0.01) − binom.logpmf(2, 100, 0.03))', () => {
    expect(oneSampleUpdate([0], [0.01], 0.03, 2, 100)[0]).toBeCloseTo(-0.19715515747792178, 10);
  });

  it('handles batches without events or without misses', () => {
    expect(oneSampleUpdate([0], [0.01], 0.03, 0, 10)[0]).toBeCloseTo(10 * Math.log(0.99 / 0.97), 12);
    expect(oneSampleUpdate([0], [0.5], 0.25, 3, 3)[0]).toBeCloseTo(3 * Math.log(2), 12);
  });

  it('stays below 1/α at the boundary in at least 1 − α of the sequences', () => {
    const rng = createRng(13);
    const p0 = 0.02;
    const grid = [0.8, 0.6, 0.4, 0.2, 0.05].map((f) => f * p0);
    let crossed = 0;
    for (let r = 0; r < 1000; r++) {
      let state = grid.map(() => 0);
      for (let look = 0; look < 50; look++) {
        let x = 0;
        for (let i = 0; i < 50; i++) if (rng.next() < p0) x++;
        state = oneSampleUpdate(state, grid, p0, x, 50);
        if (mixtureLogE(state) >= Math.log(20)) {
          crossed++;
          break;
        }
      }
    }
    expect(crossed / 1000).toBeLessThanOrEqual(0.05);
  });
});
