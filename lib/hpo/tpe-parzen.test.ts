import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { defaultWeights, ParzenEstimator } from './tpe-parzen';
import { space } from './test-helpers';

const params = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false };

// Expected values computed with Optuna 5.0.0's _ParzenEstimator on the same observations.
describe('Parzen estimator', () => {
  const sp = space({
    x: { type: 'float', low: -5, high: 10 },
    lr: { type: 'float', low: 1e-5, high: 1, log: true },
    c: { type: 'categorical', choices: ['a', 'b', 'c'] },
    k: { type: 'int', low: 0, high: 10, step: 2 },
  });
  const specs = ['x', 'lr', 'c', 'k'].map((n) => sp[n]);

  it('matches Optuna on a mixed space', () => {
    const obs = [
      [0.5, 1e-3, 0, 2],
      [7.25, 0.2, 2, 10],
      [-3.0, 3e-5, 2, 4],
      [9.9, 0.5, 1, 8],
    ];
    const pts = [
      [0.0, 1e-4, 0, 0],
      [5.0, 0.9, 1, 6],
      [-4.9, 2e-5, 2, 10],
      [9.99, 0.01, 2, 4],
    ];
    const expected = [-7.72964545900144, -7.329303481802083, -7.861483015768734, -8.855614257262845];
    const got = new ParzenEstimator(specs, obs, params).logPdf(pts);
    expected.forEach((e, i) => expect(got[i]).toBeCloseTo(e, 11));
  });

  it('matches Optuna once older observations are down-weighted (n = 30)', () => {
    const x = [-3.715262, -1.447842, 7.019117, 3.732431, -3.58807, 1.496904, 2.185769, -2.603916, 6.018657, -3.29492, 0.868423, 2.751103, 1.45942, 3.801979, 6.067567, 9.344009, -0.736983, 4.728208, 5.44324, -0.609189, -4.977649, 9.601904, -0.523982, -0.29021, 8.375666, 3.777444, 2.069645, 6.599155, -4.54481, 5.604476];
    const lr = [0.000743394198, 2.8461879e-5, 0.020067826479, 0.454275456741, 0.000108631516, 0.014140051751, 0.000309610338, 0.051142670341, 0.040815398465, 0.000124044389, 0.141069904186, 0.019420528946, 0.025941467438, 0.126002380717, 0.001389519102, 0.062162333039, 0.246831693745, 3.2478773e-5, 0.177354285631, 0.000932473854, 0.002502762376, 5.3910437e-5, 0.031055013669, 0.000288332156, 0.226827522341, 0.00023816168, 0.006442413463, 0.000996049922, 0.011602389996, 9.620468e-5];
    const pe = new ParzenEstimator([sp.x, sp.lr], x.map((v, i) => [v, lr[i]]), params);
    const got = pe.logPdf([
      [1.0, 1e-3],
      [-2.0, 0.3],
      [8.5, 1e-5],
    ]);
    [-6.819449024340765, -5.875133127469079, -8.503129651678943].forEach((e, i) => expect(got[i]).toBeCloseTo(e, 12));
  });

  it('uses Optuna’s weights: flat for the newest 25, a ramp before', () => {
    expect(defaultWeights(3)).toEqual([1, 1, 1]);
    const w = defaultWeights(30);
    expect(w[0]).toBeCloseTo(1 / 30, 15);
    expect(w[4]).toBe(1);
    expect(w.slice(5)).toEqual(new Array(25).fill(1));
  });

  it('samples valid internal values', () => {
    const pe = new ParzenEstimator(specs, [[0.5, 1e-3, 0, 2]], params);
    for (const [x, l, c, k] of pe.sample(createRng(1), 200)) {
      expect(x).toBeGreaterThanOrEqual(-5);
      expect(x).toBeLessThanOrEqual(10);
      expect(l).toBeGreaterThanOrEqual(1e-5);
      expect(l).toBeLessThanOrEqual(1);
      expect([0, 1, 2]).toContain(c);
      expect([0, 2, 4, 6, 8, 10]).toContain(k);
    }
  });
});
