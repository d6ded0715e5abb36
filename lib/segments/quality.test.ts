import { describe, expect, it } from 'vitest';
import { segmentGap } from '../stats/segment-gap';
import { segmentQuality, type SegmentCounts } from './quality';

const row = (value: string, bucket: number, predictions: number, labelled: number, wrong: number, errors = 0): SegmentCounts => ({ value, bucket: String(bucket), predictions, errors, labelled, wrong });

describe('segmentQuality', () => {
  const rows = [row('free', 1, 100, 100, 60), row('pro', 1, 100, 100, 0), row('', 1, 50, 10, 1, 5), row('free', 2, 10, 5, 3), row('pro', 2, 20, 20, 1)];
  const q = segmentQuality(rows, { margin: 0.2, alpha: 0.01 });

  it('counts every value but the empty one, and the overall including it', () => {
    expect(q.segments.map((s) => s.value)).toEqual(['free', 'pro']);
    expect(q.overall).toEqual({ predictions: 280, labelled: 235, wrong: 65, accuracy: 1 - 65 / 235 });
    expect(q.segments[0]).toMatchObject({ predictions: 110, labelled: 105, wrong: 63, accuracy: 1 - 63 / 105, labelCoverage: 105 / 110, errorRate: 0 });
  });

  it('is the segment-gap e-process over the buckets in order, against the rest of each bucket', () => {
    const free = segmentGap(
      [
        { segmentWrong: 60, segmentLabelled: 100, restWrong: 1, restLabelled: 110 },
        { segmentWrong: 3, segmentLabelled: 5, restWrong: 1, restLabelled: 20 },
      ],
      { margin: 0.2, alpha: 0.01 },
    );
    expect(q.segments[0]).toMatchObject({ e: free.e, behind: true });
    expect(q.segments[1]!.behind).toBe(false);
  });

  it('has no accuracy without labels', () => {
    expect(segmentQuality([row('x', 1, 3, 0, 0, 1)], { margin: 0.2, alpha: 0.01 }).segments[0]).toMatchObject({ accuracy: null, errorRate: 1 / 3, e: 1, behind: false });
  });
});
