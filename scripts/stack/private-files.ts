/**
 * The data folder holds credentials, datasets, model artifacts, traffic logs and Temporal's
 * database: nothing in it is for other users of the machine. Everything Flywheel starts runs with
 * umask 077 (so new files are 0600 and folders 0700), and `flywheel up` tightens what an older
 * version or another tool left readable. Two folders stay traversable (0711, never listable) when
 * the PostgreSQL cluster inside runs as its own system user: the data folder itself and `logs/`,
 * which that user must pass through to reach its cluster and its log file.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';

export const PRIVATE_UMASK = 0o077;

export interface TightenOptions {
  /** Folders another system user must pass through (mode 0711). */
  traversable?: readonly string[];
  /** Folders owned and guarded by someone else (the cluster's data folder): left alone. */
  skip?: readonly string[];
}

/** The mode a path should have: owner only, keeping the owner's execute bit on files. */
export function privateMode(mode: number, isDir: boolean, traversable: boolean): number {
  if (isDir) return traversable ? 0o711 : 0o700;
  return mode & 0o100 ? 0o700 : 0o600;
}

/** Walks `root` and chmods what is wider than it should be; returns how many paths changed. */
export async function tightenDataFolder(root: string, opts: TightenOptions = {}): Promise<number> {
  const traversable = new Set((opts.traversable ?? []).map((p) => path.resolve(p)));
  const skip = new Set((opts.skip ?? []).map((p) => path.resolve(p)));
  let changed = 0;
  async function visit(p: string): Promise<void> {
    if (skip.has(p)) return;
    const st = await fsp.lstat(p).catch(() => undefined);
    // Symlinks have no mode of their own; sockets and fifos belong to the services that made them.
    if (!st || (!st.isDirectory() && !st.isFile())) return;
    const want = privateMode(st.mode & 0o777, st.isDirectory(), traversable.has(p));
    if ((st.mode & 0o777) !== want) {
      await fsp.chmod(p, want).catch(() => undefined);
      changed++;
    }
    if (st.isDirectory()) {
      for (const name of await fsp.readdir(p).catch(() => [] as string[])) await visit(path.join(p, name));
    }
  }
  await visit(path.resolve(root));
  return changed;
}

/** Runs `fn` (which starts processes) with the private umask, then restores the caller's. */
export function withPrivateUmask<T>(fn: () => T): T {
  const previous = process.umask(PRIVATE_UMASK);
  try {
    return fn();
  } finally {
    process.umask(previous);
  }
}
