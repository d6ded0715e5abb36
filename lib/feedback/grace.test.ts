import { describe, expect, it } from 'vitest';
import { graceFor } from './grace';

describe('graceFor: which unknown prediction ids feedback waits for', () => {
  const now = 1_000_000;
  const times: Record<string, number> = { fresh: now - 500, edge: now - 2_000, old: now - 60_000, soon: now + 900, future: now + 5_000 };
  const timeOf = (id: string) => times[id]!;

  it('holds an id younger than the grace window until its own time + the window', () => {
    expect(graceFor(['fresh'], timeOf, now, 2_000)).toEqual({ held: ['fresh'], until: now - 500 + 2_000 });
  });
  it('refuses at once an id older than the window, at its edge, or from the far future', () => {
    expect(graceFor(['old', 'edge', 'future'], timeOf, now, 2_000)).toEqual({ held: [], until: 0 });
  });
  it('tolerates a second of clock skew ahead, and waits for the newest of several', () => {
    expect(graceFor(['fresh', 'soon', 'old'], timeOf, now, 2_000)).toEqual({ held: ['fresh', 'soon'], until: now + 900 + 2_000 });
  });
});
