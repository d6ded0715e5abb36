/**
 * Traffic tables partitioned by day (migration 0014) against the same rows in plain tables (the
 * schema before it: one predictions table, one feedback table, the same indexes). A long history
 * is generated inside PostgreSQL with generate_series; then, on each layout, warm, best of 5:
 *
 *  - the canary's window query (activities/canary.ts collectRolloutWindow: one version's counts in
 *    the last hour, and its latency quantiles);
 *  - the snapshot's window join (datasets/production.ts: a week of one model's predictions with their
 *    first label within a day), counted server-side so only the database's work is timed;
 *  - an A/B test's accuracy read (activities/experiment.ts: each prediction's first label);
 *  - the drift monitor's label read (activities/drift.ts readOutcomes: labels past an id cursor);
 *  - the gateway's feedback guard (serving/feedback-guard.ts: 100 predictions by id, no time);
 *  - retention: the days older than --keep removed, DROP TABLE of whole days against DELETE of the
 *    same rows (and the VACUUM the DELETE leaves owed).
 *
 *   npx tsx bench/data/partitions.ts [--rows 10000000] [--days 64] [--labelled 0.3] [--keep 30]
 *
 * Needs the local stack's PostgreSQL. Uses a database of its own (flywheel_bench_partitions), dropped at the end.
 */
import os from 'node:os';
import pg from 'pg';
import { loadConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import { createScratchDatabase, dropDatabase } from '../../scripts/stack/postgres';
import { addDays, dailyPartition, LABEL_SKEW, utcDay } from '../../lib/data/partitions';

const DB = 'flywheel_bench_partitions';
const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = flag('rows', 10_000_000);
const DAYS = flag('days', 64);
const LABELLED = flag('labelled', 0.3);
const KEEP = flag('keep', 30);
const log = (s: string) => process.stderr.write(`${s}\n`);
const secs = (t0: number) => (performance.now() - t0) / 1000;

/** Both layouts under the same names in two schemas: `part` (0014's tables) and `flat` (the tables before it). */
const FLAT_DDL = `
CREATE SCHEMA flat;
CREATE TABLE flat.predictions (LIKE public.predictions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE flat.feedback (LIKE public.feedback INCLUDING DEFAULTS INCLUDING CONSTRAINTS);`;
const FLAT_INDEXES = `
ALTER TABLE flat.predictions ADD PRIMARY KEY (id);
CREATE INDEX ON flat.predictions (model, version, created_at);
ALTER TABLE flat.feedback ADD PRIMARY KEY (id);
CREATE INDEX ON flat.feedback (prediction_id);
CREATE INDEX ON flat.feedback (created_at) WHERE kind = 'label';`;

async function timeBest(db: pg.Pool, schema: string, sql: string, params: unknown[], runs = 5): Promise<number> {
  const client = await db.connect();
  try {
    await client.query(`SET search_path = ${schema}`);
    let best = Infinity;
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      await client.query(sql, params);
      if (i > 0) best = Math.min(best, performance.now() - t0); // the first run warms the cache
    }
    return best;
  } finally {
    client.release();
  }
}

/** How many partitions (leaf tables) the plan reads: EXPLAIN ANALYZE lists only those not pruned. */
async function partitionsRead(db: pg.Pool, sql: string, params: unknown[]): Promise<number> {
  const client = await db.connect();
  try {
    await client.query('SET search_path = public');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${sql}`, params);
    const names = new Set<string>();
    for (const r of rows) {
      const line = r['QUERY PLAN'];
      if (/never executed/.test(line)) continue;
      for (const m of line.matchAll(/ on ((?:predictions|feedback)_(?:p\d{8}|default|legacy))\b/g)) names.add(m[1]!);
    }
    return names.size;
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const url = await createScratchDatabase(config, DB);
  await migrate(url);
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const now = new Date();
  const first = utcDay(addDays(now, -(DAYS - 1)));

  // Partitioned layout: the migration's empty legacy partition goes, one partition per day of history.
  await db.query('DROP TABLE predictions_legacy, feedback_legacy');
  for (let d = first; d <= addDays(utcDay(now), 7); d = addDays(d, 1)) {
    for (const table of ['predictions', 'feedback'] as const) {
      const p = dailyPartition(table, d);
      await db.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF ${table} FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`);
    }
  }
  await db.query(FLAT_DDL);

  // Rows into the plain tables first (no indexes yet: a bulk load), then the same rows into the partitions.
  // Ten models, three versions each; labels a second to a day after their prediction.
  const t0 = performance.now();
  const span = (now.getTime() - first.getTime()) / 1000;
  await db.query(
    `INSERT INTO flat.predictions (id, model, version, latency_ms, outcome, predicted_label, created_at)
     SELECT gen_random_uuid(), 'm' || (i % 10), ((i / 10) % 3 + 1)::text, (random() * 5)::real,
            CASE WHEN i % 100 = 0 THEN 'error' ELSE 'ok' END, (ARRAY['a','b','c'])[1 + i % 3],
            to_timestamp($2::float8 + $3::float8 * i / $1)
       FROM generate_series(0, $1 - 1) AS i`,
    [N, first.getTime() / 1000, span],
  );
  await db.query(
    `INSERT INTO flat.feedback (prediction_id, kind, label, created_at)
     SELECT id, 'label', (ARRAY['a','b','c'])[1 + floor(random() * 3)::int], least(created_at + random() * interval '1 day', now())
       FROM flat.predictions WHERE random() < $1 ORDER BY 4`,
    [LABELLED],
  );
  const loaded = secs(t0);
  const t1 = performance.now();
  await db.query(FLAT_INDEXES);
  const flatIndexed = secs(t1);
  const t2 = performance.now();
  await db.query('INSERT INTO public.predictions SELECT * FROM flat.predictions');
  await db.query('INSERT INTO public.feedback SELECT * FROM flat.feedback');
  const partLoaded = secs(t2);
  for (const t of ['flat.predictions', 'flat.feedback', 'public.predictions', 'public.feedback']) await db.query(`VACUUM ANALYZE ${t}`);
  const { rows: counts } = await db.query<{ p: string; f: string }>('SELECT (SELECT count(*) FROM flat.predictions) AS p, (SELECT count(*) FROM flat.feedback) AS f');
  log(`generated ${Number(counts[0]!.p).toLocaleString('en')} predictions and ${Number(counts[0]!.f).toLocaleString('en')} labels over ${DAYS} days: plain tables ${loaded.toFixed(0)} s + indexes ${flatIndexed.toFixed(0)} s, partitioned copy ${partLoaded.toFixed(0)} s`);

  const hourAgo = new Date(now.getTime() - 3_600_000);
  const weekAgo = addDays(now, -7);
  // activities/canary.ts collectRolloutWindow, per version: counts, then quantiles.
  const canaryCounts = `select count(*) as requests, count(*) filter (where outcome = 'error') as errors, count(*) filter (where outcome = 'ok' and latency_ms > 4) as above
    from predictions where model = $1 and version = $2 and created_at >= $3 and created_at < $4`;
  const canaryQuantiles = `select percentile_disc(0.95) within group (order by latency_ms) as p95, percentile_disc(0.99) within group (order by latency_ms) as p99, count(*)
    from predictions where model = $1 and version = $2 and created_at >= $3 and created_at < $4 and outcome = 'ok'`;
  // datasets/production.ts JOIN_SQL, counted.
  const snapshot = `select count(*), count(l.label) from predictions p
    left join lateral (select f.label from feedback f where f.prediction_id = p.id and f.kind = 'label' and f.created_at >= p.created_at
                         and f.created_at <= p.created_at + interval '1 day' order by f.created_at, f.id limit 1) l on true
    where p.model = $1 and p.outcome = 'ok' and p.created_at >= $2 and p.created_at < $3`;
  // activities/drift.ts readOutcomes: the next labels past a cursor (here: the last hour's first label).
  const { rows: cur } = await db.query<{ id: string }>(`SELECT min(id)::text AS id FROM flat.feedback WHERE created_at >= $1`, [hourAgo]);
  const driftRead = `select max(id)::text as upto, count(*) as n from (select id from feedback where kind = 'label' and id > $1 and created_at < now() order by id limit 1000) b`;

  // activities/experiment.ts accuracy: each prediction's first label, looked up by prediction id (6 hours of one model).
  const abAccuracy = `select p.version, count(*) as n, count(*) filter (where f.label = p.predicted_label) as sum from predictions p
    cross join lateral (select label from feedback fb where prediction_id = p.id and kind = 'label' and fb.created_at >= p.created_at - interval '${LABEL_SKEW}' order by id limit 1) f
    where p.model = $1 and p.created_at >= $2 and p.outcome = 'ok' group by p.version`;
  // serving/feedback-guard.ts: the predictions a feedback batch names, by id alone (no time to prune by).
  const { rows: ids } = await db.query<{ id: string }>('SELECT id FROM flat.predictions WHERE created_at >= $1 LIMIT 100', [hourAgo]);
  const guard = 'SELECT id, model, version FROM predictions WHERE id = ANY($1::uuid[])';

  const cases: Array<{ name: string; sql: string; params: unknown[] }> = [
    { name: 'canary window: counts (last hour, one version)', sql: canaryCounts, params: ['m3', '2', hourAgo, now] },
    { name: 'canary window: p95/p99 (last hour, one version)', sql: canaryQuantiles, params: ['m3', '2', hourAgo, now] },
    { name: 'snapshot join (7 days, one model)', sql: snapshot, params: ['m3', weekAgo, now] },
    { name: 'A/B accuracy (6 hours, one model, first label each)', sql: abAccuracy, params: ['m3', new Date(now.getTime() - 6 * 3_600_000)] },
    { name: 'drift label read (1000 past a cursor)', sql: driftRead, params: [cur[0]!.id] },
    { name: 'feedback guard: 100 predictions by id', sql: guard, params: [ids.map((r) => r.id)] },
  ];
  const total = DAYS + 8 + 1;
  process.stdout.write(`\n| query | plain table ms | partitioned ms | plain / partitioned | partitions read (of ${total} per table) |\n|---|---|---|---|---|\n`);
  for (const c of cases) {
    const flat = await timeBest(db, 'flat', c.sql, c.params);
    const part = await timeBest(db, 'public', c.sql, c.params);
    const read = await partitionsRead(db, c.sql, c.params);
    process.stdout.write(`| ${c.name} | ${flat.toFixed(2)} | ${part.toFixed(2)} | ${(flat / part).toFixed(2)}× | ${read} |\n`);
  }

  // Retention, steady state: the one day that just passed the retention goes (what the daily upkeep does).
  const size = async (t: string) => Number((await db.query<{ b: string }>(`SELECT pg_total_relation_size($1) AS b`, [t])).rows[0]!.b);
  const dayOut = addDays(utcDay(now), -KEEP - 1);
  const oneDay = [dailyPartition('predictions', dayOut), dailyPartition('feedback', dayOut)];
  const t3 = performance.now();
  await db.query('BEGIN');
  await db.query('DELETE FROM flat.predictions WHERE created_at >= $1 AND created_at < $2', [oneDay[0]!.from, oneDay[0]!.to]);
  await db.query('DELETE FROM flat.feedback WHERE created_at >= $1 AND created_at < $2', [oneDay[0]!.from, oneDay[0]!.to]);
  await db.query('COMMIT');
  const deleteDayS = secs(t3);
  const t4 = performance.now();
  await db.query('BEGIN');
  for (const p of oneDay) await db.query(`DROP TABLE ${p.name}`);
  await db.query('COMMIT');
  const dropDayS = secs(t4);
  process.stdout.write(`\nretention, one day (${dayOut.toISOString().slice(0, 10)}, predictions + labels): DELETE ${(deleteDayS * 1000).toFixed(0)} ms against DROP of its 2 partitions ${(dropDayS * 1000).toFixed(0)} ms: ${(deleteDayS / dropDayS).toFixed(1)}×\n`);

  // Retention, catching up: every day before (today − KEEP days) goes at once; each side in one transaction.
  const cutoff = addDays(utcDay(now), -KEEP);
  const { rows: old } = await db.query<{ n: string }>('SELECT count(*) AS n FROM flat.predictions WHERE created_at < $1', [cutoff]);
  const flatBefore = (await size('flat.predictions')) + (await size('flat.feedback'));
  const t5 = performance.now();
  await db.query('BEGIN');
  await db.query('DELETE FROM flat.predictions WHERE created_at < $1', [cutoff]);
  await db.query('DELETE FROM flat.feedback WHERE created_at < $1', [cutoff]);
  await db.query('COMMIT');
  const deleteS = secs(t5);
  const t6 = performance.now();
  await db.query('VACUUM flat.predictions');
  await db.query('VACUUM flat.feedback');
  const vacuumS = secs(t6);
  const flatAfter = (await size('flat.predictions')) + (await size('flat.feedback'));
  const { rows: parts } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent IN ('predictions'::regclass, 'feedback'::regclass)`,
  );
  // Daily partitions whose day is before the cutoff's (names end in YYYYMMDD).
  const cutoffDay = dailyPartition('predictions', cutoff).name.slice(-8);
  const doomed = parts.map((p) => p.name).filter((n) => /_p\d{8}$/.test(n) && n.slice(-8) < cutoffDay);
  const partSize = async () => {
    let b = 0;
    for (const p of parts) b += await size(p.name).catch(() => 0);
    return b;
  };
  const partBefore = await partSize();
  const t7 = performance.now();
  await db.query('BEGIN');
  for (const name of doomed) await db.query(`DROP TABLE ${name}`);
  await db.query('COMMIT');
  const dropS = secs(t7);
  const partAfter = (await db.query<{ b: string }>(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS b FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent IN ('predictions'::regclass, 'feedback'::regclass)`,
  )).rows[0]!.b;
  const { rows: left } = await db.query<{ flat: string; part: string }>('SELECT (SELECT count(*) FROM flat.predictions) AS flat, (SELECT count(*) FROM public.predictions) AS part');
  if (left[0]!.flat !== left[0]!.part) throw new Error(`retention kept ${left[0]!.flat} plain rows but ${left[0]!.part} partitioned ones`);
  const mb = (b: number | string) => `${(Number(b) / 2 ** 20).toFixed(0)} MB`;
  process.stdout.write(`retention, catching up (days before ${cutoff.toISOString().slice(0, 10)}: ${Number(old[0]!.n).toLocaleString('en')} predictions + their labels): DELETE ${deleteS.toFixed(1)} s (+ VACUUM ${vacuumS.toFixed(1)} s) against DROP of ${doomed.length} partitions ${dropS.toFixed(2)} s: ${(deleteS / dropS).toFixed(1)}× (${((deleteS + vacuumS) / dropS).toFixed(1)}× with the VACUUM); on disk ${mb(flatBefore)} → ${mb(flatAfter)} plain, ${mb(partBefore)} → ${mb(partAfter)} partitioned; ${Number(left[0]!.part).toLocaleString('en')} predictions left in both\n`);
  process.stdout.write(`peak RSS of this process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (the work is PostgreSQL's); load average ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} CPUs\n`);
  await db.end();
  await dropDatabase(config, DB);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/data/partitions: ${err.message}`);
    process.exit(1);
  },
);
