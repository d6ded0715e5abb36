import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { type Classification, classifyMetric, hodgesLehmann, kthPairwiseDifference, scoreGroup } from './judge';
import { mannWhitneyU } from './tests';

function lognormal(seed: number, n: number, mu: number, sigma: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Math.exp(mu + sigma * rng.normal()));
}

function allDifferences(x: Float64Array, y: Float64Array): number[] {
  const d: number[] = [];
  for (const a of x) for (const b of y) d.push(a - b);
  return d.sort((p, q) => p - q);
}

describe('pairwise differences (Hodges–Lehmann)', () => {
  it('selects the k-th difference exactly as sorting all of them would, ties and negatives included', () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 30; trial++) {
      const n = 1 + rng.nextInt(25);
      const m = 1 + rng.nextInt(25);
      const x = Float64Array.from({ length: n }, () => Math.round(rng.normal() * 4) / 2).sort();
      const y = Float64Array.from({ length: m }, () => rng.normal() * 3).sort();
      const all = allDifferences(x, y);
      for (const k of [1, Math.ceil(all.length / 3), Math.ceil(all.length / 2), all.length]) {
        expect(kthPairwiseDifference(x, y, k)).toBe(all[k - 1]);
      }
    }
  });

  it('gives the median difference and the Moses interval', () => {
    const x = Float64Array.from([1, 2, 3, 10, 11, 12, 13, 14, 15, 16]);
    const y = Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const all = allDifferences(x, y);
    const { shift, ci } = hodgesLehmann(x, y, 0.95);
    expect(shift).toBe((all[49] + all[50]) / 2);
    // k = floor(50 − 1.96·sqrt(100·21/12)) = 24
    expect(ci).toEqual([all[23], all[100 - 24]]);
    expect(hodgesLehmann(Float64Array.from([1]), Float64Array.from([2]), 0.98).ci).toBeNull();
  });
});

describe('classifyMetric', () => {
  const stable = lognormal(1, 120, 3, 0.4); // latency-like, ms
  const slower = lognormal(2, 120, 3.25, 0.4); // ~28% slower
  const same = lognormal(3, 120, 3, 0.4);

  it('classifies a slower candidate as high when increases are bad, with p-value and effect', () => {
    const r = classifyMetric({ candidate: slower, stable, direction: 'increase-is-bad' });
    expect(r.classification).toBe('high');
    expect(r.observed).toBe('higher');
    expect(r.pValue).toBe(mannWhitneyU(slower, stable).pValue);
    expect(r.pValue!).toBeLessThan(0.02);
    expect(r.effect!.shift).toBeGreaterThan(0);
    expect(r.effect!.shiftCi![0]).toBeGreaterThan(0);
    expect(r.effect!.relativeChange!).toBeGreaterThan(0.15);
    expect(r.effect!.relativeChange!).toBeLessThan(0.45);
  });

  it('passes the same change when only decreases are bad, and flags it low the other way round', () => {
    expect(classifyMetric({ candidate: slower, stable, direction: 'decrease-is-bad' })).toMatchObject({ classification: 'pass', observed: 'higher', significant: true });
    expect(classifyMetric({ candidate: stable, stable: slower, direction: 'decrease-is-bad' }).classification).toBe('low');
    expect(classifyMetric({ candidate: stable, stable: slower, direction: 'either-is-bad' }).classification).toBe('low');
  });

  it('passes an unchanged candidate and tolerates a significant change within allowedRelativeChange', () => {
    expect(classifyMetric({ candidate: same, stable, direction: 'increase-is-bad' })).toMatchObject({ classification: 'pass', significant: false });
    const tolerant = classifyMetric({ candidate: slower, stable, direction: 'increase-is-bad', allowedRelativeChange: 0.5 });
    expect(tolerant).toMatchObject({ classification: 'pass', significant: true });
    expect(tolerant.reason).toMatch(/within the allowed/);
    expect(classifyMetric({ candidate: slower, stable, direction: 'increase-is-bad', allowedRelativeChange: 0.1 }).classification).toBe('high');
  });

  it('is stricter at higher confidence', () => {
    const mild = lognormal(4, 60, 3.12, 0.4);
    const p = classifyMetric({ candidate: mild, stable, direction: 'increase-is-bad' }).pValue!;
    expect(classifyMetric({ candidate: mild, stable, direction: 'increase-is-bad', confidence: 1 - p * 1.01 }).classification).toBe('high');
    expect(classifyMetric({ candidate: mild, stable, direction: 'increase-is-bad', confidence: 1 - p * 0.99 }).classification).toBe('pass');
  });

  it('returns nodata when a side has no finite values and drops NaN points otherwise', () => {
    expect(classifyMetric({ candidate: [], stable, direction: 'increase-is-bad' })).toMatchObject({ classification: 'nodata', pValue: null, effect: null });
    expect(classifyMetric({ candidate: [NaN, NaN], stable, direction: 'increase-is-bad' }).classification).toBe('nodata');
    const r = classifyMetric({ candidate: [...slower, NaN, Infinity], stable, direction: 'increase-is-bad' });
    expect(r.candidateCount).toBe(120);
    expect(r.classification).toBe('high');
    expect(classifyMetric({ candidate: [0, 0, 0], stable: [0, 0], direction: 'either-is-bad' })).toMatchObject({ classification: 'pass', pValue: 1 });
    expect(classifyMetric({ candidate: [1, 2], stable: [0, 0, 0], direction: 'increase-is-bad' }).effect!.relativeChange).toBeNull();
    expect(() => classifyMetric({ candidate: [1], stable: [1], direction: 'up' as never })).toThrow(/direction/);
  });
});

describe('scoreGroup', () => {
  const many = (n: number, c: Classification): Classification[] => Array.from({ length: n }, () => c);

  it('scores the share of passing metrics with Kayenta thresholds (pass 95, marginal 75)', () => {
    expect(scoreGroup([...many(19, 'pass'), 'high'])).toMatchObject({ score: 95, verdict: 'pass' });
    expect(scoreGroup([...many(8, 'pass'), 'high', 'low'])).toMatchObject({ score: 80, verdict: 'marginal' });
    expect(scoreGroup([...many(2, 'pass'), 'high', 'low'])).toMatchObject({ score: 50, verdict: 'fail' });
  });

  it('ignores nodata, applies weights, accepts classifyMetric results, and fails on a critical metric', () => {
    expect(scoreGroup(['pass', 'pass', 'nodata', 'high'], [1, 1, 5, 2])).toMatchObject({ score: 50, counts: { pass: 2, high: 1, low: 0, nodata: 1 } });
    expect(scoreGroup([{ classification: 'pass' }, { classification: 'nodata' }])).toMatchObject({ score: 100, verdict: 'pass' });
    expect(scoreGroup(['nodata', 'nodata'])).toMatchObject({ score: 0, verdict: 'nodata' });
    expect(scoreGroup([...many(30, 'pass'), 'low'], undefined, { critical: [...Array(30).fill(false), true] })).toMatchObject({
      score: 0,
      verdict: 'fail',
      criticalFailures: [30],
    });
    expect(scoreGroup(['pass', 'high'], undefined, { passThreshold: 50, marginalThreshold: 25 }).verdict).toBe('pass');
    expect(() => scoreGroup(['pass'], [1, 2])).toThrow(/weights/);
    expect(() => scoreGroup(['maybe' as Classification])).toThrow(/unknown/);
  });
});
