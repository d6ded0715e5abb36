/**
 * Train/holdout split that keeps class proportions, so a rare class cannot vanish from the
 * holdout by chance and make its metrics meaningless.
 */
import { createRng, deriveSeed } from '../random';

export interface Split {
  /** Row indices, ascending (rows keep their original relative order). */
  train: Uint32Array;
  holdout: Uint32Array;
}

// Keeps the split's random stream apart from the trainer's, which uses the same user seed.
const SPLIT_STREAM = 0x5b117;

/**
 * Each class contributes round(count * holdoutFraction) rows to the holdout, clamped so a class
 * with ≥2 rows has at least one row on each side; a class with a single row goes to train.
 */
export function stratifiedSplit(y: Int32Array, nClasses: number, holdoutFraction: number, seed: number): Split {
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) {
    throw new RangeError(`holdout fraction must be > 0 and < 1 (got ${holdoutFraction})`);
  }
  if (!Number.isInteger(nClasses) || nClasses < 1) throw new RangeError(`nClasses must be a positive integer (got ${nClasses})`);

  const counts = new Uint32Array(nClasses);
  for (let i = 0; i < y.length; i++) {
    const c = y[i];
    if (c < 0 || c >= nClasses) throw new RangeError(`label index ${c} at row ${i} is outside [0, ${nClasses})`);
    counts[c]++;
  }
  // Group row indices by class (counting sort keeps each group ascending before shuffling).
  const offsets = new Uint32Array(nClasses + 1);
  for (let c = 0; c < nClasses; c++) offsets[c + 1] = offsets[c] + counts[c];
  const byClass = new Uint32Array(y.length);
  const fill = offsets.slice(0, nClasses);
  for (let i = 0; i < y.length; i++) byClass[fill[y[i]]++] = i;

  const rng = createRng(deriveSeed(seed, SPLIT_STREAM));
  const isHoldout = new Uint8Array(y.length);
  let nHoldout = 0;
  for (let c = 0; c < nClasses; c++) {
    const n = counts[c];
    if (n < 2) continue;
    const take = Math.min(n - 1, Math.max(1, Math.round(n * holdoutFraction)));
    const group = rng.shuffle(byClass.subarray(offsets[c], offsets[c + 1]));
    for (let k = 0; k < take; k++) isHoldout[group[k]] = 1;
    nHoldout += take;
  }

  const train = new Uint32Array(y.length - nHoldout);
  const holdout = new Uint32Array(nHoldout);
  for (let i = 0, t = 0, h = 0; i < y.length; i++) {
    if (isHoldout[i]) holdout[h++] = i;
    else train[t++] = i;
  }
  return { train, holdout };
}

/**
 * Rows in time order, oldest first: the newest round(n · holdoutFraction) rows are the holdout
 * (at least one row on each side). A model is judged on the traffic closest to what it will serve.
 */
export function timeSplit(n: number, holdoutFraction: number): Split {
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) throw new RangeError(`holdout fraction must be > 0 and < 1 (got ${holdoutFraction})`);
  if (n < 2) throw new RangeError(`a time split needs at least 2 rows (got ${n})`);
  const h = Math.min(n - 1, Math.max(1, Math.round(n * holdoutFraction)));
  return { train: Uint32Array.from({ length: n - h }, (_, i) => i), holdout: Uint32Array.from({ length: h }, (_, i) => n - h + i) };
}
