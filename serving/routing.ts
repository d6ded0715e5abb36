/**
 * The routing math of the gateway, pure: a unit key hashes to one of 10,000 buckets (one per basis
 * point), and each version owns a set of bucket ranges whose size is its weight.
 *
 * Ranges are not recomputed from the weights on every change; they are carried forward
 * (`rebalance`): a version that loses weight gives up buckets from its top, a version that gains
 * takes them. So a unit changes version only when its old version lost weight and its new one
 * gained weight; units of versions whose weight did not change never move. Raising a canary from
 * 10% to 20% moves exactly 10% of units, all from the other versions to the canary.
 */

export const BUCKETS = 10_000;

/** [start, end): buckets start … end-1. */
export type Range = readonly [number, number];
/** Which buckets each version owns; together a partition of [0, BUCKETS). */
export type Layout = Readonly<Record<string, readonly Range[]>>;

/**
 * FNV-1a over the key's UTF-8 bytes, then MurmurHash3's finaliser: FNV alone leaves keys that differ
 * in their last character (user-1, user-2, …) in correlated low bits; the finaliser spreads them.
 * UTF-8 so that any other client can compute the same bucket.
 */
export function hashUnit(key: string): number {
  let h = 0x811c9dc5;
  const step = (byte: number) => {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  };
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c < 0x80) step(c);
    else if (c < 0x800) {
      step(0xc0 | (c >> 6));
      step(0x80 | (c & 63));
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < key.length) {
        const lo = key.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          i++;
        }
      }
      if (c < 0x10000) {
        step(0xe0 | (c >> 12));
      } else {
        step(0xf0 | (c >> 18));
        step(0x80 | ((c >> 12) & 63));
      }
      step(0x80 | ((c >> 6) & 63));
      step(0x80 | (c & 63));
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Scaling rather than modulo: every bucket gets the same share of the 2^32 hash values (±1). */
export function bucketOf(key: string): number {
  return Math.floor((hashUnit(key) * BUCKETS) / 2 ** 32);
}

/** Numeric versions in numeric order ("2" < "10"), others after them by string order. */
export function compareVersions(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  if (!Number.isNaN(na)) return -1;
  if (!Number.isNaN(nb)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The message naming what is wrong with a weight map, or undefined when it is valid. */
export function checkWeights(weights: Readonly<Record<string, number>>): string | undefined {
  const entries = Object.entries(weights);
  if (entries.length === 0) return 'weights: at least one version is needed';
  let sum = 0;
  for (const [version, w] of entries) {
    if (!Number.isInteger(w) || w < 0 || w > BUCKETS) return `weights.${version}: must be an integer number of basis points in [0, ${BUCKETS}], got ${w}`;
    sum += w;
  }
  if (sum !== BUCKETS) return `weights: must sum to ${BUCKETS} basis points (100%), got ${sum}`;
  return undefined;
}

function size(ranges: readonly Range[]): number {
  let n = 0;
  for (const [s, e] of ranges) n += e - s;
  return n;
}

/** Whether a layout covers every bucket exactly once with well-formed ranges. */
export function isPartition(layout: Layout): boolean {
  const all: Range[] = Object.values(layout).flat();
  all.sort((a, b) => a[0] - b[0]);
  let next = 0;
  for (const [s, e] of all) {
    if (!Number.isInteger(s) || !Number.isInteger(e) || s !== next || e <= s) return false;
    next = e;
  }
  return next === BUCKETS;
}

/** Sorts and joins touching ranges. */
function normalise(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] === s) last[1] = e;
    else out.push([s, e]);
  }
  return out;
}

/** A first layout: consecutive ranges in version order. */
export function freshLayout(weights: Readonly<Record<string, number>>): Record<string, Range[]> {
  const out: Record<string, Range[]> = {};
  let at = 0;
  for (const version of Object.keys(weights).sort(compareVersions)) {
    const w = weights[version]!;
    out[version] = w > 0 ? [[at, at + w]] : [];
    at += w;
  }
  return out;
}

/**
 * The layout for new weights that moves the fewest units from `previous`. Losers release buckets
 * from the top of their highest ranges; gainers, in version order, take freed buckets from the
 * lowest up. A previous layout that is not a partition (empty, or edited by hand) is replaced
 * by a fresh one. Assumes `checkWeights(weights)` passed.
 */
export function rebalance(previous: Layout, weights: Readonly<Record<string, number>>): Record<string, Range[]> {
  if (!isPartition(previous)) return freshLayout(weights);
  const owned: Record<string, Range[]> = {};
  for (const [version, ranges] of Object.entries(previous)) owned[version] = normalise([...ranges]);
  const free: Range[] = [];
  for (const version of Object.keys(owned)) {
    let surplus = size(owned[version]!) - (weights[version] ?? 0);
    const ranges = owned[version]!;
    while (surplus > 0) {
      const [s, e] = ranges.pop()!;
      const give = Math.min(surplus, e - s);
      free.push([e - give, e]);
      if (give < e - s) ranges.push([s, e - give]);
      surplus -= give;
    }
  }
  const pool = normalise(free);
  const out: Record<string, Range[]> = {};
  for (const version of Object.keys(weights).sort(compareVersions)) {
    const ranges = owned[version] ?? [];
    let need = weights[version]! - size(ranges);
    while (need > 0) {
      const [s, e] = pool.shift()!;
      const take = Math.min(need, e - s);
      ranges.push([s, s + take]);
      if (take < e - s) pool.unshift([s + take, e]);
      need -= take;
    }
    out[version] = normalise(ranges);
  }
  return out;
}

/**
 * bucket → index into `versions`, for O(1) routing. Throws when the layout is not a partition
 * or names a version outside `versions`.
 */
export function routingTable(layout: Layout, versions: readonly string[]): Uint16Array {
  if (!isPartition(layout)) throw new Error('routing layout does not cover every bucket exactly once');
  const table = new Uint16Array(BUCKETS);
  for (const [version, ranges] of Object.entries(layout)) {
    if (ranges.length === 0) continue;
    const index = versions.indexOf(version);
    if (index < 0) throw new Error(`routing layout names version ${version}, which is not loaded`);
    for (const [s, e] of ranges) table.fill(index, s, e);
  }
  return table;
}

/** Weights as the layout implies them (bucket counts per version). */
export function layoutWeights(layout: Layout): Record<string, number> {
  return Object.fromEntries(Object.entries(layout).map(([v, r]) => [v, size(r)]));
}
