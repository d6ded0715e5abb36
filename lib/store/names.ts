/**
 * Names in the shared file store (clients: MLflow's artifact proxy). A file a worker writes under
 * its data folder is published under its path relative to that folder, so another worker finds it
 * under the same relative path in its own folder: the cache layout is the data folder's layout.
 * Files are stored once by content (`sha256/<hex>`); a name is a small ref pointing at one.
 */
import path from 'node:path';

/** The folder of MLflow's artifact root that holds the store, apart from the runs' folders. */
export const STORE_ROOT = 'flywheel-store';

const SHA256 = /^[0-9a-f]{64}$/;
const SEGMENT = /^[A-Za-z0-9._=+-]+$/;
/**
 * The shared parts of any worker's data folder: a dataset by digest (`datasets/<sha256>/…`), what
 * activities pass each other (`artifacts/…`, `checkpoints/…`), and a knowledge transcript by its
 * digest (`knowledge/<sha256>.jsonl`, staged by the CLI). The leftmost match wins, so a data
 * folder's own path must not have a segment named `artifacts` or `checkpoints`; the dataset and
 * transcript forms need a digest, so an ordinary folder of those names does not match.
 */
const SHARED_FILE = /(?:^|\/)((?:datasets\/[0-9a-f]{64}|artifacts|checkpoints)\/.+|knowledge\/[0-9a-f]{64}\.jsonl)$/;

export function isSha256(s: string): boolean {
  return SHA256.test(s);
}

/** A store name: `/`-separated, each segment plain (no `..`, no empty part), so it is a path on every host. */
export function checkName(name: string): string {
  const parts = name.split('/');
  if (parts.length === 0 || parts.some((p) => !SEGMENT.test(p) || p === '.' || p === '..')) {
    throw new Error(`store name ${JSON.stringify(name)} must be /-separated segments of letters, digits and ._=+-`);
  }
  return name;
}

/** Where a file's bytes live (relative to STORE_ROOT): by their sha256, so a download can be checked against its key. */
export function blobKey(sha256: string): string {
  if (!isSha256(sha256)) throw new Error(`blob key needs a sha256 in hex (got ${JSON.stringify(sha256)})`);
  return `sha256/${sha256}`;
}

/** Where a name's ref (which blob it is) lives, relative to STORE_ROOT. */
export function refKey(name: string): string {
  return `refs/${checkName(name)}.json`;
}

/** The store name of a file under a data folder: its relative path; undefined when it is outside. */
export function nameUnder(dataDir: string, file: string): string | undefined {
  const rel = path.relative(path.resolve(dataDir), path.resolve(file));
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return checkName(rel.split(path.sep).join('/'));
}

/**
 * The store name of a file named by another worker's path (its data folder unknown here): the part
 * from its shared root on, so `/a/datasets/<d>/x.f64` and `/b/datasets/<d>/x.f64` agree.
 */
export function sharedNameOf(file: string): string | undefined {
  const m = SHARED_FILE.exec(file.split(path.sep).join('/'));
  return m ? checkName(m[1]!) : undefined;
}

/** The name a reader looks up for a path: under its own folder first, then as a shared file of any folder. */
export function storeNameOf(dataDir: string, file: string): string | undefined {
  return nameUnder(dataDir, file) ?? sharedNameOf(file);
}

/** The local copy of a named file: the same relative path under this worker's data folder. */
export function cachePath(dataDir: string, name: string): string {
  return path.join(path.resolve(dataDir), ...checkName(name).split('/'));
}
