/**
 * The serving gateway end to end on the real stack: two iris versions trained by the real
 * TrainingPipeline (Temporal, MLflow), deployed by deployVersion, served by a gateway on a real
 * port that reads PostgreSQL. Nothing is mocked; predictions are checked against onnxruntime run
 * directly on the same ONNX.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { markDeployment, setFault, setTrafficWeights } from '../../activities/traffic';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import type { Dataset } from '../../lib/data/table';
import { createGateway, type Gateway } from '../../serving/app';
import { readOnnx } from '../../serving/onnx-source';
import { bucketOf, routingTable, type Range } from '../../serving/routing';
import { JsonClient } from '../../traffic/http';
import { closedLoop } from '../../traffic/load';
import type { TrainingPipelineResult } from '../../workflows/training-pipeline';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';

let env: TestEnv;
let gateway: Gateway;
let client: JsonClient;
let baseUrl: string;
let apiKey: string;
let iris: Dataset;
const model = uniqueModelName('iris-serve');
let v1: string;
let v2: string;

interface Prediction {
  predictionId: string;
  model: string;
  version: string;
  label: string;
  probabilities: Record<string, number>;
}
interface BatchPrediction {
  predictionIds: string[];
  version: string;
  labels: string[];
  probabilities: Array<Record<string, number>>;
}

function row(i: number): number[] {
  return Array.from(iris.x.subarray(i * iris.nFeatures, (i + 1) * iris.nFeatures));
}

async function predict(body: unknown) {
  return client.post(`/v1/models/${model}/predict`, body);
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sets weights and waits until the gateway routes by them (it reloads on NOTIFY). */
async function route(weights: Record<string, number>): Promise<void> {
  await setTrafficWeights(env.db, { model, weights });
  const served = await eventually(
    async () => ((await client.request('GET', '/v1/models')).body as { models: Array<{ model: string; versions: Array<{ version: string; weight: number }> }> }).models.find((m) => m.model === model),
    (m) => !!m && Object.entries(weights).every(([v, w]) => m.versions.find((x) => x.version === v)?.weight === w),
  );
  expect(served, `gateway never served ${JSON.stringify(weights)}`).toBeDefined();
}

async function metric(name: string): Promise<number> {
  const text = (await client.request('GET', '/metrics')).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 0);
}

async function countRows(table: 'predictions' | 'feedback'): Promise<number> {
  const sql = table === 'predictions' ? 'SELECT count(*)::int AS n FROM predictions WHERE model = $1' : 'SELECT count(*)::int AS n FROM feedback f JOIN predictions p ON p.id = f.prediction_id WHERE p.model = $1';
  return (await env.db.query<{ n: number }>(sql, [model])).rows[0]!.n;
}

beforeAll(async () => {
  env = await openTestEnv('serving');
  const loaded = await loadDataset('builtin:iris');
  if (!loaded.ok) throw new Error(loaded.error.message);
  iris = loaded.value.dataset;
  const results = await runWorkers(env, async () => {
    const train = async (suffix: string, hyperparameters: Record<string, unknown>) => {
      const handle = await env.client.workflow.start('TrainingPipeline', {
        taskQueue: env.taskQueues.workflows,
        workflowId: `train-${model}-${suffix}`,
        args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters, taskQueues: { cpu: env.taskQueues.cpu } }],
        typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
      });
      return (await handle.result()) as TrainingPipelineResult;
    };
    return [await train('a', { epochs: 20, learningRate: 0.1 }), await train('b', { epochs: 5, learningRate: 0.02 })];
  });
  [v1, v2] = results.map((r) => r.version) as [string, string];
  await deployVersion(env.db, env.mlflow, { model, version: v1 });
  await deployVersion(env.db, env.mlflow, { model, version: v2 });
  gateway = await createGateway(
    { ...env.host('gateway'), gateway: { ...env.config.gateway, threads: 2, pollMs: 1_000, flushMs: 100, flushRows: 50 } },
    { port: 0, logger: false },
  );
  baseUrl = await gateway.listen();
  apiKey = await testApiKey(env, 'serving');
  client = new JsonClient(baseUrl, 16, { apiKey });
});

afterAll(async () => {
  client?.close();
  await gateway?.close();
  for (const table of ['fault_injection', 'traffic_weights', 'traffic_revisions', 'deployments']) {
    await env?.db.query(`DELETE FROM ${table} WHERE model = $1`, [model]);
  }
  await env?.close();
});

describe('serving gateway on the real stack', () => {
  it('answers single and batch predictions exactly as onnxruntime does on the same ONNX', async () => {
    await route({ [v1]: 10000, [v2]: 0 });
    const { rows } = await env.db.query<{ onnx_uri: string }>('SELECT onnx_uri FROM deployments WHERE model = $1 AND version = $2', [model, v1]);
    const session = await ort.InferenceSession.create(await readOnnx(env.mlflow, rows[0]!.onnx_uri));
    const indices = [0, 1, 50, 75, 100, 149];
    const x = Float32Array.from(indices.flatMap(row));
    const direct = await session.run({ features: new ort.Tensor('float32', x, [indices.length, iris.nFeatures]) });
    const probs = direct.probabilities!.data as Float32Array;
    const labels = Array.from(direct.label!.data as BigInt64Array, (l) => iris.classes[Number(l)]);
    const k = iris.classes.length;

    for (const [n, i] of indices.entries()) {
      const res = await predict({ unitKey: `rt-${i}`, features: row(i) });
      expect(res.status).toBe(200);
      const body = res.body as Prediction;
      expect(body).toMatchObject({ model, version: v1, label: labels[n] });
      expect(body.predictionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Object.keys(body.probabilities)).toEqual(iris.classes);
      iris.classes.forEach((c, j) => expect(body.probabilities[c]).toBe(probs[n * k + j]));
    }
    const batch = await predict({ unitKey: 'rt-batch', instances: indices.map(row) });
    expect(batch.status).toBe(200);
    const b = batch.body as BatchPrediction;
    expect(b.labels).toEqual(labels);
    expect(new Set(b.predictionIds).size).toBe(indices.length);
    b.probabilities.forEach((p, n) => iris.classes.forEach((c, j) => expect(p[c]).toBe(probs[n * k + j])));
    await session.release();
  });

  it('moves a small model onto the event loop once its runs are measured cheap, answering exactly as in a thread', async () => {
    await route({ [v1]: 10000, [v2]: 0 });
    const { rows } = await env.db.query<{ onnx_uri: string }>('SELECT onnx_uri FROM deployments WHERE model = $1 AND version = $2', [model, v1]);
    const session = await ort.InferenceSession.create(await readOnnx(env.mlflow, rows[0]!.onnx_uri));
    const direct = await session.run({ features: new ort.Tensor('float32', Float32Array.from(row(75)), [1, iris.nFeatures]) });
    const expected = Array.from(direct.probabilities!.data as Float32Array);
    await session.release();
    const inline = () => metric('flywheel_gateway_inference_runs_total{place="inline"}');
    const before = await inline();
    // More than the policy's warm-up (64 runs), all of the same version.
    for (let i = 0; i < 80; i++) expect((await predict({ unitKey: `inl-${i}`, features: row(i % 150) })).status).toBe(200);
    expect(await inline()).toBeGreaterThan(before);
    const res = await predict({ unitKey: 'inl-check', features: row(75) });
    expect(res.status).toBe(200);
    iris.classes.forEach((c, j) => expect((res.body as Prediction).probabilities[c]).toBe(expected[j]));
    expect(await metric('flywheel_gateway_inference_runs_total{place="thread"}')).toBeGreaterThan(0);
  });

  it('routes each unit to the same version every time, following the stored bucket ranges', async () => {
    await route({ [v1]: 5000, [v2]: 5000 });
    const units = Array.from({ length: 300 }, (_, i) => `sticky-${i}`);
    const first = new Map<string, string>();
    for (const u of units) first.set(u, ((await predict({ unitKey: u, features: row(3) })).body as Prediction).version);
    for (const u of units) expect(((await predict({ unitKey: u, features: row(120) })).body as Prediction).version).toBe(first.get(u));
    const onV2 = units.filter((u) => first.get(u) === v2).length / units.length;
    expect(onV2).toBeGreaterThan(0.4);
    expect(onV2).toBeLessThan(0.6);

    // The same answer as the routing table built from the rows in PostgreSQL.
    const { rows } = await env.db.query<{ version: string; ranges: Range[] }>('SELECT version, ranges FROM traffic_weights WHERE model = $1', [model]);
    const versions = rows.map((r) => r.version);
    const table = routingTable(Object.fromEntries(rows.map((r) => [r.version, r.ranges])), versions);
    for (const u of units) expect(first.get(u)).toBe(versions[table[bucketOf(u)]!]);

    // Raising v2 moves units only from v1 to v2.
    await route({ [v1]: 2000, [v2]: 8000 });
    let moved = 0;
    for (const u of units) {
      const now = ((await predict({ unitKey: u, features: row(3) })).body as Prediction).version;
      if (first.get(u) === v2) expect(now).toBe(v2);
      else if (now === v2) moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('changes weights and versions under concurrent load without failing a single request', async () => {
    await route({ [v1]: 5000, [v2]: 5000 });
    const statuses: Record<number, number> = {};
    const load = closedLoop({
      connections: 8,
      durationMs: 5_000,
      send: async (i) => {
        const res = await predict({ unitKey: `load-${i % 500}`, features: row(i % iris.nRows) });
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        return res.status === 200;
      },
    });
    const changes = (async () => {
      const pause = () => new Promise((r) => setTimeout(r, 300));
      for (const w of [[8000, 2000], [2000, 8000], [0, 10000], [10000, 0]]) {
        await setTrafficWeights(env.db, { model, weights: { [v1]: w[0]!, [v2]: w[1]! } });
        await pause();
      }
      // v2 leaves the gateway (its sessions are unloaded) and comes back with a fresh deploy.
      await markDeployment(env.db, { model, version: v2, state: 'retired', reason: 'test' });
      await pause();
      await deployVersion(env.db, env.mlflow, { model, version: v2 });
      await setTrafficWeights(env.db, { model, weights: { [v1]: 3000, [v2]: 7000 } });
      await pause();
      await setTrafficWeights(env.db, { model, weights: { [v1]: 5000, [v2]: 5000 } });
    })();
    const [result] = await Promise.all([load, changes]);
    expect(statuses).toEqual({ 200: result.sent });
    expect(result.failed).toBe(0);
    expect(result.sent).toBeGreaterThan(500);
  });

  it('refuses bad requests with 400 naming the field, and writes nothing for them', async () => {
    await route({ [v1]: 10000, [v2]: 0 });
    await gateway.recorder.flush();
    const [predictionsBefore, feedbackBefore] = [await countRows('predictions'), await countRows('feedback')];
    const cases: Array<[unknown, string]> = [
      [{ features: [1, 2, 3] }, 'features: expected 4 numbers, got 3'],
      [{ features: [1, 2, 'x', 4] }, 'features[2]: must be a finite number'],
      [{ features: [1, 2, 1e39, 4] }, 'features[2]: must be a finite number'],
      [{ features: [1, 2, null, 4] }, 'features[2]: must be a finite number'],
      [{ features: 'nope' }, 'features: expected an array of numbers'],
      [{ instances: [[1, 2, 3, 4], [1, 2, 3]] }, 'instances[1]: expected 4 numbers, got 3'],
      [{ instances: [] }, 'instances: expected a non-empty array of rows'],
      [{ instances: Array.from({ length: 1001 }, () => [1, 2, 3, 4]) }, 'instances: at most 1000 rows per request, got 1001'],
      [{ features: [1, 2, 3, 4], instances: [[1, 2, 3, 4]] }, 'body: give features (one row) or instances (a batch), not both'],
      [{ unitKey: 42, features: [1, 2, 3, 4] }, 'unitKey: must be a non-empty string of at most 256 characters'],
      [{ feature: [1, 2, 3, 4] }, 'feature: unknown field (expected unitKey, features, instances or segment)'],
      [[1, 2, 3, 4], 'body: expected a JSON object with features or instances'],
    ];
    // One error body: the message, and the field it names.
    const invalid = (error: string) => ({ error, field: error.slice(0, error.indexOf(':')) });
    for (const [body, error] of cases) {
      const res = await predict(body);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: invalid(error) });
    }
    const unknown = await client.post('/v1/models/no-such-model/predict', { features: [1, 2, 3, 4] });
    expect({ status: unknown.status, body: unknown.body }).toEqual({ status: 404, body: { error: 'model no-such-model is not deployed' } });

    const id = '01a2185b-2c3b-7e20-a48c-d90d344c29d7';
    const feedbackCases: Array<[unknown, string]> = [
      [{ predictionId: 'not-a-uuid', kind: 'click' }, 'predictionId: must be the UUID a predict response returned'],
      [{ predictionId: id, kind: 'like' }, 'kind: must be one of rating, click, dismiss, dwell, copy, event, label, comment'],
      [{ predictionId: id, kind: 'rating', value: 6 }, 'value: a rating must be a number from 1 to 5'],
      [{ predictionId: id, kind: 'rating' }, 'value: a rating must be a number from 1 to 5'],
      [{ predictionId: id, kind: 'dwell', value: -1 }, 'value: dwell must be a number of seconds ≥ 0'],
      [{ predictionId: id, kind: 'click', value: 'x' }, 'value: must be a finite number'],
      [{ predictionId: id, kind: 'label' }, 'label: required with kind label (the true class)'],
      [{ predictionId: id, kind: 'click', label: 'setosa' }, 'label: only allowed with kind label'],
      [{ predictionId: id, kind: 'click', extra: 1 }, 'extra: unknown field (expected predictionId, kind, value, label, event, comment, source, unitKey, idempotencyKey)'],
    ];
    for (const [body, error] of feedbackCases) {
      const res = await client.post('/v1/feedback', body);
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: invalid(error) });
    }
    const malformed = await fetch(`${baseUrl}/v1/models/${model}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: '{"features": [1, 2,',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/^body: /);

    await new Promise((r) => setTimeout(r, 300));
    await gateway.recorder.flush();
    expect(await countRows('predictions')).toBe(predictionsBefore);
    expect(await env.db.query('SELECT 1 FROM feedback WHERE prediction_id = $1', [id]).then((r) => r.rowCount)).toBe(0);
    expect(await countRows('feedback')).toBe(feedbackBefore);
  });

  it('stores feedback synchronously and answers a repeat with the same idempotency key with the same row', async () => {
    const p = (await predict({ unitKey: 'fb', features: row(10) })).body as Prediction;
    const body = { predictionId: p.predictionId, kind: 'rating', value: 4, idempotencyKey: `fb-${p.predictionId}` };
    const first = await client.post('/v1/feedback', body);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ predictionId: p.predictionId, kind: 'rating', value: 4, label: null, idempotencyKey: body.idempotencyKey });
    const repeat = await client.post('/v1/feedback', body);
    expect({ status: repeat.status, body: repeat.body }).toEqual({ status: 200, body: first.body });
    const conflict = await client.post('/v1/feedback', { ...body, value: 5 });
    expect(conflict.status).toBe(409);
    expect(await client.post('/v1/feedback', { predictionId: p.predictionId, kind: 'label', label: 'setosa' }).then((r) => r.status)).toBe(201);
    expect(await client.post('/v1/feedback', { predictionId: p.predictionId, kind: 'dwell', value: 12.5 }).then((r) => r.status)).toBe(201);
    const { rows } = await env.db.query('SELECT kind, value, label FROM feedback WHERE prediction_id = $1 ORDER BY id', [p.predictionId]);
    expect(rows).toEqual([
      { kind: 'rating', value: 4, label: null },
      { kind: 'label', value: null, label: 'setosa' },
      { kind: 'dwell', value: 12.5, label: null },
    ]);
  });

  it('records every prediction, in batches, with what the client was told', async () => {
    await route({ [v1]: 5000, [v2]: 5000 });
    await gateway.recorder.flush();
    const batchesBefore = await metric('flywheel_gateway_prediction_insert_batches_total');
    const answers: Prediction[] = [];
    // Eight concurrent clients, fifty requests each.
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = 0; i < 50; i++) {
          const n = c * 50 + i;
          answers.push((await predict({ unitKey: `rec-${n}`, features: row(n % iris.nRows) })).body as Prediction);
        }
      }),
    );
    const ids = answers.map((a) => a.predictionId);
    const stored = await eventually(
      () => env.db.query<{ id: string; version: string; predicted_label: string; outcome: string; unit_key: string }>('SELECT id, version, predicted_label, outcome, unit_key FROM predictions WHERE id = ANY($1)', [ids]),
      (r) => r.rowCount === ids.length,
    );
    expect(stored.rowCount).toBe(400);
    const byId = new Map(stored.rows.map((r) => [r.id, r]));
    for (const a of answers) expect(byId.get(a.predictionId)).toMatchObject({ version: a.version, predicted_label: a.label, outcome: 'ok' });
    const batches = (await metric('flywheel_gateway_prediction_insert_batches_total')) - batchesBefore;
    // 400 rows at ≤ 50 per INSERT: at least 8 statements, and far fewer than one per row.
    expect(batches).toBeGreaterThanOrEqual(8);
    expect(batches).toBeLessThan(100);
  });

  it('injects faults per version: HTTP 500s recorded as errors, the other version untouched', async () => {
    await route({ [v1]: 5000, [v2]: 5000 });
    await setFault(env.db, { model, version: v2, errorRate: 1 });
    await eventually(
      async () => ((await client.request('GET', '/v1/models')).body as { models: Array<{ model: string; versions: Array<{ version: string; fault: unknown }> }> }).models.find((m) => m.model === model)?.versions.find((v) => v.version === v2)?.fault,
      (f) => f !== null && f !== undefined,
    );
    const outcomes: Record<string, number[]> = {};
    const failedIds: string[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await predict({ unitKey: `fault-${i}`, features: row(i) });
      const body = res.body as Prediction;
      (outcomes[body.version] ??= []).push(res.status);
      if (res.status === 500) failedIds.push(body.predictionId);
    }
    expect(new Set(outcomes[v1])).toEqual(new Set([200]));
    expect(new Set(outcomes[v2])).toEqual(new Set([500]));
    await setFault(env.db, { model, version: v2 });
    const stored = await eventually(
      () => env.db.query<{ outcome: string; predicted_label: string | null }>('SELECT outcome, predicted_label FROM predictions WHERE id = ANY($1)', [failedIds]),
      (r) => r.rowCount === failedIds.length,
    );
    expect(stored.rows.every((r) => r.outcome === 'error' && r.predicted_label === null)).toBe(true);
    expect(await metric(`flywheel_gateway_predict_request_errors_total{model="${model}",version="${v2}"}`)).toBe(failedIds.length);
  });
});
