/**
 * Synthetic streams with known concept drift, River's generators re-implemented over our seeded
 * PRNG: the same definitions (thresholds, functions, noise rules), not the same random numbers.
 * They are infinite; `take` materialises a prefix as a row-major matrix for the batch helpers.
 */

export interface Sample {
  x: Float64Array;
  /** Class index. */
  y: number;
}

export interface DataStream {
  readonly nFeatures: number;
  readonly nClasses: number;
  readonly featureNames: readonly string[];
  /** The next sample; streams never end. */
  next(): Sample;
}

export interface StreamBatch {
  /** Row-major n × nFeatures. */
  X: Float64Array;
  y: Int32Array;
  n: number;
  nFeatures: number;
}

export function take(stream: DataStream, n: number): StreamBatch {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer (got ${n})`);
  const d = stream.nFeatures;
  const X = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = stream.next();
    X.set(s.x, i * d);
    y[i] = s.y;
  }
  return { X, y, n, nFeatures: d };
}

/** Python's `random.randint(a, b)`: inclusive at both ends. */
export function randint(next: { nextInt(n: number): number }, a: number, b: number): number {
  return a + next.nextInt(b - a + 1);
}
