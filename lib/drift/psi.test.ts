import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { PSI_EPSILON, psi, psiReference } from './psi';

const normals = (seed: number, n: number, mean = 0, sd = 1) => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => mean + sd * rng.normal());
};

describe('PSI', () => {
  it('cuts deciles from the reference, which then holds ~10% per bin', () => {
    const ref = psiReference(normals(1, 10_000));
    expect(ref.edges).toHaveLength(9);
    for (const p of ref.proportions) expect(p).toBeCloseTo(0.1, 3);
    expect(psi(ref, normals(1, 10_000)).psi).toBe(0);
  });

  it('stays small for a fresh sample of the same distribution and grows with the shift', () => {
    const ref = psiReference(normals(1, 20_000));
    const same = psi(ref, normals(2, 5000)).psi;
    const small = psi(ref, normals(3, 5000, 0.1)).psi;
    const large = psi(ref, normals(4, 5000, 0.5)).psi;
    const wide = psi(ref, normals(5, 5000, 0, 2)).psi;
    expect(same).toBeLessThan(0.01);
    expect(small).toBeGreaterThan(same);
    expect(small).toBeLessThan(0.1);
    expect(large).toBeGreaterThan(0.2);
    expect(wide).toBeGreaterThan(0.25);
  });

  it('matches the formula on a hand-made case, empty bins floored', () => {
    const ref = psiReference([1, 2, 3, 4], { bins: 2 });
    expect(ref.edges).toEqual([2]);
    expect(ref.proportions).toEqual([0.5, 0.5]);
    const r = psi(ref, [5, 6, 7]);
    expect(r.proportions).toEqual([0, 1]);
    const expected = (PSI_EPSILON - 0.5) * Math.log(PSI_EPSILON / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
    expect(r.psi).toBeCloseTo(expected, 12);
    expect(r.contributions[0] + r.contributions[1]).toBeCloseTo(r.psi, 15);
  });

  it('copes with discrete features: tied cut points collapse into fewer bins', () => {
    const rng = createRng(9);
    const ref = psiReference(Array.from({ length: 1000 }, () => rng.nextInt(3)));
    expect(ref.edges).toEqual([0, 1]);
    expect(ref.proportions.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);
    expect(psiReference([7, 7, 7]).edges).toEqual([]);
  });

  it('rejects bad input', () => {
    expect(() => psiReference([])).toThrow(RangeError);
    expect(() => psiReference([1, Infinity])).toThrow(RangeError);
    expect(() => psiReference([1, 2], { bins: 1 })).toThrow(RangeError);
    expect(() => psi(psiReference([1, 2]), [])).toThrow(RangeError);
  });
});
