import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight';

describe('SingleFlight', () => {
  it('shares one running read among the callers of a key, and starts a new one after it ends', async () => {
    const sf = new SingleFlight<number>();
    let reads = 0;
    let release!: (v: number) => void;
    const read = () => {
      reads++;
      return new Promise<number>((r) => (release = r));
    };
    const a = sf.run('k', read);
    const b = sf.run('k', read);
    expect(reads).toBe(1);
    release(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    const c = sf.run('k', read);
    expect(reads).toBe(2);
    release(8);
    expect(await c).toBe(8);
  });

  it('keeps keys apart', async () => {
    const sf = new SingleFlight<string>();
    expect(await Promise.all([sf.run('a', async () => 'x'), sf.run('b', async () => 'y')])).toEqual(['x', 'y']);
  });

  it('answers the failure without reading again for the backoff, then reads again', async () => {
    let t = 0;
    const sf = new SingleFlight<number>(1_000, () => t);
    let reads = 0;
    const failing = async () => {
      reads++;
      throw new Error('timeout');
    };
    await expect(sf.run('k', failing)).rejects.toThrow('timeout');
    t = 999;
    await expect(sf.run('k', failing)).rejects.toThrow('timeout');
    expect(reads).toBe(1);
    t = 1_000;
    expect(await sf.run('k', async () => 3)).toBe(3);
  });
});
