/**
 * Retraining on production data, on the real stack (issue 15): v1 of a model is trained on iris and
 * deployed; a real gateway serves iris rows (features logged) and they are labelled through its
 * feedback route; a Retraining started with `production:<model>:1h` snapshots that traffic in its
 * TrainingPipeline, trains the challenger on the older rows and judges challenger and champion on
 * the newest ones (a time split, not a random holdout); the version's MLflow lineage names the
 * production window, and `flywheel models show` says which data each version learned from.
 */
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { tagsToRecord } from '../../clients/mlflow';
import { dataPaths, PROJECT_ROOT } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import { datasetDir, readIndices } from '../../datasets/store';
import { getFileStore } from '../../datasets/file-store';
import type { RetrainingInput } from '../../lib/retraining/spec';
import { createGateway, type Gateway } from '../../serving/app';
import { JsonClient } from '../../traffic/http';
import { retrainingStatusQuery, type RetrainingResult } from '../../workflows/retraining';
import { testApiKey } from './helpers/auth';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
let gateway: Gateway;
let client: JsonClient;
const model = uniqueModelName('prodretrain');
const hyperparameters = { epochs: 100, learningRate: 0.5, seed: 1 };
const SERVED = 75;

beforeAll(async () => {
  env = await openTestEnv('production-retraining');
  await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}-v1`,
      args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters, taskQueues: { cpu: env.taskQueues.cpu } }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    await handle.result();
  });
  await deployVersion(env.db, env.mlflow, { model, version: '1' });
  gateway = await createGateway({ ...env.host('gateway'), gateway: { ...env.config.gateway, threads: 1, pollMs: 200, flushMs: 50 } }, { port: 0, logger: false });
  client = new JsonClient(await gateway.listen(), 4, { apiKey: await testApiKey(env, 'prodretrain') });
});

afterAll(async () => {
  client?.close();
  await gateway?.close();
  await env?.close();
});

function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: process.env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

describe('Retraining on production:<model>:<window>', () => {
  it('trains on the served, labelled traffic and judges on its newest rows', async () => {
    const iris = await loadDataset('builtin:iris');
    if (!iris.ok) throw new Error(iris.error.message);
    const ds = iris.value.dataset;
    // Every other iris row, one request each, labelled with its true class.
    const items = [];
    for (let i = 0; i < SERVED; i++) {
      const r = 2 * i;
      const res = await client.post(`/v1/models/${model}/predict`, { features: Array.from(ds.x.subarray(r * 4, r * 4 + 4)), segment: { half: i < SERVED / 2 ? 'first' : 'second' } });
      expect(res.status).toBe(200);
      items.push({ predictionId: (res.body as { predictionId: string }).predictionId, kind: 'label', label: ds.classes[ds.y[r]!]! });
      // Serving order is kept to the millisecond: one row per millisecond at most.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await gateway.recorder.flush();
    const fb = await client.post('/v1/feedback/batch', { items });
    expect((fb.body as { stored: number }).stored).toBe(SERVED);

    const workflowId = `retrain-${model}-production`;
    // A margin no challenger can clear: the decision is not under test here, the data is.
    const input: RetrainingInput = { model, dataset: `production:${model}:1h`, hyperparameters, margin: 0.99, metric: 'accuracy', taskQueues: { cpu: env.taskQueues.cpu } };
    const { result, status } = await runWorkers(env, async () => {
      const handle = await env.client.workflow.start('Retraining', { taskQueue: env.taskQueues.workflows, workflowId, args: [input] });
      const result = (await handle.result()) as RetrainingResult;
      return { result, status: await handle.query(retrainingStatusQuery) };
    });
    expect(result.decision.kind).toBe('keep-champion');
    expect(result.champion).toMatchObject({ version: '1' });
    // Default holdout 0.2 of the 75 production rows: the 15 newest.
    expect(status).toMatchObject({ stage: 'done', dataset: `production:${model}:1h`, holdoutRows: 15 });

    const tags = tagsToRecord((await env.mlflow.getModelVersion(model, result.challenger.version))!.tags);
    expect(tags['flywheel.dataset_source']).toMatch(new RegExp(`^production:${model}\\?window=1h&to=`));
    const digest = tags['flywheel.dataset_digest']!;
    // Written by the workers, each on a folder of its own: this (the test's) host reads it from the shared store.
    const dir = datasetDir(dataPaths(env.config).datasets, digest);
    const holdoutFile = await getFileStore(env.config).local(path.join(dir, 'splits', 'seed42-holdout0.2', 'holdout.u32'));
    const holdout = Array.from(await readIndices(holdoutFile));
    expect(holdout).toEqual(Array.from({ length: 15 }, (_, i) => 60 + i));
    const lineage = await env.db.query('SELECT model, production_rows, labelled, label_coverage, versions FROM dataset_snapshots WHERE digest = $1 AND model = $2', [digest, model]);
    expect(lineage.rows).toEqual([{ model, production_rows: String(SERVED), labelled: String(SERVED), label_coverage: 1, versions: { '1': SERVED } }]);

    const shown = await cli(['models', 'show', model, '--json']);
    expect(shown.code, shown.out).toBe(0);
    const shownModel = JSON.parse(shown.out) as { versions: Array<{ version: string; learnedFrom?: string }>; segments: Record<string, Array<{ value: string; predictions: number; accuracy: number | null; behind: boolean }>> };
    const versions = shownModel.versions;
    // Every served row was labelled with its true class: v1's accuracy per half, neither half behind.
    expect(shownModel.segments['half']?.map((r) => [r.value, r.predictions, r.behind])).toEqual([['first', 38, false], ['second', 37, false]]);
    expect(versions.find((v) => v.version === '1')?.learnedFrom).toBe('builtin:iris');
    expect(versions.find((v) => v.version === result.challenger.version)?.learnedFrom).toMatch(/^production 1h, served \S+Z to \S+Z: 75 rows \(v1×75\), label coverage 1\.00$/);
  }, 180_000);
});
