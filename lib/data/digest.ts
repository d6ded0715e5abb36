/**
 * A content address for a Dataset: the same numbers, names and classes hash the same whether they
 * came from CSV, JSON or a generator, so lineage and caching can key on content, not on paths.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Dataset } from './table';

// Bump when the encoding changes, so old and new digests can never collide by accident.
const FORMAT = 'flywheel-dataset/v1';
const CHUNK = 1 << 16;

export function datasetDigest(ds: Dataset): string {
  const h = createHash('sha256');
  putString(h, FORMAT);
  putUint32(h, ds.nRows);
  putUint32(h, ds.nFeatures);
  putUint32(h, ds.featureNames.length);
  for (const name of ds.featureNames) putString(h, name);
  putString(h, ds.labelName);
  putUint32(h, ds.classes.length);
  for (const c of ds.classes) putString(h, c);
  putFloat64s(h, ds.x, ds.nRows * ds.nFeatures);
  putInt32s(h, ds.y, ds.nRows);
  return h.digest('hex');
}

export function shortDigest(digest: string): string {
  return digest.slice(0, 12);
}

// Length prefixes keep ["ab","c"] and ["a","bc"] apart.
function putString(h: Hash, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  putUint32(h, bytes.length);
  h.update(bytes);
}

function putUint32(h: Hash, n: number): void {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  h.update(b);
}

// Copied through a little-endian DataView in chunks: the digest must not depend on the host's
// byte order, and -0 is folded into 0 because "-0" and "0" in a file are the same value to a model.
function putFloat64s(h: Hash, values: Float64Array, n: number): void {
  if (values.length < n) throw new RangeError(`dataset x has ${values.length} values, expected ${n}`);
  const buf = Buffer.alloc(Math.min(n, CHUNK) * 8);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    for (let i = start; i < end; i++) view.setFloat64((i - start) * 8, values[i] + 0, true);
    h.update(buf.subarray(0, (end - start) * 8));
  }
}

function putInt32s(h: Hash, values: Int32Array, n: number): void {
  if (values.length < n) throw new RangeError(`dataset y has ${values.length} values, expected ${n}`);
  const buf = Buffer.alloc(Math.min(n, CHUNK) * 4);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    for (let i = start; i < end; i++) view.setInt32((i - start) * 4, values[i], true);
    h.update(buf.subarray(0, (end - start) * 4));
  }
}
