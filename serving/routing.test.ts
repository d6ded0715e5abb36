import { describe, expect, it } from 'vitest';
import { createRng } from '../lib/random';
import {
  BUCKETS,
  bucketOf,
  checkWeights,
  compareVersions,
  freshLayout,
  hashUnit,
  isPartition,
  layoutWeights,
  rebalance,
  routingTable,
  type Layout,
} from './routing';

/** Reference FNV-1a + fmix32 over Node's own UTF-8 encoder. */
function referenceHash(key: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(key, 'utf8')) h = Math.imul(h ^ b, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function owners(layout: Layout): string[] {
  const versions = Object.keys(layout);
  const table = routingTable(layout, versions);
  return Array.from(table, (i) => versions[i]!);
}

describe('hashUnit / bucketOf', () => {
  it('hashes the UTF-8 bytes, so other clients can compute the same bucket', () => {
    for (const key of ['', 'user-1', 'ünïcødé', '日本語', 'emoji 😀 key', 'a'.repeat(300)]) {
      expect(hashUnit(key)).toBe(referenceHash(key));
    }
  });

  it('is stable: the same key always lands in the same bucket', () => {
    expect(bucketOf('user-42')).toBe(bucketOf('user-42'));
    expect(bucketOf('user-42')).toBeGreaterThanOrEqual(0);
    expect(bucketOf('user-42')).toBeLessThan(BUCKETS);
  });

  it('spreads sequential keys evenly over the buckets (chi-square over 100 groups)', () => {
    const n = 200_000;
    const groups = new Array<number>(100).fill(0);
    for (let i = 0; i < n; i++) groups[Math.floor(bucketOf(`user-${i}`) / 100)]!++;
    const expected = n / 100;
    const chi2 = groups.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: the 99.9th percentile is about 148.
    expect(chi2).toBeLessThan(148);
  });
});

describe('checkWeights', () => {
  it('accepts integer basis points summing to 10000', () => {
    expect(checkWeights({ '1': 9000, '2': 1000 })).toBeUndefined();
    expect(checkWeights({ '1': 10000, '2': 0 })).toBeUndefined();
  });
  it('names what is wrong', () => {
    expect(checkWeights({})).toBe('weights: at least one version is needed');
    expect(checkWeights({ '1': 9000, '2': 999 })).toBe('weights: must sum to 10000 basis points (100%), got 9999');
    expect(checkWeights({ '1': 9999.5, '2': 0.5 })).toMatch(/^weights\.1: must be an integer/);
    expect(checkWeights({ '1': -1, '2': 10001 })).toMatch(/^weights\.1: must be an integer/);
  });
});

describe('compareVersions', () => {
  it('orders numeric versions numerically', () => {
    expect(['10', '2', '1', 'b', 'a'].sort(compareVersions)).toEqual(['1', '2', '10', 'a', 'b']);
  });
});

describe('rebalance', () => {
  it('starts a first deployment with one range per version in version order', () => {
    expect(rebalance({}, { '2': 1000, '1': 9000 })).toEqual({ '1': [[0, 9000]], '2': [[9000, 10000]] });
  });

  it('grows a canary from the top of the stable version, moving only the units it gains', () => {
    let layout: Layout = rebalance({}, { '1': 10000 });
    layout = rebalance(layout, { '1': 9000, '2': 1000 });
    expect(layout).toEqual({ '1': [[0, 9000]], '2': [[9000, 10000]] });
    const before = owners(layout);
    layout = rebalance(layout, { '1': 7500, '2': 2500 });
    expect(layout).toEqual({ '1': [[0, 7500]], '2': [[7500, 10000]] });
    const after = owners(layout);
    const moved = before.filter((v, b) => v !== after[b]);
    expect(moved.length).toBe(1500);
    expect(new Set(moved)).toEqual(new Set(['1']));
    // Rollback gives every bucket back.
    expect(rebalance(layout, { '1': 10000, '2': 0 })).toEqual({ '1': [[0, 10000]], '2': [] });
  });

  it('never moves units of a version whose weight did not change', () => {
    let layout: Layout = rebalance({}, { '1': 5000, '2': 3000, '3': 2000 });
    const before = owners(layout);
    layout = rebalance(layout, { '1': 4000, '2': 3000, '3': 3000 });
    const after = owners(layout);
    for (let b = 0; b < BUCKETS; b++) {
      if (before[b] === '2') expect(after[b]).toBe('2');
      if (after[b] !== before[b]) expect([before[b], after[b]]).toEqual(['1', '3']);
    }
  });

  it('keeps its promises over random sequences of weight changes', () => {
    const rng = createRng(7);
    const rand = () => rng.next();
    const versions = ['1', '2', '3', '4', '5'];
    let layout: Layout = {};
    let weights: Record<string, number> = {};
    const violations: string[] = [];
    for (let step = 0; step < 150; step++) {
      // Random cut points make random integer weights that sum to 10000, zeros included.
      const cuts = versions.slice(1).map(() => Math.floor(rand() * (BUCKETS + 1))).sort((a, b) => a - b);
      const bounds = [0, ...cuts, BUCKETS];
      const next = Object.fromEntries(versions.map((v, i) => [v, bounds[i + 1]! - bounds[i]!]));
      const before = step === 0 ? undefined : owners(layout);
      const nextLayout = rebalance(layout, next);
      expect(isPartition(nextLayout)).toBe(true);
      expect(layoutWeights(nextLayout)).toEqual(next);
      if (before) {
        const after = owners(nextLayout);
        for (let b = 0; b < BUCKETS; b++) {
          const [from, to] = [before[b]!, after[b]!];
          // A unit moves only from a version that lost weight to one that gained weight.
          if (from !== to && !(next[from]! < weights[from]! && next[to]! > weights[to]!)) violations.push(`step ${step} bucket ${b}: ${from} → ${to}`);
        }
      }
      layout = nextLayout;
      weights = next;
    }
    expect(violations.slice(0, 5)).toEqual([]);
  });

  it('replaces a layout that is not a partition (edited by hand) with a fresh one', () => {
    const broken: Layout = { '1': [[0, 5000]], '2': [[4000, 10000]] };
    expect(isPartition(broken)).toBe(false);
    expect(rebalance(broken, { '1': 5000, '2': 5000 })).toEqual(freshLayout({ '1': 5000, '2': 5000 }));
  });
});

describe('routingTable', () => {
  it('maps every bucket to the index of its version', () => {
    const table = routingTable({ a: [[0, 10], [20, BUCKETS]], b: [[10, 20]] }, ['b', 'a']);
    expect(table[0]).toBe(1);
    expect(table[15]).toBe(0);
    expect(table[BUCKETS - 1]).toBe(1);
  });
  it('refuses a layout naming a version that is not loaded', () => {
    expect(() => routingTable({ a: [[0, BUCKETS]] }, ['b'])).toThrow('version a, which is not loaded');
  });
});
