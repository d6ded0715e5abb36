import { describe, expect, it } from 'vitest';
import { CovariateShiftStream } from './covariate-shift';
import { Hyperplane } from './hyperplane';
import { take } from './types';

const N = 20_000;

describe('CovariateShiftStream', () => {
  const plane = (seed: number) => new Hyperplane({ nFeatures: 4, nDriftFeatures: 0, noisePercentage: 0, seed });
  const label = (w: Float64Array, x: Float64Array) => (x.reduce((s, v, j) => s + v * w[j]!, 0) >= w.reduce((s, v) => s + v, 0) / 2 ? 1 : 0);

  it('moves the kept feature (keep = x0²: density 3x², mean 3/4) and leaves the others and the concept alone', () => {
    const inner = plane(1);
    const shifted = new CovariateShiftStream(inner, { keep: (x) => x[0]! ** 2, seed: 2 });
    const { X, y } = take(shifted, N);
    const means = [0, 0, 0, 0];
    let wrong = 0;
    for (let i = 0; i < N; i++) {
      const x = X.subarray(4 * i, 4 * i + 4);
      for (let j = 0; j < 4; j++) means[j]! += x[j]! / N;
      if (y[i] !== label(inner.weights, x)) wrong++;
    }
    // Var of 3x² density: 3/80; of U[0,1): 1/12. Five standard errors.
    expect(Math.abs(means[0]! - 0.75)).toBeLessThan(5 * Math.sqrt(3 / 80 / N));
    for (const j of [1, 2, 3]) expect(Math.abs(means[j]! - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    // Noiseless hyperplane: every kept label is still the inner stream's rule.
    expect(wrong).toBe(0);
  });

  it('is the inner stream itself when everything is kept, and repeats for a seed', () => {
    const a = take(new CovariateShiftStream(plane(3), { keep: () => 1, seed: 9 }), 100);
    expect(Array.from(a.X)).toEqual(Array.from(take(plane(3), 100).X));
    const b1 = take(new CovariateShiftStream(plane(3), { keep: (x) => x[1]!, seed: 5 }), 50);
    const b2 = take(new CovariateShiftStream(plane(3), { keep: (x) => x[1]!, seed: 5 }), 50);
    expect(Array.from(b1.X)).toEqual(Array.from(b2.X));
  });

  it('refuses a keep that is not a probability, and gives up on one that keeps nothing', () => {
    expect(() => new CovariateShiftStream(plane(1), { keep: () => 2 }).next()).toThrow('keep(x) must be a probability in [0, 1] (got 2)');
    expect(() => new CovariateShiftStream(plane(1), { keep: () => 0, maxTries: 100 }).next()).toThrow('no sample kept in 100 draws');
    expect(() => new CovariateShiftStream(plane(1), { keep: () => 1, maxTries: 0 })).toThrow('maxTries must be a positive integer');
  });
});
