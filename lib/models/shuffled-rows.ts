/**
 * Hands out every training row once per epoch, standardised, in a uniformly random order
 * (Fisher–Yates), gathered into a small cache-resident block for the SGD kernel.
 *
 * Why a separate gather: on a million rows a shuffled row read misses cache and TLB. Read one row
 * at a time, as the SGD loop would, each miss waits for the last (~250 ns a row in V8, which
 * cannot ask for huge pages: more than the SGD step itself). Gathering eight rows per loop
 * iteration puts ~24 cache-line misses in flight at once, which brings it to ~60 ns.
 */
import { createRng } from '../random';

/** Called with `count` standardised rows (row-major in z) and their labels, in visiting order. */
export type VisitRows = (z: Float64Array, labels: Int32Array, count: number) => void;

// Small enough that the block stays in L2 while the kernel makes its pass over it.
const BLOCK_BYTES = 128 * 1024;
/** Rows gathered together; ~3 cache lines each, so ~24 outstanding misses, near what a core allows. */
const LANES = 8;

export class ShuffledRows {
  readonly blockRows: number;
  private order = new Uint32Array(0);
  private readonly block: Float64Array;
  private readonly blockLabels: Int32Array;

  constructor(
    readonly d: number,
    blockRows?: number,
  ) {
    this.blockRows = blockRows ?? Math.max(LANES, Math.floor(BLOCK_BYTES / (8 * d)));
    this.block = new Float64Array(this.blockRows * d);
    this.blockLabels = new Int32Array(this.blockRows);
  }

  /**
   * Visits rows 0..n−1 of x (row-major, d columns) as (x − mean) · invScale, in the order drawn
   * from `seed`; equal seeds give equal orders.
   */
  forEach(x: Float64Array, y: Int32Array, n: number, mean: Float64Array, invScale: Float64Array, seed: number, visit: VisitRows): void {
    if (this.order.length !== n) this.order = new Uint32Array(n);
    const order = this.order;
    for (let i = 0; i < n; i++) order[i] = i;
    createRng(seed).shuffle(order);
    for (let start = 0; start < n; start += this.blockRows) {
      const count = Math.min(this.blockRows, n - start);
      gather(x, y, order, start, count, this.d, mean, invScale, this.block, this.blockLabels);
      visit(this.block, this.blockLabels, count);
    }
  }

  /** The order of the last forEach (row indices), for tests. */
  lastOrder(): Uint32Array {
    return this.order.slice();
  }
}

function gather(
  x: Float64Array,
  y: Int32Array,
  order: Uint32Array,
  start: number,
  count: number,
  d: number,
  mean: Float64Array,
  invScale: Float64Array,
  out: Float64Array,
  labels: Int32Array,
): void {
  let i = 0;
  // Eight independent row reads per j: their misses overlap instead of queueing.
  for (; i + LANES <= count; i += LANES) {
    const r0 = order[start + i] * d;
    const r1 = order[start + i + 1] * d;
    const r2 = order[start + i + 2] * d;
    const r3 = order[start + i + 3] * d;
    const r4 = order[start + i + 4] * d;
    const r5 = order[start + i + 5] * d;
    const r6 = order[start + i + 6] * d;
    const r7 = order[start + i + 7] * d;
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const m = mean[j];
      const s = invScale[j];
      out[o + j] = (x[r0 + j] - m) * s;
      out[o + d + j] = (x[r1 + j] - m) * s;
      out[o + 2 * d + j] = (x[r2 + j] - m) * s;
      out[o + 3 * d + j] = (x[r3 + j] - m) * s;
      out[o + 4 * d + j] = (x[r4 + j] - m) * s;
      out[o + 5 * d + j] = (x[r5 + j] - m) * s;
      out[o + 6 * d + j] = (x[r6 + j] - m) * s;
      out[o + 7 * d + j] = (x[r7 + j] - m) * s;
    }
  }
  for (; i < count; i++) {
    const r = order[start + i] * d;
    const o = i * d;
    for (let j = 0; j < d; j++) out[o + j] = (x[r + j] - mean[j]) * invScale[j];
  }
  for (let k = 0; k < count; k++) labels[k] = y[order[start + k]];
}
