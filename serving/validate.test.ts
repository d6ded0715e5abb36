import { describe, expect, it } from 'vitest';
import { injectError, injectWrongLabels } from './faults';
import { uuidv7 } from './uuid';
import { uuidv7TimeOrNull } from '../lib/data/id-time';
import { checkFeedbackItem } from '../lib/feedback/channels';
import { featureMatrix, isUuid, predictEnvelope } from './validate';

describe('predictEnvelope + featureMatrix', () => {
  it('turns one row or a batch into a float32 matrix', () => {
    const single = predictEnvelope({ unitKey: 'u', features: [1, 2.5] });
    expect(single).toEqual({ ok: true, value: { unitKey: 'u', rows: [[1, 2.5]], batch: false } });
    const batch = predictEnvelope({ instances: [[1, 2], [3, 4]] });
    expect(batch.ok && featureMatrix(batch.value, 2)).toEqual({ ok: true, value: Float32Array.from([1, 2, 3, 4]) });
  });

  it('names the field of the first problem', () => {
    const msg = (body: unknown, n = 3) => {
      const e = predictEnvelope(body);
      if (!e.ok) return e.message;
      const m = featureMatrix(e.value, n);
      return m.ok ? 'ok' : m.message;
    };
    expect(msg({ features: [1, 2] })).toBe('features: expected 3 numbers, got 2');
    expect(msg({ features: [1, 2, Number.NaN] })).toBe('features[2]: must be a finite number');
    expect(msg({ features: [1, '2', 3] })).toBe('features[1]: must be a finite number');
    expect(msg({ features: [1, 2, 3.4e38] })).toBe('ok');
    expect(msg({ features: [1, 2, 3.5e39] })).toBe('features[2]: must be a finite number');
    expect(msg({ instances: [[1, 2, 3], [1, 2, 3, 4]] })).toBe('instances[1]: expected 3 numbers, got 4');
    expect(msg({ instances: [[1, 2, 3], [1, true, 3]] })).toBe('instances[1][1]: must be a finite number');
    expect(msg({ unitKey: '', features: [1, 2, 3] })).toBe('unitKey: must be a non-empty string of at most 256 characters');
    expect(msg({ unitKey: 'u\u0000', features: [1, 2, 3] })).toBe('unitKey: contains a NUL byte');
    expect(msg({ unitKey: '\uD83D', instances: [[1, 2, 3]] })).toBe('unitKey: contains a lone UTF-16 surrogate (not valid Unicode)');
    expect(msg({ unitKey: 'ok 😀', features: [1, 2, 3] })).toBe('ok');
    expect(msg({})).toBe('features: required (or instances for a batch)');
    expect(msg(null)).toBe('body: expected a JSON object with features or instances');
  });
});

describe('the single feedback item (the schema both feedback routes use)', () => {
  const id = uuidv7();
  it('accepts every channel the batch accepts, with the same value rules', () => {
    expect(checkFeedbackItem({ predictionId: id, kind: 'rating', value: 5 }).ok).toBe(true);
    expect(checkFeedbackItem({ predictionId: id, kind: 'dwell', value: 0 }).ok).toBe(true);
    expect(checkFeedbackItem({ predictionId: id, kind: 'copy' }).ok).toBe(true);
    expect(checkFeedbackItem({ predictionId: id, kind: 'event', event: 'add_to_cart' }).ok).toBe(true);
    expect(checkFeedbackItem({ predictionId: id, kind: 'comment', comment: 'spot on', source: 'web', unitKey: 'u1' }).ok).toBe(true);
    expect(checkFeedbackItem({ predictionId: id, kind: 'click' })).toEqual({
      ok: true,
      value: { predictionId: id, kind: 'click', value: null, label: null, event: null, comment: null, source: null, unitKey: null, idempotencyKey: null },
    });
    expect(checkFeedbackItem({ predictionId: id.toUpperCase(), kind: 'label', label: 'cat', idempotencyKey: 'k' })).toMatchObject({
      ok: true,
      value: { predictionId: id, kind: 'label', value: null, label: 'cat', idempotencyKey: 'k' },
    });
  });
  it('refuses out-of-range values with the field named', () => {
    const no = (body: unknown) => {
      const r = checkFeedbackItem(body);
      return r.ok ? 'accepted' : [r.field, r.message];
    };
    expect(no({ predictionId: id, kind: 'rating', value: 0.5 })).toEqual(['value', 'value: a rating must be a number from 1 to 5']);
    expect(no({ predictionId: id, kind: 'dwell', value: -0.1 })).toEqual(['value', 'value: dwell must be a number of seconds ≥ 0']);
    expect(no({ predictionId: id, kind: 'label', label: 'a\u0000' })).toEqual(['label', 'label: contains a NUL byte']);
    expect(no({ predictionId: id, kind: 'click', idempotencyKey: 'k\u0000' })).toEqual(['idempotencyKey', 'idempotencyKey: contains a NUL byte']);
    expect(no({ predictionId: id, kind: 'click', idempotencyKey: 7 })).toEqual(['idempotencyKey', 'idempotencyKey: must be a non-empty string of at most 256 characters']);
    expect(no({ predictionId: id, kind: 'event', event: 'x', comment: 'y' })).toEqual(['comment', 'comment: only allowed with kind comment']);
  });
});

describe('uuidv7', () => {
  it('is a version-7 UUID carrying the time, and sorts by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(isUuid(a)).toBe(true);
    expect(a[14]).toBe('7');
    expect(uuidv7TimeOrNull(a)).toBe(1_700_000_000_000);
    expect(a < b).toBe(true);
  });
});

describe('fault injection', () => {
  const fault = { errorRate: 0.5, extraLatencyMs: 0, wrongLabelRate: 1 };
  it('fails requests at the error rate', () => {
    expect(injectError(fault, () => 0.4)).toBe(true);
    expect(injectError(fault, () => 0.6)).toBe(false);
    expect(injectError(undefined)).toBe(false);
  });
  it('serves another class with consistent probabilities', () => {
    const probs = Float32Array.from([0.7, 0.2, 0.1]);
    const labels = Int32Array.from([0]);
    injectWrongLabels(fault, probs, labels, 3, () => 0);
    expect(labels[0]).toBe(1);
    expect(Array.from(probs)).toEqual([Math.fround(0.2), Math.fround(0.7), Math.fround(0.1)]);
  });
});
