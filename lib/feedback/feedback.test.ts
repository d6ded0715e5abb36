import { describe, expect, it } from 'vitest';
import { checkFeedbackBatch, checkFeedbackItem, type FeedbackItem } from './channels';
import { QualityTracker, scoreSignals } from './quality';

const id = '01a2185b-2c3b-7e20-a48c-d90d344c29d7';
const other = '01a2185b-2c3b-7e20-a48c-d90d344c29d8';

function item(over: Partial<FeedbackItem>): FeedbackItem {
  return { predictionId: id, kind: 'click', value: null, label: null, event: null, comment: null, source: null, unitKey: null, idempotencyKey: null, ...over };
}

describe('feedback channels', () => {
  it('accepts every channel and normalises the prediction id', () => {
    const ok = [
      { predictionId: id.toUpperCase(), kind: 'rating', value: 4 },
      { predictionId: id, kind: 'click' },
      { predictionId: id, kind: 'dismiss' },
      { predictionId: id, kind: 'dwell', value: 3.5 },
      { predictionId: id, kind: 'copy' },
      { predictionId: id, kind: 'event', event: 'add_to_cart', value: 2 },
      { predictionId: id, kind: 'label', label: 'setosa' },
      { predictionId: id, kind: 'comment', comment: 'great answer', source: 'web', unitKey: 'u1', idempotencyKey: 'k' },
    ];
    for (const b of ok) expect(checkFeedbackItem(b).ok, JSON.stringify(b)).toBe(true);
    const r = checkFeedbackItem(ok[0]);
    expect(r.ok && r.value.predictionId).toBe(id);
  });

  it('names the field (and the item) that is wrong', () => {
    const cases: Array<[unknown, string]> = [
      [{ predictionId: id, kind: 'like' }, 'kind: must be one of rating, click, dismiss, dwell, copy, event, label, comment'],
      [{ predictionId: id, kind: 'rating', value: 0 }, 'value: a rating must be a number from 1 to 5'],
      [{ predictionId: id, kind: 'dwell' }, 'value: dwell must be a number of seconds ≥ 0'],
      [{ predictionId: id, kind: 'event' }, 'event: required with kind event (the action\'s name, e.g. add_to_cart)'],
      [{ predictionId: id, kind: 'event', event: '9 lives' }, 'event: must start with a letter and hold only letters, digits, _ . : -'],
      [{ predictionId: id, kind: 'click', event: 'x' }, 'event: only allowed with kind event'],
      [{ predictionId: id, kind: 'comment', comment: '   ' }, 'comment: must be non-blank text of at most 4000 characters'],
      [{ predictionId: id, kind: 'comment' }, 'comment: required with kind comment (the text)'],
      [{ predictionId: id, kind: 'rating', value: 3, comment: 'x' }, 'comment: only allowed with kind comment'],
      [{ predictionId: id, kind: 'click', source: '' }, 'source: must be a non-empty string of at most 256 characters'],
      // PostgreSQL cannot store these: refused here, so they never fail a group commit.
      [{ predictionId: id, kind: 'label', label: 'cat\u0000' }, 'label: contains a NUL byte'],
      [{ predictionId: id, kind: 'comment', comment: 'bad \uD800 text' }, 'comment: contains a lone UTF-16 surrogate (not valid Unicode)'],
      [{ predictionId: id, kind: 'click', idempotencyKey: '\u0000' }, 'idempotencyKey: contains a NUL byte'],
      [{ predictionId: id, kind: 'click', unitKey: 'u\u0000' }, 'unitKey: contains a NUL byte'],
      [{ predictionId: id, kind: 'click', source: '\uDC00' }, 'source: contains a lone UTF-16 surrogate (not valid Unicode)'],
      [{ predictionId: id, kind: 'click', when: 1 }, 'when: unknown field (expected predictionId, kind, value, label, event, comment, source, unitKey, idempotencyKey)'],
    ];
    for (const [body, message] of cases) expect(checkFeedbackItem(body)).toMatchObject({ ok: false, message });
    expect(checkFeedbackBatch({ items: [{ predictionId: id, kind: 'click' }, { predictionId: 'x', kind: 'click' }] })).toMatchObject({
      ok: false,
      message: 'items[1].predictionId: must be the UUID a predict response returned',
    });
    expect(checkFeedbackBatch({ items: [{ predictionId: id, kind: 'click' }, { predictionId: id, kind: 'label', label: '\u0000' }] })).toMatchObject({
      ok: false,
      message: 'items[1].label: contains a NUL byte',
    });
    // The field travels with the message (the gateway's error body carries it).
    expect(checkFeedbackBatch({ items: [{ predictionId: id, kind: 'click', unitKey: '\uD800' }] })).toEqual({
      ok: false,
      field: 'items[0].unitKey',
      message: 'items[0].unitKey: contains a lone UTF-16 surrogate (not valid Unicode)',
    });
    expect(checkFeedbackBatch({ items: [1] })).toMatchObject({ ok: false, message: 'items[0]: expected a JSON object with predictionId and kind' });
    expect(checkFeedbackBatch({ items: [] })).toMatchObject({ ok: false, message: 'items: expected a non-empty array of feedback items' });
    expect(checkFeedbackBatch({ items: Array.from({ length: 5001 }, () => ({})) })).toMatchObject({ ok: false, message: 'items: at most 5000 per request, got 5001' });
    expect(
      checkFeedbackBatch({
        items: [
          { predictionId: id, kind: 'rating', value: 2, idempotencyKey: 'k' },
          { predictionId: id, kind: 'rating', value: 3, idempotencyKey: 'k' },
        ],
      }),
    ).toMatchObject({ ok: false, message: 'items[1].idempotencyKey: already used by items[0] for different feedback' });
  });
});

describe('feedback quality', () => {
  it('combines signals multiplicatively, with a flag each', () => {
    expect(scoreSignals({ duplicate: false, impossible: null, burstExcess: 0, disagreement: 0 })).toEqual({ quality: 1, flags: [] });
    expect(scoreSignals({ duplicate: true, impossible: null, burstExcess: 1, disagreement: 0 })).toEqual({ quality: 0.05, flags: ['duplicate', 'burst'] });
    expect(scoreSignals({ duplicate: false, impossible: null, burstExcess: 100, disagreement: 0 }).quality).toBe(0.1);
    expect(scoreSignals({ duplicate: false, impossible: 'x', burstExcess: 0, disagreement: 1 })).toEqual({ quality: 0.006, flags: ['impossible', 'disagreement'], reason: 'x' });
  });

  it('flags a repeat of the same content within the window, not a keyed retry or a later repeat', () => {
    const t = new QualityTracker({ duplicateWindowMs: 1000 });
    expect(t.score(item({ kind: 'rating', value: 4 }), 0).flags).toEqual([]);
    expect(t.score(item({ kind: 'rating', value: 4 }), 500).flags).toEqual(['duplicate']);
    expect(t.score(item({ kind: 'rating', value: 4 }), 2000).flags).toEqual([]);
    expect(t.score(item({ kind: 'rating', value: 4, idempotencyKey: 'a' }), 2100).flags).toEqual([]);
    expect(t.score(item({ kind: 'rating', value: 5 }), 2200).flags).not.toContain('duplicate');
  });

  it('forgets an item whose write failed, so its retry is no duplicate', () => {
    const t = new QualityTracker();
    const it1 = item({ kind: 'rating', value: 4 });
    t.score(it1, 0);
    t.forget(it1);
    expect(t.score(it1, 10).flags).toEqual([]);
  });

  it('flags impossible values', () => {
    const t = new QualityTracker({ maxDwellSeconds: 3600 });
    expect(t.score(item({ kind: 'dwell', value: 7200 }), 0)).toMatchObject({ flags: ['impossible'], reason: 'dwell of 7200 s is longer than 3600 s' });
    expect(t.score(item({ kind: 'label', label: 'dog' }), 0, { classes: ['setosa', 'virginica'] }).flags).toEqual(['impossible']);
    expect(t.score(item({ predictionId: other, kind: 'label', label: 'setosa' }), 0, { classes: ['setosa', 'virginica'] }).flags).toEqual([]);
  });

  it('down-weights a source sending faster than the limit, more the faster it goes', () => {
    const t = new QualityTracker({ burstPerSecond: 10 });
    const scores: number[] = [];
    for (let i = 0; i < 40; i++) scores.push(t.score(item({ predictionId: other, kind: 'copy', source: 'bot', value: i }), 100 + i).quality);
    expect(scores.slice(0, 10).every((q) => q === 1)).toBe(true);
    expect(scores[39]).toBeLessThan(scores[20]!);
    expect(scores[39]).toBeLessThan(0.5);
    // Another source, and the same source a few seconds later, start afresh.
    expect(t.score(item({ kind: 'copy', source: 'person' }), 200).quality).toBe(1);
    expect(t.score(item({ kind: 'copy', source: 'bot', value: 99 }), 5000).quality).toBe(1);
  });

  it('flags disagreement with the unit and the prediction history', () => {
    const t = new QualityTracker();
    for (const [i, v] of [5, 5, 4, 5].entries()) t.score(item({ predictionId: `01a2185b-2c3b-7e20-a48c-d90d344c29${10 + i}`, kind: 'rating', value: v, unitKey: 'u' }), i);
    expect(t.score(item({ kind: 'rating', value: 4, unitKey: 'u' }), 10).flags).toEqual([]);
    const low = t.score(item({ kind: 'rating', value: 1, unitKey: 'u' }), 11);
    expect(low.flags).toEqual(['disagreement']);
    expect(low.quality).toBeLessThan(0.5);
    // Another unit has no history to disagree with.
    expect(t.score(item({ predictionId: other, kind: 'rating', value: 1, unitKey: 'v' }), 12).flags).toEqual([]);
    expect(t.score(item({ kind: 'label', label: 'a' }), 13).flags).toEqual([]);
    expect(t.score(item({ kind: 'label', label: 'b' }), 14).flags).toEqual(['disagreement']);
    expect(t.score(item({ kind: 'dismiss' }), 15).flags).toEqual([]);
    expect(t.score(item({ kind: 'click' }), 16).flags).toEqual(['disagreement']);
  });

  it('keeps memory bounded', () => {
    const t = new QualityTracker({ maxEntries: 10 });
    for (let i = 0; i < 1000; i++) t.score(item({ predictionId: `01a2185b-2c3b-7e20-a48c-${String(i).padStart(12, '0')}`, kind: 'label', label: 'a', source: `s${i}` }), i);
    expect(t.score(item({ predictionId: '01a2185b-2c3b-7e20-a48c-000000000000', kind: 'label', label: 'b' }), 2000).flags).toEqual([]);
  });
});

describe('BoundedMap', () => {
  it('keeps the most recent entries, at most the limit, promoting what is read', async () => {
    const { BoundedMap } = await import('./bounded-map');
    const m = new BoundedMap<number, number>(10);
    for (let i = 0; i < 1000; i++) m.set(i, i);
    expect(m.size).toBeLessThanOrEqual(10);
    expect(m.get(999)).toBe(999);
    expect(m.get(0)).toBeUndefined();
    m.set(1, 1);
    m.get(995);
    for (let i = 2000; i < 2005; i++) m.set(i, i);
    expect(m.get(995)).toBe(995);
    expect(m.delete(995)).toBe(true);
    expect(m.has(995)).toBe(false);
  });
});
