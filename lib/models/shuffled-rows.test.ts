import { describe, expect, it } from 'vitest';
import { ShuffledRows } from './shuffled-rows';

/** Row i holds (i, 10i, …) and label i % 3, so every visited row reveals where it came from. */
function fixture(n: number, d: number) {
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = i * 10 ** j;
  const y = Int32Array.from({ length: n }, (_, i) => i % 3);
  return { x, y };
}

function visitOrder(n: number, d: number, seed: number, blockRows?: number) {
  const { x, y } = fixture(n, d);
  const rows = new ShuffledRows(d, blockRows);
  const mean = new Float64Array(d);
  const inv = new Float64Array(d).fill(1);
  const order: number[] = [];
  const blocks: number[] = [];
  rows.forEach(x, y, n, mean, inv, seed, (z, labels, count) => {
    blocks.push(count);
    for (let r = 0; r < count; r++) {
      const i = z[r * d];
      for (let j = 0; j < d; j++) expect(z[r * d + j]).toBe(i * 10 ** j);
      expect(labels[r]).toBe(i % 3);
      order.push(i);
    }
  });
  return { order, blocks, last: rows.lastOrder() };
}

describe('ShuffledRows', () => {
  it('visits every row exactly once, with its own label, in blocks', () => {
    // 45 rows in blocks of 16 (two full, one partial); 16 is not a multiple of the 8-row gather.
    const { order, blocks, last } = visitOrder(45, 3, 1, 16);
    expect(blocks).toEqual([16, 16, 13]);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect(order).not.toEqual(Array.from({ length: 45 }, (_, i) => i));
    expect([...last]).toEqual(order);
  });

  it('gives the same order for a seed whatever the block size, and a new order for a new seed', () => {
    const a = visitOrder(100, 2, 7, 8).order;
    expect(visitOrder(100, 2, 7, 13).order).toEqual(a);
    expect(visitOrder(100, 2, 7).order).toEqual(a);
    expect(visitOrder(100, 2, 8).order).not.toEqual(a);
  });

  it('standardises as (x − mean) · invScale', () => {
    const x = Float64Array.from([1, 10, 3, 30]);
    const y = Int32Array.from([0, 1]);
    const seen: number[][] = [];
    new ShuffledRows(2).forEach(x, y, 2, Float64Array.from([2, 20]), Float64Array.from([0.5, 0.1]), 1, (z, labels, count) => {
      for (let r = 0; r < count; r++) seen[labels[r]] = [z[r * 2], z[r * 2 + 1]];
    });
    expect(seen).toEqual([
      [-0.5, -1],
      [0.5, 1],
    ]);
  });

  it('draws every permutation about equally often', () => {
    const counts = new Map<string, number>();
    for (let seed = 0; seed < 2400; seed++) {
      const key = visitOrder(3, 1, seed).order.join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 400)).toBeLessThan(80);
  });

  it('does nothing for zero rows', () => {
    expect(visitOrder(0, 2, 1).blocks).toEqual([]);
  });
});
