import { afterEach, describe, expect, it } from 'vitest';
import { PlacementPolicy, type Place } from '../lib/serving/placement';
import { AdaptiveSessions } from './adaptive-sessions';
import { InlineSessions } from './inline-sessions';
import { SessionPool } from './session-pool';
import { TINY_MODEL_BYTES } from './test-model';

const bytes = TINY_MODEL_BYTES;
const row = (x: number, y: number) => new Float32Array([x, y]);

describe('AdaptiveSessions', () => {
  const opened: AdaptiveSessions[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  function make(inlineMaxMs: number, maxInlineBytes?: number) {
    const places: Place[] = [];
    const s = new AdaptiveSessions(new SessionPool(1), new InlineSessions(), new PlacementPolicy({ inlineMaxMs, warmupRuns: 8, smoothing: 0.05 }), (p) => places.push(p), maxInlineBytes);
    opened.push(s);
    return { s, places };
  }

  it('measures a cheap model while loading it and serves it from the event loop from its first request, with the answers the threads give', async () => {
    const { s, places } = make(5);
    await s.load('m/1', bytes);
    // The warm-up ran before any request, and is not counted as served.
    expect(s.placement('m/1')).toMatchObject({ runs: 8, inlineSingleRow: true });
    expect(places).toEqual([]);
    const inline = await s.run('m/1', row(3, 0), 1, 2);
    expect(places).toEqual(['inline']);
    expect(inline.computeMs).toBeGreaterThan(0);
    const { s: threadsOnly } = make(0);
    await threadsOnly.load('m/1', bytes);
    const threaded = await threadsOnly.run('m/1', row(3, 0), 1, 2);
    expect(Array.from(inline.labels)).toEqual(Array.from(threaded.labels));
    expect(Array.from(inline.probabilities)).toEqual(Array.from(threaded.probabilities));
  });

  it('keeps a model in the threads when its runs cost more than the limit', async () => {
    const { s, places } = make(1e-9);
    await s.load('m/1', bytes);
    for (let i = 0; i < 20; i++) await s.run('m/1', row(1, 2), 1, 2);
    expect(new Set(places)).toEqual(new Set(['thread']));
  });

  it('gives a model above the size limit no session on the event loop', async () => {
    const { s, places } = make(5, bytes.byteLength - 1);
    await s.load('m/1', bytes);
    for (let i = 0; i < 20; i++) await s.run('m/1', row(1, 2), 1, 2);
    expect(new Set(places)).toEqual(new Set(['thread']));
  });

  it('unloads from both and learns a reloaded version again', async () => {
    const { s, places } = make(5);
    await s.load('m/1', bytes);
    for (let i = 0; i < 3; i++) await s.run('m/1', row(1, 2), 1, 2);
    expect(places.at(-1)).toBe('inline');
    expect(s.placement('m/1')?.runs).toBe(11);
    s.unload('m/1');
    expect(s.has('m/1')).toBe(false);
    expect(s.placement('m/1')).toBeUndefined();
    await expect(s.run('m/1', row(1, 2), 1, 2)).rejects.toThrow(/not loaded/);
    await s.load('m/1', bytes);
    // Learnt again from a new warm-up, not carried over.
    expect(s.placement('m/1')?.runs).toBe(8);
  });
});
