import { describe, expect, it } from 'vitest';
import { CoalescingLookup } from './coalescing-lookup';

function deferredReader() {
  const reads: Array<{ keys: string[]; resolve: (m: Map<string, number>) => void; reject: (e: Error) => void }> = [];
  const read = (keys: string[]) => new Promise<Map<string, number>>((resolve, reject) => reads.push({ keys, resolve, reject }));
  return { reads, read };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescingLookup', () => {
  it('reads at once when idle, and sends the keys asked for during a read together in the next one', async () => {
    const { reads, read } = deferredReader();
    const l = new CoalescingLookup(read);
    const a = l.get(['a']);
    await tick();
    expect(reads.map((r) => r.keys)).toEqual([['a']]);
    const b = l.get(['b', 'c']);
    const c = l.get(['c', 'd']);
    await tick();
    expect(reads).toHaveLength(1); // waiting behind the first read
    reads[0]!.resolve(new Map([['a', 1]]));
    expect(await a).toEqual(new Map([['a', 1]]));
    await tick();
    expect(reads.map((r) => r.keys)).toEqual([['a'], ['b', 'c', 'd']]);
    reads[1]!.resolve(new Map([['c', 3], ['d', 4]]));
    expect(await b).toEqual(new Map([['c', 3]])); // 'b' has no value
    expect(await c).toEqual(new Map([['c', 3], ['d', 4]]));
  });

  it('fails the callers of a failed read only, and reads again afterwards', async () => {
    const { reads, read } = deferredReader();
    const l = new CoalescingLookup(read);
    const a = l.get(['a']);
    await tick();
    reads[0]!.reject(new Error('timeout'));
    await expect(a).rejects.toThrow('timeout');
    const b = l.get(['b']);
    await tick();
    reads[1]!.resolve(new Map([['b', 2]]));
    expect(await b).toEqual(new Map([['b', 2]]));
  });

  it('runs up to maxInFlight reads side by side', async () => {
    const { reads, read } = deferredReader();
    const l = new CoalescingLookup(read, 2);
    void l.get(['a']);
    void l.get(['b']);
    void l.get(['c']);
    await tick();
    expect(reads.map((r) => r.keys)).toEqual([['a'], ['b']]);
    reads[0]!.resolve(new Map());
    await tick();
    await tick();
    expect(reads.map((r) => r.keys)).toEqual([['a'], ['b'], ['c']]);
  });
});
