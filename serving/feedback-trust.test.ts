import { describe, expect, it } from 'vitest';
import { MineCache, OthersCache } from './feedback-trust';

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

describe("a client's own counts cache", () => {
  const want = (m: Record<string, string[]>) => new Map(Object.entries(m).map(([k, v]) => [k, new Set(v)]));
  const mine = (version: string, labels: number, contradicting: number) => ({ part: 1, i: null, model: 'iris', version, unit_key: null, predicted_label: null, labels: String(labels), contradicting: String(contradicting) });

  it('answers only while fresh, for the client and versions it read', () => {
    const c = new MineCache(2_000);
    c.set('key:a', want({ iris: ['1'] }), [mine('1', 10, 2)], 1_000);
    expect(c.get('key:a', want({ iris: ['1'] }), 2_000)).toEqual([mine('1', 10, 2)]);
    expect(c.get('key:b', want({ iris: ['1'] }), 2_000)).toBeUndefined();
    expect(c.get('key:a', want({ iris: ['2'] }), 2_000)).toBeUndefined();
    expect(c.get('key:a', want({ iris: ['1'] }), 3_001)).toBeUndefined();
  });

  it('adds the labels judged since its read, per version and unit, until the next read replaces them', () => {
    const c = new MineCache(2_000);
    c.set('key:a', want({ iris: ['1'] }), [mine('1', 10, 2)], 1_000);
    c.judged('key:a', [
      { model: 'iris', version: '1', unitKey: null, wrong: true },
      { model: 'iris', version: '1', unitKey: null, wrong: false },
      { model: 'iris', version: '1', unitKey: 'u1', wrong: true },
    ]);
    const rows = c.get('key:a', want({ iris: ['1'] }), 1_500)!;
    expect(rows.map((r) => [r.unit_key, Number(r.labels), Number(r.contradicting)])).toEqual([
      [null, 10, 2],
      [null, 2, 1],
      ['u1', 1, 1],
    ]);
    c.set('key:a', want({ iris: ['1'] }), [mine('1', 13, 4)], 2_000);
    expect(c.get('key:a', want({ iris: ['1'] }), 2_500)).toEqual([mine('1', 13, 4)]);
    c.judged('key:b', [{ model: 'iris', version: '1', unitKey: null, wrong: true }]); // never read: nothing to add to
    expect(c.get('key:b', want({ iris: ['1'] }), 2_500)).toBeUndefined();
  });
});
