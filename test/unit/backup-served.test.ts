/**
 * The backup's walk of MLflow's served artifact root (activities/backup-served.ts) against an
 * in-memory artifact tree: every file found through the folders, stored by its content's sha256 as
 * a copy of the folder would be, and a blob of the shared store the backup holds already not
 * downloaded again. (backup-restore.test.ts runs it against the real MLflow.)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listServedFiles, storeServedArtifacts, type ServedArtifacts } from '../../activities/backup-served';
import { removeStaleTemporaries } from '../../activities/backup-files';
import { objectPath } from '../../lib/backup/plan';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A served artifact root from paths → contents; counts the downloads per path. */
function served(files: Record<string, string>): ServedArtifacts & { downloads: Record<string, number> } {
  const downloads: Record<string, number> = {};
  return {
    downloads,
    async listServedArtifacts(dir) {
      const prefix = dir ? `${dir}/` : '';
      const names = new Map<string, { isDir: boolean; bytes: number | undefined }>();
      for (const [p, body] of Object.entries(files)) {
        if (!p.startsWith(prefix)) continue;
        const [name, ...rest] = p.slice(prefix.length).split('/');
        names.set(name!, rest.length > 0 ? { isDir: true, bytes: undefined } : { isDir: false, bytes: Buffer.byteLength(body) });
      }
      return [...names].map(([name, e]) => ({ name, ...e }));
    },
    async streamServedArtifact(p) {
      downloads[p] = (downloads[p] ?? 0) + 1;
      const body = files[p];
      if (body === undefined) throw new Error(`no ${p}`);
      return new Blob([body]).stream() as ReadableStream<Uint8Array>;
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('backing up MLflow through its artifact proxy', () => {
  const blob = 'a dataset, published by a worker';
  const tree = {
    '1/run-a/artifacts/model.onnx': 'onnx bytes',
    '1/run-a/artifacts/metrics/summary.json': '{"f1":0.9}',
    '2/run-b/artifacts/model.onnx': 'onnx bytes',
    [`flywheel-store/sha256/${sha(blob)}`]: blob,
    'flywheel-store/refs/datasets/x.json': `{"sha256":"${sha(blob)}"}`,
  };

  it('lists every file through the folders, sorted', async () => {
    expect((await listServedFiles(served(tree))).map((f) => f.path)).toEqual(Object.keys(tree).sort());
  });

  it('stores each file once by its content, with the entries a copy of the folder would have, and downloads a known blob only once', async () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-served-'));
    dirs.push(store);
    const mlflow = served(tree);
    const first = await storeServedArtifacts(store, mlflow, 2);
    expect(first.files).toEqual(Object.keys(tree).sort().map((p) => ({ root: 'mlflow-artifacts', path: p, sha256: sha(tree[p as keyof typeof tree]!), bytes: Buffer.byteLength(tree[p as keyof typeof tree]!) })));
    for (const f of first.files) expect(fs.readFileSync(path.join(store, objectPath(f.sha256)), 'utf8')).toBe(tree[f.path as keyof typeof tree]);
    // The two identical models are one object; the bytes added count it once.
    const distinct = new Set(Object.values(tree));
    expect(first.newBytes).toBe([...distinct].reduce((n, b) => n + Buffer.byteLength(b), 0));
    // Nothing left under a temporary name.
    expect(fs.readdirSync(path.join(store, 'objects')).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const second = await storeServedArtifacts(store, mlflow, 2);
    expect(second).toEqual({ files: first.files, newBytes: 0 });
    // A blob is named by its sha256: held already, it is not read again; everything else is.
    expect(mlflow.downloads[`flywheel-store/sha256/${sha(blob)}`]).toBe(1);
    expect(mlflow.downloads['1/run-a/artifacts/model.onnx']).toBe(2);
  });
});

describe('what a backup that died mid-copy leaves', () => {
  it('removes temporary files not written to for an hour, and nothing else', () => {
    const store = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-served-'));
    dirs.push(store);
    const at = (rel: string, ageMs: number) => {
      const file = path.join(store, 'objects', rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, 'x');
      const t = (Date.now() - ageMs) / 1000;
      fs.utimesSync(file, t, t);
      return file;
    };
    const object = at(objectPath(sha('kept')).replace(/^objects\//, ''), 5 * 3_600_000);
    const stale = [at('incoming-1.tmp', 2 * 3_600_000), at(`ab/${sha('y')}.123.tmp`, 2 * 3_600_000)];
    const writing = at('incoming-2.tmp', 60_000);
    expect(removeStaleTemporaries(store, Date.now())).toBe(2);
    for (const f of stale) expect(fs.existsSync(f)).toBe(false);
    expect(fs.existsSync(writing)).toBe(true);
    expect(fs.existsSync(object)).toBe(true);
  });
});
