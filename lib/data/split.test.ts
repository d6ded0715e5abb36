import { describe, expect, it } from 'vitest';
import { stratifiedSplit, timeSplit } from './split';

const labels = (...counts: number[]) => {
  // Interleaved, so a split that ignored classes would not match by accident.
  const out: number[] = [];
  const left = counts.slice();
  while (left.some((c) => c > 0)) left.forEach((c, k) => c > 0 && (out.push(k), left[k]--));
  return Int32Array.from(out);
};

const classCounts = (y: Int32Array, idx: Uint32Array, k: number) => {
  const c = new Array(k).fill(0);
  for (const i of idx) c[y[i]]++;
  return c;
};

describe('stratifiedSplit', () => {
  it('keeps each class in proportion and partitions every row exactly once', () => {
    const y = labels(500, 300, 200);
    const { train, holdout } = stratifiedSplit(y, 3, 0.2, 1);
    expect(classCounts(y, holdout, 3)).toEqual([100, 60, 40]);
    expect(classCounts(y, train, 3)).toEqual([400, 240, 160]);
    const all = [...train, ...holdout].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: y.length }, (_, i) => i));
  });

  it('returns ascending indices', () => {
    const { train, holdout } = stratifiedSplit(labels(50, 50), 2, 0.3, 7);
    for (const part of [train, holdout]) for (let i = 1; i < part.length; i++) expect(part[i]).toBeGreaterThan(part[i - 1]);
  });

  it('is deterministic for a seed and varies with it', () => {
    const y = labels(100, 100);
    const a = stratifiedSplit(y, 2, 0.25, 42);
    expect(stratifiedSplit(y, 2, 0.25, 42)).toEqual(a);
    expect([...stratifiedSplit(y, 2, 0.25, 43).holdout]).not.toEqual([...a.holdout]);
  });

  it('puts a class with ≥2 rows on both sides, even when the fraction rounds to 0 or to all', () => {
    const y = labels(1000, 2, 3);
    const small = stratifiedSplit(y, 3, 0.01, 1);
    expect(classCounts(y, small.holdout, 3).slice(1)).toEqual([1, 1]);
    expect(classCounts(y, small.train, 3).slice(1)).toEqual([1, 2]);
    const large = stratifiedSplit(y, 3, 0.99, 1);
    expect(classCounts(y, large.train, 3)).toEqual([10, 1, 1]);
  });

  it('sends a class with a single row to train', () => {
    const y = labels(10, 1);
    const { train, holdout } = stratifiedSplit(y, 2, 0.5, 1);
    expect(classCounts(y, holdout, 2)).toEqual([5, 0]);
    expect(classCounts(y, train, 2)).toEqual([5, 1]);
  });

  it('validates the fraction and the labels', () => {
    const y = labels(5, 5);
    for (const f of [0, 1, -0.1, 1.5, Number.NaN]) expect(() => stratifiedSplit(y, 2, f, 1)).toThrow(`holdout fraction must be > 0 and < 1 (got ${f})`);
    expect(() => stratifiedSplit(Int32Array.from([0, 2]), 2, 0.5, 1)).toThrow('label index 2 at row 1 is outside [0, 2)');
  });
});

describe('timeSplit', () => {
  it('holds out the newest rows, trains on the older ones, in order', () => {
    const s = timeSplit(10, 0.3);
    expect(Array.from(s.train)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(s.holdout)).toEqual([7, 8, 9]);
  });
  it('keeps a row on each side of a tiny dataset and refuses one row', () => {
    expect(Array.from(timeSplit(2, 0.01).holdout)).toEqual([1]);
    expect(Array.from(timeSplit(2, 0.99).train)).toEqual([0]);
    expect(() => timeSplit(1, 0.2)).toThrow(/at least 2 rows/);
  });
});
