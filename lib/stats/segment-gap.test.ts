import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { segmentGap, type SegmentBucket } from './segment-gap';

function buckets(n: number, perBucket: number, segErr: number, restErr: number, seed: number): SegmentBucket[] {
  const rng = createRng(seed);
  const draw = (k: number, p: number) => Array.from({ length: k }).filter(() => rng.next() < p).length;
  return Array.from({ length: n }, () => ({ segmentWrong: draw(perBucket, segErr), segmentLabelled: perBucket, restWrong: draw(perBucket * 4, restErr), restLabelled: perBucket * 4 }));
}

describe('segmentGap', () => {
  it('flags a segment whose error rate is several times the rest', () => {
    const r = segmentGap(buckets(10, 50, 0.3, 0.05, 1), { margin: 0.2, alpha: 0.01 });
    expect(r.behind).toBe(true);
    expect(r.e).toBeGreaterThan(100);
  });

  it('does not flag a segment served like the rest, over many seeds (at most α of them)', () => {
    let flagged = 0;
    for (let seed = 0; seed < 200; seed++) if (segmentGap(buckets(10, 50, 0.1, 0.1, seed), { margin: 0.2, alpha: 0.01 }).behind) flagged++;
    expect(flagged).toBeLessThanOrEqual(2);
  });

  it('does not flag a small raw difference within the margin', () => {
    expect(segmentGap(buckets(10, 200, 0.11, 0.1, 3), { margin: 0.2, alpha: 0.01 }).behind).toBe(false);
  });

  it('no labelled data: no evidence (E = 1)', () => {
    expect(segmentGap([{ segmentWrong: 0, segmentLabelled: 0, restWrong: 3, restLabelled: 10 }], { margin: 0.2, alpha: 0.01 })).toEqual({ e: 1, behind: false });
  });
});
