/**
 * Sustained ingestion with a long history present (issue 18, item 5): predictions and their labels
 * through a real gateway at a fixed rate for minutes on end, into the daily-partitioned traffic
 * tables, after `--history` predictions (half of them labelled) were already stored over `--days`
 * days. What must stay flat, minute by minute, for the tables to hold a year: the latency of a
 * prediction and of a label's acknowledgement (answered once its row is committed), the prediction
 * writer's backlog, and the gateway's memory. The reference is the run's own first minute: a
 * history-bound cost would show as a trend across the minutes, not as a level.
 *
 *   npx tsx bench/data/sustained-ingestion.ts [--history 10000000] [--days 30] [--rate 2000]
 *                                             [--labelled 0.5] [--minutes 10]
 *
 * Needs the local stack (PostgreSQL and MLflow: the gateway loads the bench model from MLflow). A
 * database of its own (flywheel_bench_ingest), recreated each run. Open loops, latency counted from
 * each request's scheduled time.
 */
import { readFile } from 'node:fs/promises';
import { createApiKey } from '../../clients/api-keys';
import { addDays, dailyPartition, utcDay } from '../../lib/data/partitions';
import { JsonClient } from '../../traffic/http';
import { openLoop, type LoadResult } from '../../traffic/load';
import { positiveFlag as flag } from '../flags';
import { freePort, peakRssMb, stopServer, waitHttp } from '../serving/processes';
import { irisRows, log, PREDICT_PATH, prepareStack, startGateway } from '../serving/stack';

const HISTORY = flag('history', 10_000_000);
const DAYS = flag('days', 30);
const RATE = flag('rate', 2000);
const labelledAt = process.argv.indexOf('--labelled');
const LABELLED = labelledAt > 0 ? Number(process.argv[labelledAt + 1]) : 0.5;
if (!(LABELLED > 0 && LABELLED <= 1)) throw new Error('--labelled: expected a share in (0, 1]');
const MINUTES = flag('minutes', 10);
const CHUNK = 1_000_000;

async function currentRssMb(pid: number): Promise<number> {
  return Number((await readFile(`/proc/${pid}/status`, 'utf8')).match(/VmRSS:\s+(\d+)/)![1]) / 1024;
}

/** Metric families on /metrics by name: counters summed over their labels, `_seconds` gauges their maximum. */
function scrape(text: string, names: string[]): Record<string, number> {
  const out: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || !(m[1]! in out)) continue;
    const v = Number(m[2]);
    out[m[1]!] = m[1]!.endsWith('_seconds') ? Math.max(out[m[1]!]!, v) : out[m[1]!]! + v;
  }
  return out;
}

async function loadHistory(stack: Awaited<ReturnType<typeof prepareStack>>): Promise<number> {
  const { db } = stack;
  const now = new Date();
  const first = utcDay(addDays(now, -DAYS));
  // One partition per day of history (the migrations create today and the days ahead). The
  // migration's legacy partition (the table from before 0014, empty in this new database) covers
  // all time before the migration ran, so it goes first, as in bench/data/partitions.ts.
  await db.query('DROP TABLE IF EXISTS predictions_legacy, feedback_legacy');
  for (let d = first; d <= addDays(utcDay(now), 7); d = addDays(d, 1)) {
    for (const table of ['predictions', 'feedback'] as const) {
      const p = dailyPartition(table, d);
      await db.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF ${table} FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`);
    }
  }
  const t0 = performance.now();
  const span = (utcDay(now).getTime() - first.getTime()) / 1000;
  // Another model's traffic, iris-shaped with features logged, spread evenly over the days before
  // today; a label a second to an hour after half of them. Generated inside PostgreSQL, in chunks,
  // with UUIDv7 ids made from each row's time, as the gateway makes them (lib/data/id-time.ts).
  for (let from = 0; from < HISTORY; from += CHUNK) {
    const n = Math.min(CHUNK, HISTORY - from);
    await db.query(
      `WITH p AS (
         INSERT INTO predictions (id, model, version, latency_ms, outcome, predicted_label, features, created_at)
         SELECT (lpad(to_hex((extract(epoch FROM t.at) * 1000)::bigint), 12, '0') || '7' || substr(t.r, 1, 3) || '8' || substr(t.r, 4, 15))::uuid,
                'history', '1', (random() * 5)::real, 'ok', (ARRAY['a','b','c'])[1 + i % 3],
                ARRAY[random() * 8, random() * 4, random() * 7, random() * 3]::real[], t.at
           FROM generate_series($1::bigint, $1::bigint + $5 - 1) AS i,
                LATERAL (SELECT to_timestamp($2::float8 + $3::float8 * i / $4) AS at, md5(random()::text) AS r) t
         RETURNING id, created_at)
       INSERT INTO feedback (prediction_id, kind, label, created_at)
       SELECT id, 'label', (ARRAY['a','b','c'])[1 + floor(random() * 3)::int], created_at + random() * interval '1 hour'
         FROM p WHERE random() < $6`,
      [from, first.getTime() / 1000, span, HISTORY, n, LABELLED],
    );
    log(`history: ${(from + n).toLocaleString('en-US')} of ${HISTORY.toLocaleString('en-US')} predictions (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  await db.query('VACUUM ANALYZE predictions, feedback');
  return (performance.now() - t0) / 1000;
}

interface Minute {
  minute: number;
  predictions: LoadResult;
  labels: LoadResult;
  rowsWritten: number;
  rowsDropped: number;
  oldestPendingS: number;
  rssMb: number;
}

async function main(): Promise<void> {
  const stack = await prepareStack('flywheel_bench_ingest', 1);
  const { key: feedbackKey } = await createApiKey(stack.db, { name: 'bench-ingest-feedback', scopes: ['feedback'] });
  log(`history: ${HISTORY.toLocaleString('en-US')} predictions over ${DAYS} days, ${LABELLED * 100} % labelled`);
  const historySeconds = await loadHistory(stack);
  const count = async (table: string) => Number((await stack.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  const before = { predictions: await count('predictions'), feedback: await count('feedback') };

  const port = await freePort();
  const gateway = startGateway(stack, port, 2);
  const minutes: Minute[] = [];
  try {
    await waitHttp(gateway, `http://127.0.0.1:${port}/healthz`, 60_000);
    const predictor = new JsonClient(`http://127.0.0.1:${port}`, 256, { apiKey: stack.apiKey });
    const labeller = new JsonClient(`http://127.0.0.1:${port}`, 256, { apiKey: feedbackKey });
    const metrics = new JsonClient(`http://127.0.0.1:${port}`, 1, { apiKey: stack.apiKey });
    const rows = await irisRows();
    // Labels go to predictions served a moment earlier, as a client's feedback does.
    const served: { id: string; label: string }[] = [];
    const predict = async (i: number) => {
      const r = await predictor.post(PREDICT_PATH, { unitKey: `u-${i % 5000}`, features: rows[i % rows.length] });
      if (r.status !== 200) return false;
      if (Math.random() < LABELLED) served.push({ id: (r.body as { predictionId: string }).predictionId, label: (r.body as { label: string }).label });
      return true;
    };
    const label = async (i: number) => {
      const p = served.shift();
      if (!p) return false;
      return (await labeller.post('/v1/feedback', { predictionId: p.id, kind: 'label', label: p.label, idempotencyKey: `ingest-${i}-${p.id}` })).status === 201;
    };
    log('warm-up: 10 s of predictions');
    await openLoop({ rate: RATE, durationMs: 10_000, send: predict, maxInFlight: 512 });
    const scrapeNow = async () => scrape((await metrics.request('GET', '/metrics')).body as string, ['flywheel_gateway_prediction_rows_written_total', 'flywheel_gateway_prediction_rows_dropped_total']);
    let last = await scrapeNow();
    for (let m = 1; m <= MINUTES; m++) {
      let oldest = 0;
      const watch = setInterval(() => {
        void metrics
          .request('GET', '/metrics')
          .then((r) => (oldest = Math.max(oldest, scrape(r.body as string, ['flywheel_gateway_writer_oldest_pending_seconds']).flywheel_gateway_writer_oldest_pending_seconds!)))
          .catch(() => undefined);
      }, 5_000);
      const [predictions, labels] = await Promise.all([
        openLoop({ rate: RATE, durationMs: 60_000, send: predict, maxInFlight: 512, fromSchedule: true }),
        openLoop({ rate: RATE * LABELLED, durationMs: 60_000, send: label, maxInFlight: 512, fromSchedule: true }),
      ]);
      clearInterval(watch);
      const now = await scrapeNow();
      const minute: Minute = {
        minute: m,
        predictions,
        labels,
        rowsWritten: now.flywheel_gateway_prediction_rows_written_total! - last.flywheel_gateway_prediction_rows_written_total!,
        rowsDropped: now.flywheel_gateway_prediction_rows_dropped_total! - last.flywheel_gateway_prediction_rows_dropped_total!,
        oldestPendingS: oldest,
        rssMb: await currentRssMb(gateway.child.pid!),
      };
      last = now;
      minutes.push(minute);
      log(`minute ${m}: predictions ${predictions.ok}/${predictions.sent} p99 ${predictions.latency.p99Ms.toFixed(1)} ms; labels ${labels.ok}/${labels.sent} p99 ${labels.latency.p99Ms.toFixed(1)} ms; RSS ${minute.rssMb.toFixed(0)} MB`);
    }
    const peak = await peakRssMb(gateway.child.pid!);
    const after = { predictions: await count('predictions'), feedback: await count('feedback') };
    predictor.close();
    labeller.close();
    metrics.close();
    report(historySeconds, before, after, minutes, peak);
  } finally {
    await stopServer(gateway);
    await stack.db.end();
  }
  process.exit(0);
}

function report(historySeconds: number, before: { predictions: number; feedback: number }, after: { predictions: number; feedback: number }, minutes: Minute[], peakMb: number): void {
  const f = (x: number) => x.toFixed(1);
  console.log(
    `\n${before.predictions.toLocaleString('en-US')} predictions and ${before.feedback.toLocaleString('en-US')} labels present (${DAYS} days, loaded in ${historySeconds.toFixed(0)} s); then ${RATE}/s predictions and ${RATE * LABELLED}/s labels for ${MINUTES} min, open loop from the schedule`,
  );
  console.log('| minute | predictions ok / sent | prediction p50 / p99 ms | labels ok / sent | label ack p50 / p99 ms | prediction rows written | dropped | writer backlog max (s) | gateway RSS MB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const m of minutes) {
    console.log(
      `| ${m.minute} | ${m.predictions.ok} / ${m.predictions.sent} | ${f(m.predictions.latency.p50Ms)} / ${f(m.predictions.latency.p99Ms)} | ${m.labels.ok} / ${m.labels.sent} | ${f(m.labels.latency.p50Ms)} / ${f(m.labels.latency.p99Ms)} | ${m.rowsWritten} | ${m.rowsDropped} | ${m.oldestPendingS.toFixed(2)} | ${m.rssMb.toFixed(0)} |`,
    );
  }
  const firstM = minutes[0]!;
  const lastM = minutes.at(-1)!;
  console.log(
    `\nlast minute / first: prediction p99 ×${(lastM.predictions.latency.p99Ms / firstM.predictions.latency.p99Ms).toFixed(2)}, label ack p99 ×${(lastM.labels.latency.p99Ms / firstM.labels.latency.p99Ms).toFixed(2)}, RSS ×${(lastM.rssMb / firstM.rssMb).toFixed(2)}; gateway peak RSS ${peakMb.toFixed(0)} MB; rows added: ${(after.predictions - before.predictions).toLocaleString('en-US')} predictions, ${(after.feedback - before.feedback).toLocaleString('en-US')} labels`,
  );
}

await main();
