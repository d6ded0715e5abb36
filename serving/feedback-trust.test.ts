import { describe, expect, it } from 'vitest';
import { OthersCache } from './feedback-trust';

const row = (model: string, version: string, labels: number) => ({ part: 2, i: null, model, version, unit_key: null, predicted_label: null, labels: String(labels), contradicting: '0' });

describe("the other clients' counts cache", () => {
  it('answers only while fresh and only for the versions it read', () => {
    const c = new OthersCache(2_000);
    const want = (m: Record<string, string[]>) => new Map(Object.entries(m).map(([k, v]) => [k, new Set(v)]));
    c.set(want({ iris: ['1', '2'] }), [row('iris', '1', 30), row('iris', '2', 5), row('other', '1', 9)], 1_000);
    expect(c.get(want({ iris: ['2'] }), 2_000)).toEqual([row('iris', '1', 30), row('iris', '2', 5)]);
    expect(c.get(want({ iris: ['3'] }), 2_000)).toBeUndefined(); // a version it did not read
    expect(c.get(want({ iris: ['1'], wine: ['1'] }), 2_000)).toBeUndefined(); // a model it did not read
    expect(c.get(want({ iris: ['1'] }), 3_001)).toBeUndefined(); // stale
    expect(new OthersCache(0).get(want({ iris: ['1'] }), 0)).toBeUndefined();
  });
});
