/**
 * Poison never stalls a writer (issue 13): on real PostgreSQL, through a gateway on a real port,
 * a poisoned item in the middle of honest load is refused at the edge (400 naming the field), and
 * a row that passes the edge but fails in the database (written to the writer directly: a NUL
 * byte, a violated CHECK) is isolated into dead_letters while every honest row around it is
 * stored and the writer goes on writing. Rows are counted in the database, not only statuses.
 *
 * Its own throwaway database: the model (a softmax regression built in-process, deployed from a
 * local ONNX file) and the online model need no Temporal or MLflow.
 */
import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { testApiKey } from './helpers/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTrafficWeights } from '../../activities/traffic';
import { loadConfig, withDatabase } from '../../config/index';
import { migrate } from '../../db/migrate';
import { softmaxRegressionToOnnx } from '../../lib/onnx/softmax-regression-graph';
import { fromSoftmaxRegressionParams } from '../../lib/online/softmax-regression';
import { createGateway, type Gateway } from '../../serving/app';
import type { ScoredItem } from '../../serving/feedback';
import { sha256 } from '../../serving/onnx-source';
import { uuidv7 } from '../../serving/uuid';
import { JsonClient } from '../../traffic/http';

const config = loadConfig();
const dbName = `flywheel_poison_${randomUUID().slice(0, 8)}`;
const url = withDatabase(config.postgres.url, dbName);
const admin = new pg.Pool({ connectionString: config.postgres.adminUrl, max: 1 });
const MODEL = 'poison-iris';
const ONLINE = 'poison-online';
const params = {
  family: 'softmax-regression' as const,
  nFeatures: 4,
  classes: ['a', 'b', 'c'],
  mean: [0, 0, 0, 0],
  scale: [1, 1, 1, 1],
  weights: [0.5, -0.2, 0.1, 0.3, -0.4, 0.2, 0.6, -0.1, 0.1, 0.3, -0.5, 0.2],
  bias: [0, 0.1, -0.1],
};
const features = [5.1, 3.5, 1.4, 0.2];

let db: pg.Pool;
let gateway: Gateway;
let client: JsonClient;
let baseUrl: string;
let apiKey: string;
let workDir: string;

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function count(sql: string, args: unknown[]): Promise<number> {
  return (await db.query<{ n: number }>(sql, args)).rows[0]!.n;
}

async function deadLetters(writer: string): Promise<Array<{ payload: string; error: string; sqlstate: string | null }>> {
  return (await db.query('SELECT payload, error, sqlstate FROM dead_letters WHERE writer = $1 ORDER BY id', [writer])).rows;
}

async function metric(line: string): Promise<number> {
  const text = (await client.request('GET', '/metrics')).body as string;
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return Number(found?.split(' ')[1] ?? 0);
}

/** Raw bytes, as a client that does not encode its strings properly would send them. */
async function postRaw(route: string, body: Uint8Array | string): Promise<{ status: number; body: { error?: string } }> {
  const res = await fetch(`${baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

function scored(over: Partial<ScoredItem>): ScoredItem {
  return {
    predictionId: uuidv7(),
    kind: 'click',
    value: null,
    label: null,
    event: null,
    comment: null,
    source: 'poison-test',
    unitKey: null,
    idempotencyKey: null,
    quality: 1,
    qualityFlags: [],
    sentiment: null,
    sentimentLabel: null,
    ...over,
  };
}

beforeAll(async () => {
  await admin.query(`CREATE DATABASE ${dbName} OWNER ${new URL(config.postgres.url).username || 'flywheel'}`);
  await migrate(url);
  db = new pg.Pool({ connectionString: url, max: 2 });
  // DROP DATABASE … WITH (FORCE) at the end terminates whatever is still closing.
  db.on('error', () => undefined);
  workDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flywheel-poison-'));
  const onnx = softmaxRegressionToOnnx(params);
  const onnxPath = path.join(workDir, 'model.onnx');
  await fsp.writeFile(onnxPath, onnx);
  await db.query(`INSERT INTO deployments (model, version, onnx_uri, onnx_sha256, n_features, classes, state) VALUES ($1, '1', $2, $3, 4, $4, 'active')`, [
    MODEL,
    onnxPath,
    sha256(onnx),
    JSON.stringify(params.classes),
  ]);
  await setTrafficWeights(db, { model: MODEL, weights: { '1': 10_000 } });
  const learner = fromSoftmaxRegressionParams(params, { learningRate: 0.05 });
  await db.query('INSERT INTO online_models (name, base_model, base_version, state) VALUES ($1, $2, $3, $4)', [ONLINE, MODEL, '1', JSON.stringify(learner.toJSON())]);

  const cfg = { ...config, postgres: { ...config.postgres, url }, gateway: { ...config.gateway, threads: 1, pollMs: 200, flushMs: 50 } };
  // Prediction checks off: these tests push poisoned rows through the writers with synthetic prediction
  // ids and repeated labels. Authentication stays on, with a key in this database's key store.
  gateway = await createGateway(cfg, { port: 0, logger: false, verifyFeedback: false });
  baseUrl = await gateway.listen();
  apiKey = await testApiKey({ config: cfg, db }, 'writers-poison');
  client = new JsonClient(baseUrl, 16, { apiKey });
  await eventually(
    async () => ((await client.request('GET', '/v1/online')).body as { models: Array<{ name: string }> }).models,
    (ms) => ms.some((m) => m.name === ONLINE),
  );
});

afterAll(async () => {
  client?.close();
  await gateway?.close();
  await db?.end();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  if (workDir) await fsp.rm(workDir, { recursive: true, force: true });
});

describe('poison never stalls a writer', () => {
  it('predictions: poison refused at the edge, a row the database refuses dead-lettered, every honest prediction stored', async () => {
    const route = `/v1/models/${MODEL}/predict`;
    const ids: string[] = [];
    const honest = async (i: number) => {
      const res = await client.post(route, i % 10 === 0 ? { unitKey: `u-${i}`, instances: [features, features] } : { unitKey: `u-${i}`, features });
      expect(res.status).toBe(200);
      const b = res.body as { predictionId?: string; predictionIds?: string[] };
      ids.push(...(b.predictionIds ?? [b.predictionId!]));
    };
    const poisoned = [
      client.post(route, { unitKey: 'bad\u0000key', features }),
      client.post(route, { unitKey: 'bad\u0000key', instances: [features] }),
      client.post(route, { unitKey: 'lone \uD800', features }),
    ];
    const first = Array.from({ length: 100 }, (_, i) => honest(i));
    const answers = await Promise.all(poisoned);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [400, { error: 'unitKey: contains a NUL byte', field: 'unitKey' }],
      [400, { error: 'unitKey: contains a NUL byte', field: 'unitKey' }],
      [400, { error: 'unitKey: contains a lone UTF-16 surrogate (not valid Unicode)', field: 'unitKey' }],
    ]);
    expect(await postRaw(route, Uint8Array.from([...Buffer.from('{"unitKey":"'), 0xff, 0xfe, ...Buffer.from(`","features":[1,2,3,4]}`)]))).toEqual({
      status: 400,
      body: { error: 'body: not valid UTF-8', field: 'body' },
    });
    await Promise.all(first);

    // Past the edge (as a bug or a future field might let it): the writer isolates it.
    const before = await metric('flywheel_gateway_writer_dead_letters_total{writer="predictions"}');
    const poisonId = uuidv7();
    gateway.writers.predictions.record({ id: poisonId, model: MODEL, version: '1', unitKey: 'db\u0000poison', latencyMs: 1, outcome: 'ok', predictedLabel: 'a', createdAt: new Date() });
    await Promise.all(Array.from({ length: 100 }, (_, i) => honest(100 + i)));
    // And it keeps writing afterwards.
    await eventually(() => count('SELECT count(*)::int AS n FROM dead_letters WHERE writer = $1', ['predictions']), (n) => n >= 1);
    await Promise.all(Array.from({ length: 20 }, (_, i) => honest(200 + i)));

    const stored = await eventually(() => count('SELECT count(*)::int AS n FROM predictions WHERE id = ANY($1::uuid[])', [ids]), (n) => n === ids.length);
    expect(stored).toBe(ids.length);
    expect(ids.length).toBe(220 + 22);
    expect(await count('SELECT count(*)::int AS n FROM predictions WHERE model = $1', [MODEL])).toBe(ids.length);
    const letters = await deadLetters('predictions');
    expect(letters).toHaveLength(1);
    expect(letters[0]!.sqlstate).toBe('22021');
    expect(JSON.parse(letters[0]!.payload)).toMatchObject({ id: poisonId, unitKey: 'db\u0000poison' });
    expect(gateway.recorder.size).toBe(0);
    expect((await metric('flywheel_gateway_writer_dead_letters_total{writer="predictions"}')) - before).toBe(1);
    expect(await metric('flywheel_gateway_writer_dropped_total{writer="predictions"}')).toBe(0);
    const health = await client.request('GET', '/healthz');
    expect(health.status).toBe(200);
  });

  it('feedback: poison refused at the edge; an item the database refuses fails only its own acknowledgement', async () => {
    const run = randomUUID().slice(0, 8);
    const pid = uuidv7();
    const keys: string[] = [];
    const honestSingle = async (i: number) => {
      const key = `${run}-s${i}`;
      keys.push(key);
      const res = await client.post('/v1/feedback', { predictionId: pid, kind: 'rating', value: 1 + (i % 5), idempotencyKey: key });
      expect(res.status).toBe(201);
    };
    const honestBatch = async (i: number) => {
      // A label each for three predictions: a prediction's second label would be refused (409, the first label stands).
      const items = [0, 1, 2].map((j) => ({ predictionId: uuidv7(), kind: 'label', label: 'a', idempotencyKey: `${run}-b${i}-${j}` }));
      keys.push(...items.map((it) => it.idempotencyKey));
      const res = await client.post('/v1/feedback/batch', { items });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ stored: 3 });
    };
    const load = [...Array.from({ length: 60 }, (_, i) => honestSingle(i)), ...Array.from({ length: 20 }, (_, i) => honestBatch(i))];
    const poisoned = await Promise.all([
      client.post('/v1/feedback', { predictionId: pid, kind: 'label', label: 'cat\u0000', idempotencyKey: `${run}-p1` }),
      client.post('/v1/feedback', { predictionId: pid, kind: 'click', idempotencyKey: `${run}-p2\u0000` }),
      client.post('/v1/feedback/batch', { items: [{ predictionId: pid, kind: 'click', idempotencyKey: `${run}-p3` }, { predictionId: pid, kind: 'comment', comment: 'x \uDC00 y' }] }),
    ]);
    expect(poisoned.map((a) => [a.status, a.body])).toEqual([
      [400, { error: 'label: contains a NUL byte', field: 'label' }],
      [400, { error: 'idempotencyKey: contains a NUL byte', field: 'idempotencyKey' }],
      [400, { error: 'items[1].comment: contains a lone UTF-16 surrogate (not valid Unicode)', field: 'items[1].comment' }],
    ]);
    await Promise.all(load);
    expect(await count('SELECT count(*)::int AS n FROM feedback WHERE idempotency_key LIKE $1', [`${run}-p%`])).toBe(0);

    // Past the edge, in one group with honest requests: the committer is busy with the first
    // submit, so the next three wait in its queue and go into one INSERT together.
    const committer = gateway.writers.feedback;
    const k = (s: string) => `${run}-d${s}`;
    const busy = committer.submit([scored({ idempotencyKey: k('0') })]);
    const mixed = committer.submit([
      scored({ idempotencyKey: k('1') }),
      scored({ kind: 'label', label: 'nul\u0000label', idempotencyKey: k('bad-nul') }),
      scored({ idempotencyKey: k('2') }),
      scored({ kind: 'rating', value: 9, idempotencyKey: k('bad-check') }),
    ]);
    const honestAlone = committer.submit([scored({ idempotencyKey: k('3') }), scored({ idempotencyKey: k('4') })]);
    const [o0, o1, o2] = await Promise.all([busy, mixed, honestAlone]);
    expect(o0.map((o) => o.status)).toEqual([201]);
    expect(o1.map((o) => o.status)).toEqual([201, 422, 201, 422]);
    expect((o1[1] as { message: string }).message).toMatch(/^could not be stored: invalid byte sequence/);
    expect((o1[3] as { message: string }).message).toMatch(/^could not be stored: .*check constraint/);
    expect(o2.map((o) => o.status)).toEqual([201, 201]);
    // Stored in request order (ids follow commit order).
    const { rows } = await db.query<{ idempotency_key: string }>('SELECT idempotency_key FROM feedback WHERE idempotency_key LIKE $1 ORDER BY id', [`${run}-d%`]);
    expect(rows.map((r) => r.idempotency_key)).toEqual(['0', '1', '2', '3', '4'].map(k));

    // Every honest item sent over HTTP is stored, and the committer keeps committing.
    await honestSingle(1000);
    expect(await count('SELECT count(*)::int AS n FROM feedback WHERE idempotency_key = ANY($1::text[])', [keys])).toBe(keys.length);
    expect(keys.length).toBe(60 + 60 + 1);
    const letters = await deadLetters('feedback');
    expect(letters.map((l) => l.sqlstate)).toEqual(['22021', '23514']);
    expect(letters.map((l) => JSON.parse(l.payload).idempotencyKey)).toEqual([k('bad-nul'), k('bad-check')]);
    expect(await metric('flywheel_gateway_writer_dead_letters_total{writer="feedback"}')).toBe(2);
    expect((await client.request('GET', '/healthz')).status).toBe(200);
  });

  it('online predictions: poison refused at the edge, a row the database refuses dead-lettered, every honest row stored', async () => {
    const route = `/v1/online/${ONLINE}/predict`;
    const ids: string[] = [];
    const honest = async (i: number) => {
      const res = await client.post(route, { unitKey: `o-${i}`, features });
      expect(res.status).toBe(200);
      ids.push((res.body as { predictionId: string }).predictionId);
    };
    const load = Array.from({ length: 100 }, (_, i) => honest(i));
    const bad = await client.post(route, { unitKey: '\u0000', features });
    expect([bad.status, bad.body]).toEqual([400, { error: 'unitKey: contains a NUL byte', field: 'unitKey' }]);
    await Promise.all(load);

    const poisonId = uuidv7();
    gateway.writers.online.write({ id: poisonId, model: ONLINE, generation: 1, features: Float64Array.from(features), label: 'a\u0000', createdAt: new Date() });
    await Promise.all(Array.from({ length: 100 }, (_, i) => honest(100 + i)));
    await eventually(() => count('SELECT count(*)::int AS n FROM dead_letters WHERE writer = $1', ['online_predictions']), (n) => n >= 1);
    await Promise.all(Array.from({ length: 20 }, (_, i) => honest(200 + i)));

    const stored = await eventually(() => count('SELECT count(*)::int AS n FROM online_predictions WHERE id = ANY($1::uuid[])', [ids]), (n) => n === ids.length);
    expect(stored).toBe(220);
    expect(await count('SELECT count(*)::int AS n FROM online_predictions WHERE model = $1', [ONLINE])).toBe(220);
    // The same predictions went through the prediction recorder too: all of them there as well.
    expect(await eventually(() => count('SELECT count(*)::int AS n FROM predictions WHERE id = ANY($1::uuid[])', [ids]), (n) => n === 220)).toBe(220);
    const letters = await deadLetters('online_predictions');
    expect(letters).toHaveLength(1);
    expect(JSON.parse(letters[0]!.payload)).toMatchObject({ id: poisonId, features, label: 'a\u0000' });
    expect(gateway.writers.online.size).toBe(0);
    expect(await metric('flywheel_gateway_writer_dead_letters_total{writer="online_predictions"}')).toBe(1);
    expect((await client.request('GET', '/healthz')).body).toMatchObject({ status: 'ok' });
  });

  it('a stuck writer turns /healthz 503 with the reason, and healthy again once it writes', async () => {
    // A lock holds the prediction writer's INSERT, with a row that has waited a minute already.
    const locker = await db.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE');
      const id = uuidv7();
      gateway.writers.predictions.record({ id, model: MODEL, version: '1', unitKey: 'late', latencyMs: 1, outcome: 'ok', predictedLabel: 'a', createdAt: new Date(Date.now() - 60_000) });
      const stuck = await eventually(() => client.request('GET', '/healthz'), (r) => r.status === 503, 5_000);
      expect(stuck.status).toBe(503);
      expect(stuck.body).toMatchObject({ status: 'unhealthy', reason: expect.stringMatching(/^predictions writer stuck: oldest pending row waiting 6\d s/) });
      expect(await metric('flywheel_gateway_writer_oldest_pending_seconds{writer="predictions"}')).toBeGreaterThan(59);
      await locker.query('COMMIT');
      const healthy = await eventually(() => client.request('GET', '/healthz'), (r) => r.status === 200, 5_000);
      expect(healthy.body).toMatchObject({ status: 'ok' });
      expect(await count('SELECT count(*)::int AS n FROM predictions WHERE id = $1', [id])).toBe(1);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      locker.release();
    }
  });
});
