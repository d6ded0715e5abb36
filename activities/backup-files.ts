/**
 * The content-addressed file store of backups: each file of the data folder is kept once under
 * objects/<sha[0:2]>/<sha256>, whatever the number of backups that refer to it; an unchanged file
 * costs a hash, not a copy. Writes go to a temporary name first, so a crash never leaves a
 * truncated object under its final name.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { objectPath, type FileEntry } from '../lib/backup/plan';

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(fs.createReadStream(file), h);
  return h.digest('hex');
}

/** Regular files under `dir`, '/'-separated relative paths, sorted (empty when `dir` is missing). */
export function walkFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

async function copyAtomically(from: string, to: string): Promise<void> {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.${randomUUID()}.tmp`;
  await fs.promises.copyFile(from, tmp);
  await fs.promises.rename(tmp, to);
}

/** Every file under `dataDir/root` for each root, stored if new; returns the entries and the bytes copied. */
export async function storeFiles(store: string, dataDir: string, roots: string[]): Promise<{ files: FileEntry[]; newBytes: number }> {
  const files: FileEntry[] = [];
  let newBytes = 0;
  for (const root of roots) {
    for (const rel of walkFiles(path.join(dataDir, root))) {
      const src = path.join(dataDir, root, rel);
      const sha256 = await sha256File(src);
      const bytes = fs.statSync(src).size;
      const dest = path.join(store, objectPath(sha256));
      if (!fs.existsSync(dest)) {
        await copyAtomically(src, dest);
        newBytes += bytes;
      }
      files.push({ root, path: rel, sha256, bytes });
    }
  }
  return { files, newBytes };
}

/** Each file back under `dataDir/root/path` from the store. */
export async function restoreFiles(store: string, dataDir: string, files: FileEntry[]): Promise<void> {
  for (const f of files) await copyAtomically(path.join(store, objectPath(f.sha256)), path.join(dataDir, f.root, ...f.path.split('/')));
}

/** sha256 of each object now (undefined when missing). */
export async function hashObjects(store: string, shas: string[]): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const sha of new Set(shas)) {
    const p = path.join(store, objectPath(sha));
    out[sha] = fs.existsSync(p) ? await sha256File(p) : undefined;
  }
  return out;
}

/** Every file under the store's objects/ (paths relative to it): objects and temporaries alike. */
export function objectFiles(store: string): string[] {
  return walkFiles(path.join(store, 'objects'));
}

/** The shas of every object in the store (`files`: objectFiles, when the caller walked them already). */
export function listObjects(store: string, files = objectFiles(store)): string[] {
  return files.map((p) => p.split('/').pop()!).filter((n) => /^[0-9a-f]{64}$/.test(n));
}

/**
 * Removes the temporary files a backup that died mid-copy left under objects/ (`*.tmp`: written
 * aside, then renamed). Only those not written to for `maxAgeMs`: a backup running now is still
 * writing its own. Returns how many went.
 */
export function removeStaleTemporaries(store: string, now: number, files = objectFiles(store), maxAgeMs = 3_600_000): number {
  let removed = 0;
  for (const rel of files) {
    if (!rel.endsWith('.tmp')) continue;
    const file = path.join(store, 'objects', rel);
    try {
      if (now - fs.statSync(file).mtimeMs < maxAgeMs) continue;
      fs.rmSync(file, { force: true });
      removed++;
    } catch {
      // Renamed or removed by its writer meanwhile: nothing left to do.
    }
  }
  return removed;
}
