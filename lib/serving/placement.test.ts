import { describe, expect, it } from 'vitest';
import { PlacementPolicy } from './placement';

const opts = { inlineMaxMs: 0.1, warmupRuns: 16, smoothing: 0.1 };
const feed = (p: PlacementPolicy, key: string, n: number, ms: number, rows = 1) => {
  for (let i = 0; i < n; i++) p.observe(key, rows, ms);
};

describe('PlacementPolicy', () => {
  it('keeps a version in the threads until its warm-up runs are in', () => {
    const p = new PlacementPolicy(opts);
    expect(p.place('m/1', 1)).toBe('thread');
    feed(p, 'm/1', 15, 0.02);
    expect(p.place('m/1', 1)).toBe('thread');
    p.observe('m/1', 1, 0.02);
    expect(p.place('m/1', 1)).toBe('inline');
  });

  it('moves a cheap version inline only for batches whose estimated cost fits', () => {
    const p = new PlacementPolicy(opts);
    feed(p, 'm/1', 16, 0.02);
    expect(p.place('m/1', 5)).toBe('inline');
    expect(p.place('m/1', 6)).toBe('thread');
  });

  it('never moves an expensive version, and never any when inlineMaxMs is 0', () => {
    const p = new PlacementPolicy(opts);
    feed(p, 'big/1', 100, 0.4);
    expect(p.place('big/1', 1)).toBe('thread');
    const off = new PlacementPolicy({ ...opts, inlineMaxMs: 0 });
    feed(off, 'm/1', 100, 0.001);
    expect(off.place('m/1', 1)).toBe('thread');
  });

  it('takes the warm-up median: a few descheduled runs do not keep a cheap version out', () => {
    const p = new PlacementPolicy(opts);
    feed(p, 'm/1', 3, 25); // cold start and two stalls
    feed(p, 'm/1', 13, 0.02);
    expect(p.place('m/1', 1)).toBe('inline');
    expect(p.view('m/1')?.perRowMs).toBeCloseTo(0.02);
  });

  it('bounds what one slow run does, yet follows a version that really got slower', () => {
    const p = new PlacementPolicy(opts);
    feed(p, 'm/1', 16, 0.02);
    p.observe('m/1', 1, 50); // one stall: clipped to 4× the estimate
    expect(p.place('m/1', 1)).toBe('inline');
    feed(p, 'm/1', 40, 1.5);
    expect(p.place('m/1', 1)).toBe('thread');
    // And back once it is cheap again (observed in the threads).
    feed(p, 'm/1', 200, 0.02);
    expect(p.place('m/1', 1)).toBe('inline');
  });

  it('learns a reloaded version again', () => {
    const p = new PlacementPolicy(opts);
    feed(p, 'm/1', 16, 0.02);
    p.forget('m/1');
    expect(p.place('m/1', 1)).toBe('thread');
    expect(p.view('m/1')).toBeUndefined();
  });

  it('ignores observations that are not times', () => {
    const p = new PlacementPolicy(opts);
    p.observe('m/1', 0, 0.02);
    p.observe('m/1', 1, Number.NaN);
    p.observe('m/1', 1, -1);
    expect(p.view('m/1')).toBeUndefined();
  });
});
