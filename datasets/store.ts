/**
 * The materialised-dataset store: validated datasets written once under the data folder, keyed by
 * content digest, so activities pass a digest and a URI between them, never rows.
 * Layout: <dataDir>/datasets/<digest>/{meta.json,x.f64,y.i32}. Writes go to a temp folder and are
 * renamed into place, so a killed writer never leaves a half dataset that a reader would trust.
 * Writers publish a dataset to the shared store (publishDataset) and readers on other hosts fetch
 * it into their own data folder (localDataset), meta.json last: its presence means the rest is there.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Dataset } from '../lib/data/table';
import type { FileStore } from './file-store';

export interface DatasetMeta {
  digest: string;
  name: string;
  source: string;
  featureNames: string[];
  labelName: string;
  classes: string[];
  nRows: number;
  nFeatures: number;
  /** 'time': rows in serving order, newest last (a production snapshot): holdouts are the newest rows. */
  order?: 'time';
}

export function datasetDir(datasetsRoot: string, digest: string): string {
  return path.join(datasetsRoot, digest);
}

export async function writeDataset(datasetsRoot: string, dataset: Dataset, meta: DatasetMeta): Promise<string> {
  const dir = datasetDir(datasetsRoot, meta.digest);
  if (existsSync(path.join(dir, 'meta.json'))) return dir;
  const tmp = `${dir}.tmp-${randomUUID()}`;
  await mkdir(tmp, { recursive: true });
  await writeFile(path.join(tmp, 'x.f64'), toBytes(dataset.x));
  await writeFile(path.join(tmp, 'y.i32'), toBytes(dataset.y));
  await writeFile(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 2));
  try {
    await rename(tmp, dir);
  } catch (err) {
    // Another worker materialised the same digest first: same content, keep theirs. Or a fetch from
    // the store left part of it (meta.json comes last): complete it file by file, meta.json last.
    if (!existsSync(path.join(dir, 'meta.json')) && existsSync(dir)) {
      for (const f of DATASET_FILES) await rename(path.join(tmp, f), path.join(dir, f));
    }
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(dir, 'meta.json'))) throw err;
  }
  return dir;
}

/** A dataset's files, meta.json last: a reader trusts a folder with meta.json. */
const DATASET_FILES = ['x.f64', 'y.i32', 'meta.json'] as const;

/** Makes a dataset this worker wrote readable from every other worker's host. */
export async function publishDataset(files: FileStore, dir: string): Promise<void> {
  await files.publishAll(DATASET_FILES.map((f) => path.join(dir, f)));
}

/** A dataset folder named by any worker's path, as a folder on this host (fetched on a miss). */
export async function localDataset(files: FileStore, dir: string): Promise<string> {
  let local = dir;
  for (const f of DATASET_FILES) local = path.dirname(await files.local(path.join(dir, f)));
  return local;
}

export async function readDatasetMeta(dir: string): Promise<DatasetMeta> {
  return JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as DatasetMeta;
}

export async function readDataset(dir: string): Promise<{ meta: DatasetMeta; dataset: Dataset }> {
  const meta = await readDatasetMeta(dir);
  const xb = await readFile(path.join(dir, 'x.f64'));
  const yb = await readFile(path.join(dir, 'y.i32'));
  // Copy into aligned buffers: a Buffer's byteOffset is not guaranteed to be 8-aligned.
  const x = new Float64Array(meta.nRows * meta.nFeatures);
  new Uint8Array(x.buffer).set(xb);
  const y = new Int32Array(meta.nRows);
  new Uint8Array(y.buffer).set(yb);
  return {
    meta,
    dataset: { featureNames: meta.featureNames, labelName: meta.labelName, classes: meta.classes, nRows: meta.nRows, nFeatures: meta.nFeatures, x, y },
  };
}

export async function writeIndices(file: string, indices: Uint32Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomUUID()}`;
  await writeFile(tmp, toBytes(indices));
  await rename(tmp, file);
}

export async function readIndices(file: string): Promise<Uint32Array> {
  const b = await readFile(file);
  const out = new Uint32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function toBytes(a: Float64Array | Int32Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
