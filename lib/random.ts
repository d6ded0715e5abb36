/**
 * A seeded PRNG (xoshiro128** seeded through splitmix32). Training, splitting and synthetic data
 * all draw from it, so a run is reproducible from its seed on any machine and Node version —
 * which Math.random cannot give us.
 */

export interface Rng {
  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number;
  /** Uniform integer in [0, n), unbiased; n an integer in [1, 2^32]. */
  nextInt(n: number): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Fisher–Yates in place; returns the same array. */
  shuffle<A extends MutableArrayLike>(arr: A): A;
}

export interface MutableArrayLike {
  length: number;
  [index: number]: any;
}

const TWO_POW_32 = 4294967296;
/** Largest n for which u·n (u < 2^32) is exact in a double. */
const LEMIRE_MAX = 2 ** 21;

function swap(arr: MutableArrayLike, i: number, j: number): void {
  const tmp = arr[i];
  arr[i] = arr[j];
  arr[j] = tmp;
}

/** splitmix32's finaliser: spreads every input bit over the output, so nearby seeds diverge. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Folds a safe integer (negative or above 2^32 too) into 32 well-mixed bits. */
function foldSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer (got ${seed})`);
  return mix32((seed >>> 0) ^ mix32(Math.floor(seed / TWO_POW_32) | 0));
}

/**
 * A seed for an independent stream, e.g. `deriveSeed(seed, epoch)`: the shuffle of epoch e then
 * depends only on (seed, e), so a resumed run replays exactly the order an uninterrupted one saw.
 */
export function deriveSeed(seed: number, ...streams: number[]): number {
  let h = foldSeed(seed);
  for (const s of streams) h = mix32(((h + 0x9e3779b9) | 0) ^ foldSeed(s));
  return h;
}

export function createRng(seed: number): Rng {
  let sm = foldSeed(seed);
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) | 0;
    return mix32(sm);
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  // xoshiro's one forbidden state; splitmix makes it practically unreachable, but cheap to rule out.
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const nextUint32 = (): number => {
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result;
  };

  const next = (): number => nextUint32() / TWO_POW_32;

  const nextInt = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`nextInt needs an integer in [1, 2^32] (got ${n})`);
    if (n <= LEMIRE_MAX) {
      // Lemire's multiply-and-reject: the top 32 bits of u·n, exact in a double while n ≤ 2^21;
      // the (slow) threshold is only computed in the rare case the low bits fall below n.
      for (;;) {
        const m = nextUint32() * n;
        const hi = Math.floor(m / TWO_POW_32);
        const lo = m - hi * TWO_POW_32;
        if (lo >= n || lo >= TWO_POW_32 % n) return hi;
      }
    }
    // Rejecting the incomplete top block removes modulo bias.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let u = nextUint32();
    while (u >= limit) u = nextUint32();
    return u % n;
  };

  // Box–Muller yields normals in pairs; keeping the second halves the cost of synthetic data.
  let spare = 0;
  let hasSpare = false;
  const normal = (): number => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    const u1 = 1 - next(); // (0, 1]: log(0) would be -Infinity
    const u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    spare = r * Math.sin(theta);
    hasSpare = true;
    return r * Math.cos(theta);
  };

  /**
   * Fisher–Yates drawing j exactly as nextInt(i + 1) would. The common case (under 2^21
   * elements to go) runs xoshiro and Lemire inline on local copies of the state: shuffling the
   * row order is a per-epoch cost of training, and this is ~3x faster than calling nextInt.
   */
  const shuffle = <A extends MutableArrayLike>(arr: A): A => {
    let i = arr.length - 1;
    for (; i > 0 && i + 1 > LEMIRE_MAX; i--) swap(arr, i, nextInt(i + 1));
    let a0 = s0;
    let a1 = s1;
    let a2 = s2;
    let a3 = s3;
    for (; i > 0; i--) {
      const n = i + 1;
      let j: number;
      for (;;) {
        const m5 = Math.imul(a1, 5);
        const u = Math.imul((m5 << 7) | (m5 >>> 25), 9) >>> 0;
        const t = a1 << 9;
        a2 ^= a0;
        a3 ^= a1;
        a1 ^= a2;
        a0 ^= a3;
        a2 ^= t;
        a3 = (a3 << 11) | (a3 >>> 21);
        const m = u * n;
        const hi = Math.floor(m / TWO_POW_32);
        const lo = m - hi * TWO_POW_32;
        if (lo >= n || lo >= TWO_POW_32 % n) {
          j = hi;
          break;
        }
      }
      swap(arr, i, j);
    }
    s0 = a0;
    s1 = a1;
    s2 = a2;
    s3 = a3;
    return arr;
  };

  return { next, nextInt, normal, shuffle };
}
