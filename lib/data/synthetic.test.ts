import { describe, expect, it } from 'vitest';
import { datasetDigest } from './digest';
import { makeClassification } from './synthetic';

describe('makeClassification', () => {
  it('has the documented shape and names', () => {
    const ds = makeClassification({ rows: 100, features: 5, classes: 3, seed: 1 });
    expect(ds.nRows).toBe(100);
    expect(ds.nFeatures).toBe(5);
    expect(ds.x.length).toBe(500);
    expect(ds.featureNames).toEqual(['x0', 'x1', 'x2', 'x3', 'x4']);
    expect(ds.labelName).toBe('y');
    expect(ds.classes).toEqual(['0', '1', '2']);
    expect(Math.min(...ds.y)).toBe(0);
    expect(Math.max(...ds.y)).toBe(2);
  });

  it('is deterministic for a seed', () => {
    const a = makeClassification({ rows: 200, features: 4, classes: 2, seed: 7 });
    expect(datasetDigest(makeClassification({ rows: 200, features: 4, classes: 2, seed: 7 }))).toBe(datasetDigest(a));
    expect(datasetDigest(makeClassification({ rows: 200, features: 4, classes: 2, seed: 8 }))).not.toBe(datasetDigest(a));
  });

  it('puts signal on the informative columns only, and classes roughly balanced', () => {
    const ds = makeClassification({ rows: 20_000, features: 4, classes: 2, informative: 2, classSeparation: 2, labelNoise: 0, seed: 3 });
    const meanBy = (j: number, c: number) => {
      let s = 0;
      let n = 0;
      for (let i = 0; i < ds.nRows; i++) if (ds.y[i] === c) (s += ds.x[i * 4 + j]), n++;
      return s / n;
    };
    // Informative: the class means sit at ±2 (some corner of the square), and differ between classes.
    const corner = (c: number) => [meanBy(0, c), meanBy(1, c)];
    for (const c of [0, 1]) for (const m of corner(c)) expect(Math.abs(Math.abs(m) - 2)).toBeLessThan(0.05);
    expect(corner(0)).not.toEqual(corner(1));
    // Noise: the same mean (0) for both classes.
    for (const c of [0, 1]) for (const j of [2, 3]) expect(Math.abs(meanBy(j, c))).toBeLessThan(0.05);
    const ones = ds.y.reduce((s, v) => s + v, 0);
    expect(Math.abs(ones / ds.nRows - 0.5)).toBeLessThan(0.02);
  });

  it('redraws about labelNoise of the labels', () => {
    // One informative dimension, clusters at ±50: the side of 0 reveals the true class.
    const disagreement = (labelNoise: number) => {
      const ds = makeClassification({ rows: 20_000, features: 1, informative: 1, classes: 2, classSeparation: 50, labelNoise, seed: 4 });
      let agree = 0;
      for (let i = 0; i < ds.nRows; i++) if ((ds.x[i] > 0 ? 1 : 0) === ds.y[i]) agree++;
      return Math.min(agree, ds.nRows - agree) / ds.nRows;
    };
    expect(disagreement(0)).toBe(0);
    // Half the redraws land on the same class: 0.2 noise flips ~10% of labels.
    expect(Math.abs(disagreement(0.2) - 0.1)).toBeLessThan(0.01);
  });

  it('rejects impossible options', () => {
    expect(() => makeClassification({ rows: 10, features: 1, classes: 3, seed: 1 })).toThrow('3 classes need at least 2 informative features (got 1)');
    expect(() => makeClassification({ rows: 10, features: 2, classes: 2, informative: 3, seed: 1 })).toThrow('informative (3) cannot exceed features (2)');
    expect(() => makeClassification({ rows: 0, features: 2, classes: 2, seed: 1 })).toThrow('rows must be an integer >= 1 (got 0)');
    expect(() => makeClassification({ rows: 10, features: 2, classes: 1, seed: 1 })).toThrow('classes must be an integer >= 2 (got 1)');
    expect(() => makeClassification({ rows: 10, features: 2, classes: 2, labelNoise: 2, seed: 1 })).toThrow('labelNoise must be between 0 and 1 (got 2)');
  });

  it('is fast enough for millions of rows', () => {
    const t = performance.now();
    makeClassification({ rows: 500_000, features: 20, classes: 5, seed: 1 });
    // ~10M normals; generous bound for slow CI machines.
    expect(performance.now() - t).toBeLessThan(5000);
  });
});
