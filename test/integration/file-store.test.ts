/**
 * No shared disk: what one worker writes under its data folder another reads from a folder of its own,
 * through the shared store on the real MLflow artifact proxy, checked against its sha256.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDataActivities } from '../../activities/data';
import { MlflowClient } from '../../clients/mlflow';
import { FileStore, StoreMiss, getFileStore } from '../../datasets/file-store';
import { readDataset } from '../../datasets/store';
import { STORE_ROOT } from '../../lib/store/names';
import { openTestEnv, type TestEnv } from './helpers/env';

let env: TestEnv;

beforeAll(async () => {
  env = await openTestEnv('file-store');
});

afterAll(async () => {
  await env?.close();
});

const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');

it('splits on one host a dataset validated on another, and each reads the other\'s files from its own folder', async () => {
  const a = env.host('a');
  const b = env.host('b');
  const ref = await createDataActivities(a).validateDataset({ dataset: 'penguins' });
  expect(ref.uri.startsWith(a.dataDir)).toBe(true);

  const split = await createDataActivities(b).splitDataset({ datasetUri: ref.uri, holdoutFraction: 0.2, seed: 7 });
  expect(split.trainUri.startsWith(b.dataDir)).toBe(true);
  const copy = path.join(b.dataDir, 'datasets', ref.digest);
  for (const f of ['meta.json', 'x.f64', 'y.i32']) expect(await sha(path.join(copy, f))).toBe(await sha(path.join(ref.uri, f)));
  expect((await readDataset(copy)).meta.digest).toBe(ref.digest);
  expect(readdirTmp(copy)).toEqual([]);

  // Host a never wrote this split: it comes back from the store, the same bytes.
  const onA = await getFileStore(a).local(split.holdoutUri);
  expect(onA).toBe(path.join(a.dataDir, 'datasets', ref.digest, 'splits', 'seed7-holdout0.2', 'holdout.u32'));
  expect(await sha(onA)).toBe(await sha(split.holdoutUri));
});

it('keeps using an unpublished path that exists on this host (histories from the shared-folder era), unless isolated', async () => {
  const c = env.host('c');
  const old = path.join(env.host('old').dataDir, 'artifacts', `wf-${randomBytes(4).toString('hex')}`, 'run', 'model-params.json');
  await mkdir(path.dirname(old), { recursive: true });
  await writeFile(old, '{}');
  expect(await new FileStore(c.dataDir, new MlflowClient(env.config.mlflow), 'use').local(old)).toBe(old);
  await expect(getFileStore(c).local(old)).rejects.toBeInstanceOf(StoreMiss);
});

it('refuses a blob that is not the one its ref names, and says so for a name nobody published', async () => {
  const writer = getFileStore(env.host('w'));
  const reader = getFileStore(env.host('r'));
  const file = path.join(writer.dataDir, 'artifacts', `wf-${randomBytes(4).toString('hex')}`, 'run', 'model.onnx');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, randomBytes(1024));
  await writer.publish(file);
  await rename(file, `${file}.gone`); // as on another host: the reader cannot see the writer's file

  // Swap the blob the ref names for other bytes, through the real server.
  const ref = JSON.parse(new TextDecoder().decode(await env.mlflow.downloadArtifact(`mlflow-artifacts:/${STORE_ROOT}`, `refs/${path.relative(writer.dataDir, file)}.json`))) as { sha256: string };
  const mlflow = new MlflowClient(env.config.mlflow);
  const original = await mlflow.downloadArtifact(`mlflow-artifacts:/${STORE_ROOT}`, `sha256/${ref.sha256}`);
  await mlflow.uploadArtifact(`mlflow-artifacts:/${STORE_ROOT}`, `sha256/${ref.sha256}`, randomBytes(1024));
  await expect(reader.local(file)).rejects.toThrow(/has sha256 [0-9a-f]{64}, its ref says/);
  const cached = path.join(reader.dataDir, path.relative(writer.dataDir, file));
  expect(existsSync(cached)).toBe(false);

  await mlflow.uploadArtifact(`mlflow-artifacts:/${STORE_ROOT}`, `sha256/${ref.sha256}`, original);
  expect(await sha(await reader.local(file))).toBe(ref.sha256);

  await expect(reader.local(path.join(writer.dataDir, 'artifacts', 'never', 'written.onnx'))).rejects.toBeInstanceOf(StoreMiss);
  await expect(new FileStore(reader.dataDir, undefined).local(path.join(writer.dataDir, 'artifacts', 'x'))).rejects.toThrow(/shared store is off/);
});

function readdirTmp(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.includes('.tmp-'));
}
