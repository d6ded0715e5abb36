/**
 * Online learning end to end on the real stack: an iris version trained by the real
 * TrainingPipeline, an online model warm-started from its ONNX in MLflow, served by a gateway on
 * a real port, learning from label feedback so the very next prediction has moved, surviving a
 * gateway restart (checkpoint + replay), and snapshotted by the OnlineSnapshot workflow as a
 * registered, deployable version with its feedback window as lineage — once per state.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { startOnlineModel, stopOnlineModel } from '../../activities/online';
import { softmaxParamsFromOnnx } from '../../activities/online-params';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import type { Dataset } from '../../lib/data/table';
import { tagsToRecord } from '../../clients/mlflow';
import { createGateway, type Gateway } from '../../serving/app';
import { readOnnx } from '../../serving/onnx-source';
import { JsonClient } from '../../traffic/http';
import type { TrainingPipelineResult } from '../../workflows/training-pipeline';
import type { OnlineSnapshotStatus } from '../../workflows/online-learning';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';

let env: TestEnv;
let gateway: Gateway | undefined;
let client: JsonClient;
let iris: Dataset;
const model = uniqueModelName('iris-online');
const name = `${model}-live`;
let version: string;

interface OnlinePrediction {
  predictionId: string;
  label: string;
  generation: number;
  learned: number;
  probabilities: Record<string, number>;
}

function row(i: number): number[] {
  return Array.from(iris.x.subarray(i * iris.nFeatures, (i + 1) * iris.nFeatures));
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openGateway(): Promise<void> {
  gateway = await createGateway({ ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 200 } }, { port: 0, logger: false });
  client = new JsonClient(await gateway.listen(), 8, { apiKey: await testApiKey(env, 'online') });
  await eventually(
    async () => ((await client.request('GET', '/v1/online')).body as { models: Array<{ name: string }> }).models,
    (ms) => ms.some((m) => m.name === name),
  );
}

async function closeGateway(): Promise<void> {
  client.close();
  await gateway?.close();
  gateway = undefined;
}

async function predict(features: number[]): Promise<OnlinePrediction> {
  const res = await client.post(`/v1/online/${name}/predict`, { features });
  expect(res.status).toBe(200);
  return res.body as OnlinePrediction;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

beforeAll(async () => {
  env = await openTestEnv('online');
  const loaded = await loadDataset('builtin:iris');
  if (!loaded.ok) throw new Error(loaded.error.message);
  iris = loaded.value.dataset;
  const result = await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}`,
      args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 20, learningRate: 0.1 }, taskQueues: { cpu: env.taskQueues.cpu } }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    return (await handle.result()) as TrainingPipelineResult;
  });
  version = result.version;
});

afterAll(async () => {
  if (gateway) await closeGateway();
  await env?.db.query('DELETE FROM online_predictions WHERE model = $1', [name]);
  await env?.db.query('DELETE FROM online_snapshots WHERE name = $1', [name]);
  await env?.db.query('DELETE FROM online_models WHERE name = $1', [name]);
  for (const table of ['traffic_weights', 'traffic_revisions', 'deployments']) await env?.db.query(`DELETE FROM ${table} WHERE model = $1`, [model]);
  await env?.close();
});

describe('online learning on the real stack', () => {
  it('warm-starts from the registered version: same predictions as its ONNX, idempotently', async () => {
    const started = await startOnlineModel(env.db, env.mlflow, { name, model, version, learningRate: 0.3 });
    expect(started).toMatchObject({ name, model, version, generation: 1, nFeatures: 4, classes: iris.classes, created: true });
    expect(await startOnlineModel(env.db, env.mlflow, { name, model, version, learningRate: 0.3 })).toMatchObject({ generation: 1, created: false });
    await expect(startOnlineModel(env.db, env.mlflow, { name, model, version: '999' })).rejects.toThrow(/not in the MLflow registry/);

    await openGateway();
    const mv = await env.mlflow.getModelVersion(model, version);
    const run = await env.mlflow.getRun(mv!.run_id!);
    const session = await ort.InferenceSession.create(await readOnnx(env.mlflow, `${run.info.artifact_uri}/model/model.onnx`));
    for (const i of [0, 60, 120]) {
      const direct = await session.run({ features: new ort.Tensor('float32', Float32Array.from(row(i)), [1, 4]) });
      const probs = direct.probabilities!.data as Float32Array;
      const p = await predict(row(i));
      iris.classes.forEach((c, j) => expect(p.probabilities[c]).toBeCloseTo(probs[j]!, 5));
    }
    await session.release();
    const bad = await client.post(`/v1/online/${name}/predict`, { features: [1, 2, 3] });
    expect({ status: bad.status, body: bad.body }).toEqual({ status: 400, body: { error: 'features: expected 4 numbers, got 3', field: 'features' } });
    expect((await client.post('/v1/online/nope/predict', { features: row(0) })).status).toBe(404);
  });

  it('learns from each label before acknowledging it: the next prediction has already moved', async () => {
    const x = row(75);
    const before = await predict(x);
    const target = iris.classes.find((c) => c !== before.label)!;
    const latencies: number[] = [];
    let flippedAfter = -1;
    let previous = before;
    for (let n = 0; n < 60; n++) {
      const t0 = performance.now();
      const fb = await client.post('/v1/feedback', { predictionId: previous.predictionId, kind: 'label', label: target });
      expect(fb.status).toBe(201);
      const next = await predict(x);
      latencies.push(performance.now() - t0);
      expect(next.learned).toBe(previous.learned + 1);
      expect(next.probabilities[target]).toBeGreaterThan(previous.probabilities[target]!);
      if (next.label === target && flippedAfter < 0) flippedAfter = n + 1;
      previous = next;
    }
    expect(flippedAfter).toBeGreaterThan(0);
    const p95 = quantile(latencies, 0.95);
    // Printed, not asserted: a loaded machine decides wall time (bench/feedback measures it). What
    // this test holds is that every acknowledged label had moved the very next prediction.
    console.log(`label → changed prediction: p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p95 ${p95.toFixed(2)} ms; flipped after ${flippedAfter} labels`);

    // A class the model does not know: refused at the edge (serving/feedback-guard.ts), not learnt.
    const p = await predict(x);
    const fb = await client.post('/v1/feedback', { predictionId: p.predictionId, kind: 'label', label: 'not-a-species' });
    expect(fb.status).toBe(422);
    expect((fb.body as { error: string }).error).toContain("not one of the model's classes");
    expect((await predict(x)).learned).toBe(p.learned);
  });

  it('keeps what it learnt across a gateway restart, and replays labels stored while it was down', async () => {
    const x = row(10);
    const beforeRestart = await predict(x);
    await closeGateway();
    const stored = await env.db.query<{ learned: string }>('SELECT learned FROM online_models WHERE name = $1', [name]);
    expect(Number(stored.rows[0]!.learned)).toBe(beforeRestart.learned);
    // A label committed while no gateway learnt it (as if it crashed after the commit).
    await env.db.query(`INSERT INTO feedback (prediction_id, kind, label) VALUES ($1, 'label', $2)`, [beforeRestart.predictionId, iris.classes[2]]);
    await openGateway();
    const after = await predict(x);
    expect(after.learned).toBe(beforeRestart.learned + 1);
    expect(after.probabilities[iris.classes[2]!]).toBeGreaterThan(beforeRestart.probabilities[iris.classes[2]!]!);
  });

  it('OnlineSnapshot registers what it learnt as a deployable version with its feedback window, once per state', async () => {
    // The checkpoint the snapshot reads is at most a second old.
    await new Promise((r) => setTimeout(r, 1_500));
    const status = await runWorkers(env, async () => {
      const handle = await env.client.workflow.start('OnlineSnapshot', {
        taskQueue: env.taskQueues.workflows,
        workflowId: `online-snapshot-${name}`,
        args: [{ name, model, everySeconds: 3600, taskQueues: { cpu: env.taskQueues.cpu } }],
      });
      const query = () => handle.query<OnlineSnapshotStatus>('status');
      await handle.signal('snapshot');
      await eventually(query, (s) => s.requests === 1 && s.recent.length === 1, 60_000);
      // Nothing learnt since: the same state answers with the same version.
      await handle.signal('snapshot');
      const s = await eventually(query, (s) => s.recent.length === 2, 60_000);
      await handle.signal('stop');
      await handle.result();
      return s;
    });
    const [first, second] = status.recent;
    expect(first).toMatchObject({ snapshotted: true, created: true, model, generation: 1 });
    expect(second).toMatchObject({ snapshotted: true, created: false });
    if (!first?.snapshotted || !second?.snapshotted) throw new Error('no snapshot');
    expect(second.version).toBe(first.version);
    expect(status.registered).toBe(1);

    const mv = await env.mlflow.getModelVersion(model, first.version);
    const tags = tagsToRecord(mv!.tags);
    const row0 = (await env.db.query('SELECT learned, learned_from, learned_through, state FROM online_models WHERE name = $1', [name])).rows[0];
    expect(tags).toMatchObject({
      'flywheel.online_model': name,
      'flywheel.base_version': version,
      'flywheel.learned_items': String(row0.learned),
      'flywheel.feedback_from_id': String(row0.learned_from),
      'flywheel.feedback_through_id': String(row0.learned_through),
    });
    const deployed = await deployVersion(env.db, env.mlflow, { model, version: first.version });
    expect(deployed).toMatchObject({ nFeatures: 4, classes: iris.classes });
    // The registered ONNX holds the learner's weights, as float32.
    const params = softmaxParamsFromOnnx(await readOnnx(env.mlflow, deployed.onnxUri));
    params.weights.forEach((w, i) => expect(w).toBeCloseTo(row0.state.weights[i], 5));
  });

  it('stops serving once stopped', async () => {
    expect(await stopOnlineModel(env.db, name)).toEqual({ name, stopped: true });
    const res = await eventually(() => client.post(`/v1/online/${name}/predict`, { features: row(0) }), (r) => r.status === 404);
    expect(res.status).toBe(404);
  });
});
