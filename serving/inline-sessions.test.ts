import { afterAll, describe, expect, it } from 'vitest';
import { InlineSessions } from './inline-sessions';
import { SessionPool } from './session-pool';
import { TINY_MODEL_BYTES } from './test-model';

const bytes = TINY_MODEL_BYTES;
// Rows the model labels differently ('a', then 'b'), so a label mix-up cannot pass.
const rows = [
  [3, 0],
  [1, 2],
  [0, 0],
];

describe('InlineSessions', () => {
  const inline = new InlineSessions();
  const threads = new SessionPool(1);
  afterAll(async () => {
    await inline.close();
    await threads.close();
  });

  it('answers as a session thread does, with the same signature', async () => {
    const [a, b] = [await inline.load('m/1', bytes), await threads.load('m/1', bytes)];
    expect(a).toEqual(b);
    expect(inline.has('m/1')).toBe(true);
    const data = () => Float32Array.from(rows.flat());
    const [x, y] = [await inline.run('m/1', data(), 3, 2), await threads.run('m/1', data(), 3, 2)];
    expect(Array.from(x.labels)).toEqual(Array.from(y.labels));
    expect(Array.from(x.probabilities)).toEqual(Array.from(y.probabilities));
    expect(new Set(x.labels).size).toBeGreaterThan(1);
    expect(inline.size).toBe(0);
    expect(inline.inFlight).toBe(0);
  });

  it('refuses a version that is not loaded, and one unloaded', async () => {
    await expect(inline.run('m/2', new Float32Array(2), 1, 2)).rejects.toThrow(/not loaded/);
    await inline.load('m/3', bytes);
    const running = inline.run('m/3', new Float32Array(2), 1, 2);
    inline.unload('m/3');
    // A run already started finishes on its session; the next is refused.
    await expect(running).resolves.toHaveProperty('labels');
    expect(inline.has('m/3')).toBe(false);
    await expect(inline.run('m/3', new Float32Array(2), 1, 2)).rejects.toThrow(/not loaded/);
  });
});
