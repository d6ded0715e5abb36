/**
 * MLflow's artifacts, backed up through the server that serves them (its artifact proxy), not from
 * a folder of this host: with no shared disk (issue 18) the backup runs on whichever worker takes
 * the Backup workflow's activity, and only MLflow's own host holds its artifact root. The shared
 * file store lives there too (datasets/file-store.ts: under `flywheel-store/`), so this covers every
 * worker's published datasets and artifacts as well.
 *
 * Each file goes into the backups' content-addressed object store (activities/backup-files.ts) as it
 * is read, hashed on the way, written under a temporary name and renamed: the same objects and the
 * same manifest entries (root `mlflow-artifacts`, the path under the artifact root) as a copy of the
 * folder made, so verify and restore do not change. A file of the store's blob area is named by its
 * own sha256 (`flywheel-store/sha256/<hex>`, checked by every reader): one the object store holds
 * already is not downloaded again.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import type { MlflowClient } from '../clients/mlflow';
import { objectPath, type FileEntry } from '../lib/backup/plan';
import { STORE_ROOT } from '../lib/store/names';

/** The root name a served artifact's entry carries: the folder MLflow keeps its artifacts in. */
export const SERVED_ROOT = 'mlflow-artifacts';

export type ServedArtifacts = Pick<MlflowClient, 'listServedArtifacts' | 'streamServedArtifact'>;

const BLOB = new RegExp(`^${STORE_ROOT}/sha256/([0-9a-f]{64})$`);

/** Every file under the served artifact root, '/'-separated paths, sorted, with the sizes listed. */
export async function listServedFiles(mlflow: ServedArtifacts): Promise<Array<{ path: string; bytes: number | undefined }>> {
  const out: Array<{ path: string; bytes: number | undefined }> = [];
  const dirs = [''];
  while (dirs.length > 0) {
    const dir = dirs.pop()!;
    for (const e of await mlflow.listServedArtifacts(dir)) {
      const p = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDir) dirs.push(p);
      else out.push({ path: p, bytes: e.bytes });
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Downloads one served file into the object store (unless its object is there); its entry and the bytes added. */
async function storeOne(store: string, mlflow: ServedArtifacts, file: { path: string; bytes: number | undefined }): Promise<{ entry: FileEntry; added: number }> {
  const named = BLOB.exec(file.path)?.[1];
  if (named && file.bytes !== undefined && fs.existsSync(path.join(store, objectPath(named)))) {
    return { entry: { root: SERVED_ROOT, path: file.path, sha256: named, bytes: file.bytes }, added: 0 };
  }
  const tmp = path.join(store, 'objects', `incoming-${randomUUID()}.tmp`);
  fs.mkdirSync(path.dirname(tmp), { recursive: true });
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb((await mlflow.streamServedArtifact(file.path)) as ReadableStream<Uint8Array>), tap, fs.createWriteStream(tmp));
    const sha256 = hash.digest('hex');
    const dest = path.join(store, objectPath(sha256));
    let added = 0;
    if (!fs.existsSync(dest)) {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.renameSync(tmp, dest);
      added = bytes;
    }
    return { entry: { root: SERVED_ROOT, path: file.path, sha256, bytes }, added };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Every file MLflow serves, stored if new; the entries (sorted by path) and the bytes copied. */
export async function storeServedArtifacts(store: string, mlflow: ServedArtifacts, concurrency = 4): Promise<{ files: FileEntry[]; newBytes: number }> {
  const listed = await listServedFiles(mlflow);
  const entries: FileEntry[] = new Array(listed.length);
  let newBytes = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < listed.length; i = next++) {
      const { entry, added } = await storeOne(store, mlflow, listed[i]!);
      entries[i] = entry;
      newBytes += added;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, listed.length) }, worker));
  return { files: entries, newBytes };
}
