/**
 * A TypeScript TrainingPipeline with the mlp family trains on the Python PyTorch worker (a real
 * process, on the CPU here), registers the ONNX it exported, and the gateway serves it exactly as
 * onnxruntime-node computes it. With no GPU worker, pool auto falls back to the CPU queue after
 * the wait, and pool gpu fails with one clear message instead of hanging.
 */
import { randomUUID } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { setTrafficWeights } from '../../activities/traffic';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import { createGateway, type Gateway } from '../../serving/app';
import { JsonClient } from '../../traffic/http';
import { statusQuery, type TrainingPipelineResult, type TrainingStatus } from '../../workflows/training-pipeline';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';
import { spawnTorchWorker, type SpawnedTorchWorker } from './helpers/torch-worker';
import { pyfuncPredict } from './helpers/mlflow-python';

let env: TestEnv;
let torchWorker: SpawnedTorchWorker;
let gateway: Gateway | undefined;
const queues = { gpu: `test-gpu-${randomUUID().slice(0, 8)}`, cpuTorch: `test-cpu-torch-${randomUUID().slice(0, 8)}` };
const models: string[] = [];

beforeAll(async () => {
  env = await openTestEnv('torch');
  torchWorker = await spawnTorchWorker({ cpuTorchQueue: queues.cpuTorch });
});
afterAll(async () => {
  await torchWorker?.kill('SIGTERM');
  await gateway?.close();
  for (const table of ['traffic_weights', 'traffic_revisions', 'deployments']) await env?.db.query(`DELETE FROM ${table} WHERE model = ANY($1)`, [models]);
  await env?.close();
});

function start(model: string, extra: Record<string, unknown>) {
  return env.client.workflow.start('TrainingPipeline', {
    taskQueue: env.taskQueues.workflows,
    workflowId: `train-${model}`,
    args: [{ model, dataset: 'builtin:breast-cancer', family: 'mlp', hyperparameters: { epochs: 30, hiddenUnits: 32, batchSize: 64, learningRate: 0.003 }, taskQueues: { cpu: env.taskQueues.cpu, ...queues }, ...extra }],
    typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
  });
}

it('trains an mlp on the Python worker after no GPU worker came, registers its ONNX and serves it through the gateway', async () => {
  const model = uniqueModelName('torch-mlp');
  models.push(model);
  const { result, status } = await runWorkers(env, async () => {
    const handle = await start(model, { pool: 'auto', gpuWaitSeconds: 2 });
    const result = (await handle.result()) as TrainingPipelineResult;
    return { result, status: await handle.query(statusQuery) };
  });

  expect(result.training.device).toBe('cpu');
  expect(result.training.epochs).toBe(30);
  expect(status.placement).toMatchObject({ state: 'cpu', device: 'cpu' });
  expect(status.stages.every((s) => s.state === 'done')).toBe(true);
  // Evaluated by onnxruntime-node on the holdout (the TypeScript evaluate stage), not by PyTorch.
  expect(result.metrics.holdoutRows).toBeGreaterThan(100);
  expect(result.metrics.accuracy).toBeGreaterThan(0.9);
  const registered = await env.mlflow.getModelVersion(model, result.version);
  expect(registered?.tags?.find((t) => t.key === 'flywheel.family')?.value).toBe('mlp');

  // The history shows the GPU attempt timing out before anyone started it, then the CPU queue.
  const history = await env.client.workflow.getHandle(result.workflowId).fetchHistory();
  const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainNeuralModel');
  expect(scheduled.map((e) => e.activityTaskScheduledEventAttributes!.taskQueue!.name)).toEqual([queues.gpu, queues.cpuTorch]);

  await deployVersion(env.db, env.mlflow, { model, version: result.version });
  await setTrafficWeights(env.db, { model, weights: { [result.version]: 10_000 } });
  gateway = await createGateway({ ...env.host('gateway'), gateway: { ...env.config.gateway, threads: 1, pollMs: 500 } }, { port: 0, logger: false });
  const client = new JsonClient(await gateway.listen(), 4, { apiKey: await testApiKey(env, 'torch') });
  const loaded = await loadDataset('builtin:breast-cancer');
  if (!loaded.ok) throw new Error(loaded.error.message);
  const ds = loaded.value.dataset;
  const rows = [0, 1, 2, 200, 400].map((i) => Array.from(ds.x.subarray(i * ds.nFeatures, (i + 1) * ds.nFeatures)));
  const served = await client.post(`/v1/models/${model}/predict`, { instances: rows, unitKey: 'u1' });
  expect(served.status).toBe(200);
  const body = served.body as { version: string; labels: string[]; probabilities: Array<Record<string, number>> };
  expect(body.version).toBe(result.version);

  // What the gateway serves is what onnxruntime computes from the file the Python worker wrote.
  const session = await ort.InferenceSession.create(result.onnxUri);
  const out = await session.run({ features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, ds.nFeatures]) });
  const p = out.probabilities!.data as Float32Array;
  rows.forEach((_, r) => ds.classes.forEach((c, j) => expect(body.probabilities[r]![c]).toBeCloseTo(p[r * ds.classes.length + j]!, 6)));
  await session.release();

  // MLflow's own client loads the version the Python worker exported (its MLmodel and signature
  // written by the TypeScript registry) and predicts what the gateway served.
  const viaMlflow = (await pyfuncPredict(env.config.mlflow, `models:/${model}/${result.version}`, rows)) as { probabilities: number[][]; label: number[] };
  rows.forEach((_, r) => ds.classes.forEach((c, j) => expect(viaMlflow.probabilities[r]![j]).toBeCloseTo(body.probabilities[r]![c]!, 6)));
  expect(viaMlflow.label.map((i) => ds.classes[i])).toEqual(body.labels);
}, 240_000);

it('fails clearly, without hanging, when pool gpu finds no GPU worker', async () => {
  const model = uniqueModelName('torch-nogpu');
  const err = await runWorkers(env, async () => {
    const handle = await start(model, { pool: 'gpu', gpuWaitSeconds: 2 });
    const failed = await handle.result().catch((e: unknown) => e);
    return { failed, status: (await handle.query(statusQuery)) as TrainingStatus };
  });
  expect(err.failed).toBeInstanceOf(WorkflowFailedError);
  const cause = (err.failed as WorkflowFailedError).cause as { type?: string; message?: string; nonRetryable?: boolean };
  expect(cause.type).toBe('NoTorchWorker');
  expect(cause.nonRetryable).toBe(true);
  expect(cause.message).toBe(`no GPU worker picked up the training on task queue ${queues.gpu} within 2 s: start one (flywheel up --gpu, or the gpu-worker compose service) or train with --pool auto or cpu`);
  expect(err.status).toMatchObject({ state: 'failed', stage: 'train', error: cause.message });
}, 120_000);
