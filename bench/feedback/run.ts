/**
 * Feedback benchmark: the gateway's feedback ingestion against raw batched INSERTs into the same
 * PostgreSQL, in the same run, and the online learner's latency from a label to a changed
 * prediction.
 *
 *   npx tsx bench/feedback/run.ts [--duration 8] [--connections 16] [--batch 100] [--rate 2000]
 *                                 [--trials 300] [--json]
 *
 * Throughput (closed loops, --connections clients, --batch items per request/statement):
 *   raw      one INSERT … SELECT unnest(…) of --batch rows per statement, straight from the client
 *   gateway  POST /v1/feedback/batch with --batch items (validated, scored, group-committed)
 *   gateway  POST /v1/feedback, one item per request, 4 × --connections clients (group commit)
 * Acknowledgement latency (open loops at --rate items/s, one item each):
 *   raw      a single-row autocommit INSERT per item over --connections connections
 *   gateway  POST /v1/feedback (answered once its row is committed)
 * Learning latency: a prediction of an online model, its label posted, and predictions repeated
 * until the probabilities move; idle and under the --rate open loop of other feedback.
 *
 * Every item carries an idempotency key in both arms, so both maintain the same unique index. The
 * gateway runs as its own process on a database of its own (flywheel_bench_feedback).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { createScratchDatabase } from '../../scripts/stack/postgres';
import { loadConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import { createApiKey } from '../../clients/api-keys';
import { fromSoftmaxRegressionParams } from '../../lib/online/softmax-regression';
import { uuidv7 } from '../../serving/uuid';
import { JsonClient } from '../../traffic/http';
import { closedLoop, openLoop, type LoadResult } from '../../traffic/load';
import { freePort, peakRssMb, startServer, stopServer, waitHttp, type Server } from '../serving/processes';
import { positiveFlag as flag } from '../flags';

const BENCH_DB = 'flywheel_bench_feedback';
const ONLINE = 'bench-online';

const opts = {
  durationS: flag('duration', 8),
  connections: flag('connections', 16),
  batch: flag('batch', 100),
  rate: flag('rate', 2000),
  trials: flag('trials', 300),
  json: process.argv.includes('--json'),
};
const log = (line: string) => process.stderr.write(`${line}\n`);
const run = uuidv7().slice(-12);
let seq = 0;
const key = () => `${run}-${seq++}`;

const RAW_INSERT = `INSERT INTO feedback (prediction_id, kind, value, idempotency_key)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::text[])`;

function rawBatch(n: number): unknown[][] {
  const cols: unknown[][] = [[], [], [], []];
  for (let i = 0; i < n; i++) {
    cols[0]!.push(uuidv7());
    cols[1]!.push('rating');
    cols[2]!.push(1 + (i % 5));
    cols[3]!.push(key());
  }
  return cols;
}

// The gateway refuses feedback for predictions never made (serving/feedback-guard.ts): the items
// are about predictions stored up front, taken in turn.
const PREDICTIONS = 100_000;
const predictionIds: string[] = [];
let nextPrediction = 0;

function items(n: number) {
  return Array.from({ length: n }, (_, i) => ({ predictionId: predictionIds[nextPrediction++ % PREDICTIONS]!, kind: 'rating', value: 1 + (i % 5), idempotencyKey: key() }));
}

interface LearningResult {
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Predictions asked before the change showed (1 = the first one after the acknowledgement). */
  maxPolls: number;
}

async function learning(client: JsonClient, trials: number): Promise<LearningResult> {
  const samples: number[] = [];
  let maxPolls = 0;
  for (let t = 0; t < trials; t++) {
    const features = Array.from({ length: 4 }, () => Math.random() * 4 - 2);
    const p = (await client.post(`/v1/online/${ONLINE}/predict`, { features })).body as { predictionId: string; label: string; probabilities: Record<string, number> };
    const label = ['a', 'b', 'c'].find((c) => c !== p.label)!;
    const t0 = performance.now();
    const fb = await client.post('/v1/feedback', { predictionId: p.predictionId, kind: 'label', label });
    if (fb.status !== 201) throw new Error(`label feedback answered ${fb.status}`);
    for (let polls = 1; ; polls++) {
      const q = (await client.post(`/v1/online/${ONLINE}/predict`, { features })).body as { probabilities: Record<string, number> };
      if (q.probabilities[label] !== p.probabilities[label]) {
        samples.push(performance.now() - t0);
        maxPolls = Math.max(maxPolls, polls);
        break;
      }
      if (performance.now() - t0 > 5_000) throw new Error('the prediction never changed');
    }
  }
  samples.sort((a, b) => a - b);
  const q = (x: number) => Math.round(samples[Math.min(samples.length - 1, Math.ceil(x * samples.length) - 1)]! * 1000) / 1000;
  return { p50Ms: q(0.5), p95Ms: q(0.95), maxMs: q(1), maxPolls };
}

/** Sends at a fixed rate until stopped; what it measures is not reported, only that it loads. */
function background(rate: number, send: () => Promise<boolean>): () => Promise<{ sent: number; ok: number }> {
  let sent = 0;
  let ok = 0;
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * rate) / 1000);
    while (sent < due && inFlight.size < 256) {
      sent++;
      const p: Promise<void> = send().then(
        (good) => void (good && ok++),
        () => undefined,
      ).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 5);
  return async () => {
    clearInterval(timer);
    await Promise.all(inFlight);
    return { sent, ok };
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const workDir = path.join(config.dataDir, 'bench-feedback');
  await fsp.mkdir(workDir, { recursive: true });
  log(`database ${BENCH_DB}: recreating`);
  // Made with the admin login, owned by Flywheel's role (scripts/stack/postgres-roles.ts).
  const benchUrl = await createScratchDatabase(config, BENCH_DB);
  await migrate(benchUrl);
  const db = new pg.Pool({ connectionString: benchUrl, max: opts.connections });
  for (let i = 0; i < PREDICTIONS; i++) predictionIds.push(uuidv7());
  await db.query(`INSERT INTO predictions (id, model, version, latency_ms, outcome) SELECT id, 'bench', '1', 1, 'ok' FROM unnest($1::uuid[]) AS t(id)`, [predictionIds]);
  // The gateway asks who is calling: a key with the scopes the benchmark uses.
  const { key: apiKey } = await createApiKey(db, { name: 'bench-feedback', scopes: ['predict', 'feedback', 'metrics'] });

  // An online model the gateway loads without MLflow: a random 4-feature, 3-class warm start.
  const learner = fromSoftmaxRegressionParams(
    {
      family: 'softmax-regression',
      nFeatures: 4,
      classes: ['a', 'b', 'c'],
      mean: [0, 0, 0, 0],
      scale: [1, 1, 1, 1],
      weights: Array.from({ length: 12 }, () => Math.random() - 0.5),
      bias: [0, 0, 0],
    },
    { learningRate: 0.05 },
  );
  await db.query('INSERT INTO online_models (name, base_model, base_version, state) VALUES ($1, $2, $3, $4)', [ONLINE, 'bench', '1', JSON.stringify(learner.toJSON())]);

  const port = await freePort();
  const servers: Server[] = [];
  try {
    const gateway = startServer(
      'gateway',
      process.execPath,
      ['--import', 'tsx', 'serving/main.ts'],
      { ...process.env, DATABASE_URL: benchUrl, FLYWHEEL_GATEWAY_PORT: String(port), FLYWHEEL_GATEWAY_THREADS: '1', FLYWHEEL_GATEWAY_POLL_MS: '500', FLYWHEEL_LOG_LEVEL: 'warn' },
      path.join(workDir, 'gateway.log'),
    );
    servers.push(gateway);
    await waitHttp(gateway, `http://127.0.0.1:${port}/healthz`, 60_000);
    const client = new JsonClient(`http://127.0.0.1:${port}`, opts.connections * 4, { apiKey });
    const ms = opts.durationS * 1000;

    const rawSend = async () => (await db.query(RAW_INSERT, rawBatch(opts.batch)), true);
    const batchSend = async () => (await client.post('/v1/feedback/batch', { items: items(opts.batch) })).status === 200;
    const singleSend = async () => {
      const [it] = items(1);
      const s = (await client.post('/v1/feedback', it)).status;
      return s === 201;
    };
    const rawSingle = async () => (await db.query(RAW_INSERT, rawBatch(1)), true);

    log('warm-up');
    await closedLoop({ connections: opts.connections, durationMs: 2_000, send: batchSend });
    await closedLoop({ connections: opts.connections, durationMs: 1_000, send: rawSend });

    log(`raw batched INSERTs: ${opts.connections} connections × ${opts.batch} rows, ${opts.durationS} s`);
    const rawThroughput = await closedLoop({ connections: opts.connections, durationMs: ms, send: rawSend });
    log(`gateway POST /v1/feedback/batch: ${opts.connections} clients × ${opts.batch} items, ${opts.durationS} s`);
    const gatewayBatch = await closedLoop({ connections: opts.connections, durationMs: ms, send: batchSend });
    log(`gateway POST /v1/feedback: ${opts.connections * 4} clients × 1 item, ${opts.durationS} s`);
    const gatewaySingle = await closedLoop({ connections: opts.connections * 4, durationMs: ms, send: singleSend });

    log(`raw single-row INSERTs at ${opts.rate}/s, ${opts.durationS} s`);
    const rawOpen = await openLoop({ rate: opts.rate, durationMs: ms, send: rawSingle, maxInFlight: 256 });
    log(`gateway POST /v1/feedback at ${opts.rate}/s, ${opts.durationS} s`);
    const gatewayOpen = await openLoop({ rate: opts.rate, durationMs: ms, send: singleSend, maxInFlight: 256 });

    log(`learning latency: ${opts.trials} labels, idle`);
    const learnIdle = await learning(client, opts.trials);
    log(`learning latency: ${opts.trials} labels, under ${opts.rate}/s of other feedback`);
    const stopBackground = background(opts.rate, singleSend);
    const learnLoaded = await learning(client, opts.trials);
    const backgroundSent = await stopBackground();

    const rss = await peakRssMb(gateway.child.pid!);
    const stored = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM feedback')).rows[0]!.n);
    const result = { opts, rawThroughput, gatewayBatch, gatewaySingle, rawOpen, gatewayOpen, learnIdle, learnLoaded, backgroundSent, gatewayPeakRssMb: rss, rowsStored: stored };
    client.close();
    await stopServer(gateway);
    servers.length = 0;
    report(result);
  } finally {
    for (const s of servers) await stopServer(s);
    await db.end();
  }
  process.exit(0);
}

function itemsPerSecond(r: LoadResult, perRequest: number): number {
  return Math.round((r.ok * perRequest) / r.elapsedS);
}

function report(r: {
  opts: typeof opts;
  rawThroughput: LoadResult;
  gatewayBatch: LoadResult;
  gatewaySingle: LoadResult;
  rawOpen: LoadResult;
  gatewayOpen: LoadResult;
  learnIdle: LearningResult;
  learnLoaded: LearningResult;
  backgroundSent: { sent: number; ok: number };
  gatewayPeakRssMb: number;
  rowsStored: number;
}): void {
  if (r.opts.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const raw = itemsPerSecond(r.rawThroughput, r.opts.batch);
  const batch = itemsPerSecond(r.gatewayBatch, r.opts.batch);
  const single = itemsPerSecond(r.gatewaySingle, 1);
  const f = (x: number) => x.toFixed(2);
  const lines = [
    `throughput (items/s, closed loops, ${r.opts.durationS} s each)`,
    `  raw batched INSERT (${r.opts.connections} conns × ${r.opts.batch} rows)      ${raw}`,
    `  gateway /v1/feedback/batch (${r.opts.connections} × ${r.opts.batch} items)   ${batch}   ratio ${(batch / raw).toFixed(2)}   p99 per request ${f(r.gatewayBatch.latency.p99Ms)} ms`,
    `  gateway /v1/feedback (${r.opts.connections * 4} clients × 1 item)       ${single}   ratio ${(single / raw).toFixed(2)}`,
    `acknowledgement latency at ${r.opts.rate}/s (open loops)          p50      p99      max     ok/sent`,
    `  raw single-row INSERT (autocommit)           ${f(r.rawOpen.latency.p50Ms)}   ${f(r.rawOpen.latency.p99Ms)}   ${f(r.rawOpen.latency.maxMs)}   ${r.rawOpen.ok}/${r.rawOpen.sent}`,
    `  gateway POST /v1/feedback                    ${f(r.gatewayOpen.latency.p50Ms)}   ${f(r.gatewayOpen.latency.p99Ms)}   ${f(r.gatewayOpen.latency.maxMs)}   ${r.gatewayOpen.ok}/${r.gatewayOpen.sent}`,
    `learning latency: label posted → changed prediction (ms)   p50      p95      max    polls`,
    `  idle                                          ${f(r.learnIdle.p50Ms)}   ${f(r.learnIdle.p95Ms)}   ${f(r.learnIdle.maxMs)}   ${r.learnIdle.maxPolls}`,
    `  under ${r.opts.rate}/s other feedback                  ${f(r.learnLoaded.p50Ms)}   ${f(r.learnLoaded.p95Ms)}   ${f(r.learnLoaded.maxMs)}   ${r.learnLoaded.maxPolls}   (background ${r.backgroundSent.ok}/${r.backgroundSent.sent} acknowledged)`,
    `gateway peak RSS ${r.gatewayPeakRssMb} MB; rows stored ${r.rowsStored}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
