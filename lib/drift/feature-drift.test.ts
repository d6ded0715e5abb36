import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { FEATURE_DRIFT_DEFAULTS, FeatureReference } from './feature-drift';

function normalRows(n: number, d: number, seed: number, shift: (j: number) => number = () => 0): Float64Array {
  const rng = createRng(seed);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() + shift(j);
  return x;
}

describe('FeatureReference.check', () => {
  const ref = FeatureReference.fromRows(normalRows(5000, 3, 1), 5000, 3, ['age', 'income', 'tenure']);

  it('flags only the feature that moved, naming it, with PSI and KS', () => {
    const r = ref.check(normalRows(1000, 3, 2, (j) => (j === 1 ? 1 : 0)), 1000);
    expect(r.judged).toBe(true);
    expect(r.moved.map((s) => s.name)).toEqual(['income']);
    expect(r.moved[0]!.psi).toBeGreaterThan(0.25);
    expect(r.moved[0]!.pvalue).toBeLessThan(1e-6);
    expect(r.scores.filter((s) => s.feature !== 1).every((s) => !s.moved && s.psi < 0.1)).toBe(true);
  });

  it('raises nothing on fresh draws of the same distribution', () => {
    for (let seed = 10; seed < 30; seed++) expect(ref.check(normalRows(1000, 3, seed), 1000).moved).toEqual([]);
  });

  it('judges nothing below the minimum sample, however far the window moved', () => {
    const r = ref.check(normalRows(100, 3, 3, () => 5), 100);
    expect(r).toEqual({ judged: false, nCurrent: 100, scores: [], moved: [] });
    expect(ref.check(normalRows(100, 3, 3, () => 5), 100, { ...FEATURE_DRIFT_DEFAULTS, minSample: 50 }).moved).toHaveLength(3);
  });

  it('needs both: a large PSI without KS support (or the reverse) is not flagged', () => {
    const r = ref.check(normalRows(1000, 3, 4, (j) => (j === 0 ? 0.15 : 0)), 1000);
    const s = r.scores[0]!;
    // A small shift on 1000 rows: KS finds it, PSI calls it minor.
    expect(s.pvalue).toBeLessThan(0.001 / 3);
    expect(s.psi).toBeLessThan(0.1);
    expect(s.moved).toBe(false);
    expect(ref.check(normalRows(1000, 3, 4, (j) => (j === 0 ? 0.15 : 0)), 1000, { ...FEATURE_DRIFT_DEFAULTS, psiThreshold: 0.01 }).moved.map((m) => m.name)).toEqual(['age']);
  });
});
