import { describe, expect, it } from 'vitest';
import { DEFAULT_ANALYSIS } from '../rollout/spec';
import { compareShadow, type ShadowPair } from './compare';
import { shadowSpecOf } from './judge';

const spec = shadowSpecOf(DEFAULT_ANALYSIS);
const pair = (served: string | null, shadow: string | null, truth?: string | null, servedLatencyMs = 1, shadowLatencyMs = 2): ShadowPair => ({ served, shadow, truth, servedLatencyMs, shadowLatencyMs });

describe('compareShadow', () => {
  it('counts agreement on requests both answered, and accuracy on the same labelled requests for both', () => {
    const r = compareShadow(
      [
        pair('a', 'a', 'a'),
        pair('a', 'b', 'a'),
        pair('b', 'b', 'a'),
        pair('c', 'c'), // unlabelled: agreement only
        pair(null, 'a', 'a'), // the serving version failed: not in the accuracies
        pair('a', null),
      ],
      spec,
    );
    expect(r).toMatchObject({
      pairs: 6,
      bothOk: 4,
      agreement: 3 / 4,
      served: { correct: 2, labelled: 3 },
      shadow: { correct: 1, labelled: 3 },
      errors: { served: 1, shadow: 1 },
    });
    expect(r.served.accuracy).toBeCloseTo(2 / 3);
    expect(r.judgement.checks.map((c) => [c.metric, c.shadowOnly, c.servedOnly])).toEqual([
      ['accuracy', 1, 0],
      ['errorRate', 1, 1],
    ]);
  });

  it('reports p50 and p99 latency of each version’s successful answers', () => {
    const pairs = Array.from({ length: 100 }, (_, i) => pair('a', 'a', null, i + 1, 10 * (i + 1)));
    const r = compareShadow(pairs, spec);
    expect(r.latencyMs).toEqual({ served: { p50: 50, p99: 99 }, shadow: { p50: 500, p99: 990 } });
  });

  it('judges a shadow wrong on 60 % of 300 labelled requests the serving version got right as worse', () => {
    const pairs = Array.from({ length: 300 }, (_, i) => pair('a', i % 5 < 3 ? 'b' : 'a', 'a'));
    const r = compareShadow(pairs, spec);
    expect(r.judgement.verdict).toBe('worse');
    expect(r.shadow.accuracy).toBeCloseTo(0.4);
    expect(r.served.accuracy).toBe(1);
  });

  it('says nothing without pairs', () => {
    const r = compareShadow([], spec);
    expect(r).toMatchObject({ pairs: 0, agreement: null, served: { accuracy: null }, judgement: { verdict: 'inconclusive' } });
  });
});
