import { afterEach, describe, expect, it } from 'vitest';
import { PlacementPolicy, type Place } from '../lib/serving/placement';
import { AdaptiveSessions } from './adaptive-sessions';
import { InlineSessions } from './inline-sessions';
import { SessionPool } from './session-pool';
import { TINY_MODEL_BYTES } from './test-model';

const bytes = TINY_MODEL_BYTES;
const row = (x: number, y: number) => new Float32Array([x, y]);

describe('AdaptiveSessions', () => {
  let sessions: AdaptiveSessions | undefined;
  afterEach(async () => {
    await sessions?.close();
  });

  function make(inlineMaxMs: number, maxInlineBytes?: number) {
    const places: Place[] = [];
    sessions = new AdaptiveSessions(new SessionPool(1), new InlineSessions(), new PlacementPolicy({ inlineMaxMs, warmupRuns: 8, smoothing: 0.05 }), (p) => places.push(p), maxInlineBytes);
    return { s: sessions, places };
  }

  it('moves a cheap model to the event loop after its warm-up, with the same answers', async () => {
    const { s, places } = make(5);
    await s.load('m/1', bytes);
    const first = await s.run('m/1', row(3, 0), 1, 2);
    for (let i = 0; i < 8; i++) await s.run('m/1', row(1, 2), 1, 2);
    const later = await s.run('m/1', row(3, 0), 1, 2);
    expect(places.slice(0, 8)).toEqual(Array(8).fill('thread'));
    expect(places.at(-1)).toBe('inline');
    expect(Array.from(later.labels)).toEqual(Array.from(first.labels));
    expect(Array.from(later.probabilities)).toEqual(Array.from(first.probabilities));
    expect(later.computeMs).toBeGreaterThan(0);
    expect(s.placement('m/1')?.inlineSingleRow).toBe(true);
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
    for (let i = 0; i < 9; i++) await s.run('m/1', row(1, 2), 1, 2);
    expect(places.at(-1)).toBe('inline');
    s.unload('m/1');
    expect(s.has('m/1')).toBe(false);
    await expect(s.run('m/1', row(1, 2), 1, 2)).rejects.toThrow(/not loaded/);
    await s.load('m/1', bytes);
    places.length = 0;
    await s.run('m/1', row(1, 2), 1, 2);
    expect(places).toEqual(['thread']);
  });
});
