import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { analyse, percentile, type VersionSample } from './analyse';
import { DEFAULT_ANALYSIS, FIXED_HORIZON_METRICS, type AnalysisSpec } from './spec';

const rng = createRng(7);
function sample(n: number, errorRate: number, latencyMs: number, accuracy: number, labelled = n): VersionSample {
  const latencies = Array.from({ length: n }, () => latencyMs * (0.8 + 0.4 * rng.next()));
  const errors = Math.round(n * errorRate);
  return { requests: n, errors, latenciesMs: latencies, labelled, correct: Math.round(labelled * accuracy) };
}

const spec: AnalysisSpec = { ...DEFAULT_ANALYSIS, judge: 'fixed-horizon', metrics: FIXED_HORIZON_METRICS, minSamplePerStep: 100, minLabelledSample: 50 };

describe('analyse', () => {
  it('passes a candidate that behaves like stable', () => {
    const r = analyse(spec, sample(2000, 0.01, 5, 0.9), sample(500, 0.01, 5, 0.9));
    expect(r.verdict).toBe('pass');
    expect(r.checks.map((c) => c.verdict)).toEqual(['pass', 'pass', 'pass']);
  });

  it('is inconclusive below the minimum sample, naming the metric and the count', () => {
    const r = analyse(spec, sample(2000, 0.01, 5, 0.9), sample(40, 0.01, 5, 0.9));
    expect(r.verdict).toBe('inconclusive');
    expect(r.reason).toBe('error rate: 40 candidate samples, need 100');
  });

  it('fails on an absolute error-rate limit', () => {
    const r = analyse(spec, sample(2000, 0.01, 5, 0.9), sample(500, 0.2, 5, 0.9));
    expect(r.verdict).toBe('fail');
    expect(r.reason).toBe('error rate 0.2 is above the limit 0.05 (100/500)');
  });

  it('fails a significantly worse error rate relative to stable, within the absolute limit', () => {
    const r = analyse(spec, sample(5000, 0.005, 5, 0.9), sample(2000, 0.03, 5, 0.9));
    expect(r.checks[0]!.verdict).toBe('fail');
    expect(r.checks[0]!.reason).toMatch(/^error rate 0\.03 is significantly higher than stable's 0\.005 \(p = /);
  });

  it('fails on latency shifted up (Mann-Whitney), passes a small tolerated shift', () => {
    const slow = analyse(spec, sample(1000, 0, 5, 0.9), sample(500, 0, 9, 0.9));
    expect(slow.checks[1]!.verdict).toBe('fail');
    expect(slow.checks[1]!.reason).toMatch(/^p95 latency .* ms vs stable .* ms: significantly higher/);
    const similar = analyse(spec, sample(1000, 0, 5, 0.9), sample(500, 0, 5.1, 0.9));
    expect(similar.checks[1]!.verdict).toBe('pass');
  });

  it('fails a significant accuracy drop and names it', () => {
    const r = analyse(spec, sample(2000, 0, 5, 0.92), sample(800, 0, 5, 0.6));
    expect(r.verdict).toBe('fail');
    expect(r.reason).toMatch(/^accuracy 0\.6 is significantly lower than stable's 0\.92/);
  });

  it('does not fail an accuracy that is higher than stable', () => {
    const r = analyse(spec, sample(2000, 0, 5, 0.8), sample(800, 0, 5, 0.95));
    expect(r.checks[2]!.verdict).toBe('pass');
  });

  it('treats missing labels as inconclusive, not as failure', () => {
    const r = analyse(spec, sample(2000, 0, 5, 0.9), sample(500, 0, 5, 0.9, 10));
    expect(r.checks[2]!.verdict).toBe('inconclusive');
    expect(r.checks[2]!.reason).toBe('accuracy: 10 candidate samples, need 50');
  });
});

describe('percentile', () => {
  it('uses the nearest-rank definition', () => {
    expect(percentile([], 0.95)).toBeNull();
    expect(percentile([3, 1, 2], 0.5)).toBe(2);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
  });
});
