import { describe, expect, it } from 'vitest';
import { evidenceStart, segmentSeries } from './alert';
import { segmentQuality, type SegmentCounts } from './quality';

const DAY = 86_400_000;

describe('evidenceStart', () => {
  it('is the start of the previous whole window, the same for every reading until the next boundary', () => {
    expect(evidenceStart(new Date('2026-12-03T00:00:00Z'), DAY).toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(evidenceStart(new Date('2026-12-03T20:15:00Z'), DAY).toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(evidenceStart(new Date('2026-12-03T23:59:59.999Z'), DAY).toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(evidenceStart(new Date('2026-12-04T00:00:00Z'), DAY).toISOString()).toBe('2026-12-03T00:00:00.000Z');
    expect(evidenceStart(new Date('2026-12-03T20:15:00Z'), 6 * 3_600_000).toISOString()).toBe('2026-12-03T12:00:00.000Z');
  });

  it('refuses an empty window', () => {
    expect(() => evidenceStart(new Date(), 0)).toThrow(RangeError);
  });
});

describe('segmentSeries', () => {
  const row = (value: string, predictions: number, labelled: number, wrong: number, errors = 0): SegmentCounts => ({ value, bucket: '1', predictions, errors, labelled, wrong });

  it('exports behind, evidence, accuracies against the rest, errors and coverage per segment', () => {
    const q = segmentQuality([row('free', 100, 100, 60), row('pro', 100, 80, 0, 4)], { margin: 0.2, alpha: 0.01 });
    const [free, pro] = segmentSeries('iris', 'plan', q, 20);
    expect(free).toMatchObject({ model: 'iris', attribute: 'plan', segment: 'free', behind: 1, accuracy: 0.4, restAccuracy: 1, errorRatio: 0, labelCoverage: 1 });
    expect(free!.evidence).toBeGreaterThanOrEqual(100);
    expect(pro).toMatchObject({ segment: 'pro', behind: 0, accuracy: 1, restAccuracy: 0.4, errorRatio: 0.04, labelCoverage: 0.8 });
  });

  it('keeps the busiest values, a behind one always, and leaves out accuracies without labels', () => {
    const q = segmentQuality([row('a', 500, 200, 0), row('b', 400, 0, 0), row('c', 300, 0, 0), row('d', 30, 30, 30), row('e', 20, 0, 0)], { margin: 0.2, alpha: 0.01 });
    const s = segmentSeries('m', 'k', q, 3);
    expect(s.map((x) => [x.segment, x.behind])).toEqual([['d', 1], ['a', 0], ['b', 0]]);
    expect(s[2]).not.toHaveProperty('accuracy');
    expect(s[2]!.restAccuracy).toBeCloseTo(200 / 230);
    expect(s[0]).toMatchObject({ accuracy: 0, restAccuracy: 1 });
    const alone = segmentQuality([row('only', 10, 10, 2)], { margin: 0.2, alpha: 0.01 });
    expect(segmentSeries('m', 'k', alone, 3)[0]).not.toHaveProperty('restAccuracy');
  });

  it('caps an overflowing e-value to a finite number', () => {
    const q = { overall: { predictions: 1, labelled: 1, wrong: 1, accuracy: 0 }, segments: [{ value: 'x', predictions: 1, errors: 0, labelled: 1, wrong: 1, accuracy: 0, errorRate: 0, labelCoverage: 1, e: Infinity, behind: true }] };
    expect(Number.isFinite(segmentSeries('m', 'k', q, 5)[0]!.evidence)).toBe(true);
  });
});
