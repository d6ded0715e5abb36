/**
 * Look latency as history grows: every per-look read of the canary judge, the A/B test and the
 * drift monitor, timed against a scratch database holding N feedback rows of history (predictions
 * for four models at a fixed rate, so 10 million feedback rows are 30 days; feedback for 80% of
 * them) plus a fresh window of canary traffic
 * (a stable and a candidate version over the last 10 minutes).
 *
 * The looks are the real activity functions (createCanaryActivities, createExperimentActivities,
 * createDriftActivities) pointed at the scratch database; their SQL is captured from the pool as they
 * run it and EXPLAIN (ANALYZE, BUFFERS)-ed with the same parameters. Baselines are SQL copied from
 * earlier code (named below). Median and p95 over --reps calls after one warm-up call (5 calls for a
 * query whose warm-up takes over 2 s). The scratch database is dropped at the end, also on failure.
 *
 *   npx tsx bench/control-plane/look-latency.ts [--rows 10000000] [--reps 20] [--out .flywheel/bench/look-latency]
 *   (--rows takes a comma list, e.g. 1000000,10000000: one scratch database per size, in turn)
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createCanaryActivities } from '../../activities/canary';
import { createDriftActivities } from '../../activities/drift';
import { createExperimentActivities } from '../../activities/experiment';
import { closePools, getPool } from '../../clients/db';
import { loadConfig, withDatabase } from '../../config/index';
import { migrate } from '../../db/migrate';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    reps: { type: 'string', default: '20' },
    out: { type: 'string', default: '.flywheel/bench/look-latency' },
    db: { type: 'string', default: 'flywheel_looks_bench' },
  },
});
const sizes = values.rows!.split(',').map(Number);
const REPS = Number(values.reps);
const OUT = path.resolve(values.out!);
const base = loadConfig();
// The admin login makes and drops the scratch database; the benchmark itself runs as Flywheel's role.
const adminUrl = base.postgres.adminUrl;
fs.mkdirSync(OUT, { recursive: true });

const MODEL = 'bench-canary';
const STABLE = '4';
const CANDIDATE = '5';
const DAY_S = 86_400;
/**
 * History grows at a fixed rate (10 million feedback rows per 30 days, about 3.9/s): a larger
 * --rows is a longer history, so every size holds the same traffic in the look's window.
 */
const historySeconds = (feedbackRows: number) => Math.round((30 * DAY_S * feedbackRows) / 10_000_000);
const CURRENT_S = 600; // the canary rollout started 10 minutes ago
const CURRENT_PREDICTIONS = 30_000; // 50 requests/s for 10 minutes, 20% to the candidate

/** Baselines: SQL of earlier code, copied. */
const BASELINES: Record<string, { sql: string; args: (t: number) => unknown[]; note: string; sameAs?: string }> = {
  'baseline: canary label query, unbounded (before 0008)': {
    note: 'collectRolloutMetrics label query with the feedback subquery not bounded by created_at',
    sql: `select p.version, count(*) as labelled, count(*) filter (where f.label = p.predicted_label) as correct
         from (select distinct on (prediction_id) prediction_id, label from feedback where kind = 'label' order by prediction_id, id desc) f
         join predictions p on p.id = f.prediction_id
         where p.model = $1 and p.version = any($2) and p.created_at >= $3 and p.outcome = 'ok'
         group by p.version`,
    args: (t) => [MODEL, [STABLE, CANDIDATE], new Date(t - 300_000)],
  },
  'baseline: A/B accuracy primary, as on main (5b87286)': {
    note: 'activities/experiment.ts primarySql accuracy at 5b87286',
    sameAs: 'A/B collectExperimentMetrics, accuracy',
    sql: `select p.version, count(*) as n, count(*) filter (where f.label = p.predicted_label) as sum, count(*) filter (where f.label = p.predicted_label) as sum_squares,
                      extract(epoch from now() - min(p.created_at)) as span_seconds
               from (select distinct on (prediction_id) prediction_id, label from feedback where kind = 'label' order by prediction_id, id desc) f
               join predictions p on p.id = f.prediction_id
               where p.model = $1 and p.version = any($2) and p.created_at >= $3 and p.outcome = 'ok' group by p.version`,
    args: (t) => [MODEL, [STABLE, CANDIDATE], new Date(t - CURRENT_S * 1000)],
  },
  'baseline: A/B click-rate primary, as on main (5b87286)': {
    note: 'activities/experiment.ts primarySql click-rate at 5b87286',
    sameAs: 'A/B collectExperimentMetrics, click-rate',
    sql: `select p.version, count(*) as n, count(c.prediction_id) as sum, count(c.prediction_id) as sum_squares,
                          extract(epoch from now() - min(p.created_at)) as span_seconds
                   from predictions p left join (select distinct prediction_id from feedback where kind = 'click') c on c.prediction_id = p.id
                   where p.model = $1 and p.version = any($2) and p.created_at >= $3 and p.outcome = 'ok' group by p.version`,
    args: (t) => [MODEL, [STABLE, CANDIDATE], new Date(t - CURRENT_S * 1000)],
  },
};

interface Timing { name: string; reps: number; medianMs: number; p95Ms: number; result?: string }

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

async function time(name: string, fn: () => Promise<unknown>): Promise<Timing> {
  let t0 = performance.now();
  const first = await fn();
  const warm = performance.now() - t0;
  const reps = warm > 2000 ? Math.min(5, REPS) : REPS;
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  const t = { name, reps, medianMs: quantile(ms, 0.5), p95Ms: quantile(ms, 0.95), result: JSON.stringify(first).slice(0, 300) };
  console.log(`  ${name}: median ${t.medianMs.toFixed(1)} ms, p95 ${t.p95Ms.toFixed(1)} ms (${reps} calls)`);
  return t;
}

/** The statements an activity call sends, as sent (text and parameters). */
async function capture(pool: pg.Pool, fn: () => Promise<unknown>): Promise<Array<{ text: string; values: unknown[] }>> {
  const seen: Array<{ text: string; values: unknown[] }> = [];
  const orig = pool.query;
  (pool as unknown as { query: unknown }).query = function (this: pg.Pool, text: string, v: unknown[]) {
    seen.push({ text, values: v });
    return (orig as (t: string, v: unknown[]) => Promise<unknown>).call(this, text, v);
  };
  try {
    await fn();
  } finally {
    delete (pool as unknown as { query?: unknown }).query;
  }
  return seen;
}

async function explain(pool: pg.Pool, text: string, v: unknown[]): Promise<string> {
  const r = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${text}`, v);
  return r.rows.map((x) => x['QUERY PLAN']).join('\n');
}

/** Drops predictions' and feedback's indexes and constraints (bulk load), returning the DDL that recreates them. */
async function dropIndexes(db: pg.Client): Promise<string[]> {
  const cons = await db.query<{ tbl: string; conname: string; def: string }>(
    `select conrelid::regclass::text as tbl, conname, pg_get_constraintdef(oid) as def from pg_constraint
     where conrelid in ('predictions'::regclass, 'feedback'::regclass) and contype in ('p', 'u')`,
  );
  const idx = await db.query<{ indexname: string; indexdef: string }>(
    `select indexname, indexdef from pg_indexes where tablename in ('predictions', 'feedback') and indexname <> all($1)`,
    [cons.rows.map((c) => c.conname)],
  );
  for (const i of idx.rows) await db.query(`drop index ${i.indexname}`);
  for (const c of cons.rows) await db.query(`alter table ${c.tbl} drop constraint ${c.conname}`);
  return [...cons.rows.map((c) => `alter table ${c.tbl} add constraint ${c.conname} ${c.def}`), ...idx.rows.map((i) => i.indexdef)];
}

async function load(url: string, feedbackRows: number, T: number): Promise<Record<string, number>> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(`set maintenance_work_mem = '256MB'; set synchronous_commit = off`);
    const recreate = await dropIndexes(db);
    const P = Math.round(feedbackRows * 1.25);
    const HISTORY_S = historySeconds(feedbackRows);
    const t0 = new Date(T - HISTORY_S * 1000);
    let s = performance.now();
    // History: four models, each version succeeding the last ('4' serves the last quarter).
    await db.query(
      `insert into predictions (id, model, version, unit_key, latency_ms, outcome, predicted_label, created_at)
       select md5('p' || i)::uuid, (array['fraud', 'churn', 'sentiment', '${MODEL}'])[1 + i % 4], (1 + i * 4 / $2)::text, 'u' || (i % 100000),
              5 + (i * 7919 % 1000) / 5.0, case when i % 97 = 0 then 'error' else 'ok' end, (array['a', 'b', 'c'])[1 + (i / 7) % 3],
              $1::timestamptz + make_interval(secs => $3::float8 * i / $2)
       from generate_series(0::bigint, $2::bigint - 1) i`,
      [t0, P, HISTORY_S],
    );
    console.log(`  ${P} history predictions: ${((performance.now() - s) / 1000).toFixed(0)} s`);
    s = performance.now();
    // Feedback for 80% of them, 1-31 minutes after serving: 85% labels (one in 50 a later
    // correction of the previous prediction's label), 10% clicks, 5% ratings.
    await db.query(
      `insert into feedback (prediction_id, kind, value, label, created_at)
       select md5('p' || j)::uuid, k,
              case when k = 'rating' then 1 + i % 5 end,
              case when k = 'label' then (array['a', 'b', 'c'])[1 + (j / 7 + case when i * 13 % 100 < 85 then 0 else 1 end) % 3] end,
              $1::timestamptz + make_interval(secs => $3::float8 * j / $2 + 60 + i * 31337 % 1800 + case when i % 50 = 49 then 3600 else 0 end)
       from (select i, case when i % 50 = 49 then (i - 1) * 5 / 4 else i * 5 / 4 end as j,
                    case when i % 20 in (0, 1) then 'click' when i % 20 = 2 then 'rating' else 'label' end as k
             from generate_series(0::bigint, $4::bigint - 1) i) s
       where $1::timestamptz + make_interval(secs => $3::float8 * j / $2 + 60 + i * 31337 % 1800 + case when i % 50 = 49 then 3600 else 0 end) < $5`,
      [t0, P, HISTORY_S, feedbackRows, new Date(T)],
    );
    console.log(`  history feedback: ${((performance.now() - s) / 1000).toFixed(0)} s`);
    // The current canary: 30,000 predictions over the last 10 minutes, labels for 60% 5-120 s later.
    await db.query(
      `insert into predictions (id, model, version, unit_key, latency_ms, outcome, predicted_label, created_at)
       select md5('c' || i)::uuid, '${MODEL}', case when i % 5 = 0 then '${CANDIDATE}' else '${STABLE}' end, 'u' || (i % 100000),
              5 + (i * 7919 % 1000) / 5.0, case when i % 97 = 0 then 'error' else 'ok' end, (array['a', 'b', 'c'])[1 + (i / 7) % 3],
              $1::timestamptz + make_interval(secs => $2::float8 * i / $3)
       from generate_series(0, $3 - 1) i`,
      [new Date(T - CURRENT_S * 1000), CURRENT_S, CURRENT_PREDICTIONS],
    );
    await db.query(
      `insert into feedback (prediction_id, kind, value, label, created_at)
       select * from (
         select md5('c' || i)::uuid, case when i % 20 in (0, 1) then 'click' when i % 20 = 2 then 'rating' else 'label' end as k,
                case when i % 20 = 2 then 1 + i % 5 end,
                case when i % 20 > 2 then (array['a', 'b', 'c'])[1 + (i / 7 + case when i * 13 % 100 < 85 then 0 else 1 end) % 3] end,
                $1::timestamptz + make_interval(secs => $2::float8 * i / $3 + 5 + i * 31 % 115) as created
         from generate_series(0, $3 - 1) i where i * 37 % 101 < 61 order by 5) f
       where created < $4`,
      [new Date(T - CURRENT_S * 1000), CURRENT_S, CURRENT_PREDICTIONS, new Date(T)],
    );
    s = performance.now();
    for (const ddl of recreate) await db.query(ddl);
    console.log(`  indexes rebuilt: ${((performance.now() - s) / 1000).toFixed(0)} s`);
    await db.query('vacuum analyze predictions');
    await db.query('vacuum analyze feedback');
    const { rows } = await db.query<{ predictions: string; feedback: string; labels: string }>(
      `select (select count(*) from predictions) as predictions, (select count(*) from feedback) as feedback, (select count(*) from feedback where kind = 'label') as labels`,
    );
    return { predictions: Number(rows[0]!.predictions), feedback: Number(rows[0]!.feedback), labels: Number(rows[0]!.labels) };
  } finally {
    await db.end();
  }
}

async function runSize(feedbackRows: number) {
  const name = values.db!;
  const url = withDatabase(base.postgres.url, name);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const out: { rows: number; counts?: Record<string, number>; timings: Timing[]; plans: Record<string, string>; checks: Record<string, string> } = { rows: feedbackRows, timings: [], plans: {}, checks: {} };
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name} owner ${new URL(base.postgres.url).username || 'flywheel'}`);
    await migrate(url);
    const T = Date.now();
    console.log(`${feedbackRows} feedback rows -> ${name}`);
    out.counts = await load(url, feedbackRows, T);
    console.log(`  loaded: ${JSON.stringify(out.counts)}`);

    const config = { ...base, postgres: { ...base.postgres, url } };
    const pool = getPool(url);
    const canary = createCanaryActivities(config);
    const experiment = createExperimentActivities(config);
    const drift = createDriftActivities(config);
    const { rows: cur } = await pool.query<{ cursor: string }>(`select max(id)::text as cursor from feedback where created_at < $1`, [new Date(T - 60_000)]);
    const looks: Record<string, () => Promise<unknown>> = {
      'canary collectRolloutWindow (sequential judge look)': () =>
        canary.collectRolloutWindow({
          model: MODEL,
          versions: [STABLE, CANDIDATE].map((version) => ({ version, thresholds: { p95: 150, p99: 190 } })),
          fromMs: T - 300_000,
          toMs: T,
          predictionsSinceMs: T - CURRENT_S * 1000,
          quantilesFromMs: T - 300_000,
        }),
      'canary collectRolloutMetrics (first judge look)': () =>
        canary.collectRolloutMetrics({ model: MODEL, stableVersion: STABLE, candidateVersion: CANDIDATE, sinceMs: T - 300_000 }),
      'A/B collectExperimentMetrics, accuracy': () =>
        experiment.collectExperimentMetrics({ model: MODEL, versions: [STABLE, CANDIDATE], sinceMs: T - CURRENT_S * 1000, primaryMetric: 'accuracy' }),
      'A/B collectExperimentMetrics, click-rate': () =>
        experiment.collectExperimentMetrics({ model: MODEL, versions: [STABLE, CANDIDATE], sinceMs: T - CURRENT_S * 1000, primaryMetric: 'click-rate' }),
      'A/B collectExperimentMetrics, accuracy, test started 1 day ago': () =>
        experiment.collectExperimentMetrics({ model: MODEL, versions: [STABLE, CANDIDATE], sinceMs: T - DAY_S * 1000, primaryMetric: 'accuracy' }),
      'A/B collectExperimentMetrics, rating': () =>
        experiment.collectExperimentMetrics({ model: MODEL, versions: [STABLE, CANDIDATE], sinceMs: T - CURRENT_S * 1000, primaryMetric: 'rating' }),
      'drift readOutcomes (batch 2000, settle 2 s)': () => drift.readOutcomes({ model: MODEL, cursor: cur[0]!.cursor, settleSeconds: 2, limit: 2000 }),
    };
    for (const [look, fn] of Object.entries(looks)) {
      out.timings.push(await time(look, fn));
      const stmts = await capture(pool, fn);
      for (const [i, st] of stmts.entries()) out.plans[`${look} #${i + 1}`] = `${st.text.replace(/\s+/g, ' ')}\n-- ${JSON.stringify(st.values)}\n${await explain(pool, st.text, st.values)}`;
    }
    for (const [bname, b] of Object.entries(BASELINES)) {
      out.timings.push(await time(bname, () => pool.query(b.sql, b.args(T))));
      if (b.sameAs) {
        // The look that replaced this SQL must count the same observations.
        const { rows } = await pool.query<{ version: string; n: string; sum: string }>(b.sql, b.args(T));
        const arms = (await looks[b.sameAs]!()) as Array<{ version: string; n: number; sum: number }>;
        const same = arms.every((a) => { const r = rows.find((x) => x.version === a.version); return Number(r?.n ?? 0) === a.n && Number(r?.sum ?? 0) === a.sum; });
        out.checks[bname] = `${same ? 'same' : 'DIFFERENT'} (n, sum) as "${b.sameAs}": ${JSON.stringify(rows.map((r) => [r.version, Number(r.n), Number(r.sum)]))}`;
        console.log(`  ${out.checks[bname]}`);
      }
      out.plans[bname] = `-- ${b.note}\n${await explain(pool, b.sql, b.args(T))}`;
    }
  } finally {
    await closePools();
    await admin.query(`drop database if exists ${name} with (force)`).catch((e) => console.error(`could not drop ${name}: ${e.message}`));
    await admin.end();
  }
  const file = path.join(OUT, `look-latency-${feedbackRows}.json`);
  fs.writeFileSync(file, JSON.stringify(out, null, 2));
  fs.writeFileSync(path.join(OUT, `look-latency-${feedbackRows}-plans.txt`), Object.entries(out.plans).map(([k, v]) => `=== ${k}\n${v}\n`).join('\n'));
  console.log(`  wrote ${file}`);
  return out;
}

// Interrupted (Ctrl-C, kill): the scratch database is dropped all the same.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    const c = new pg.Client({ connectionString: adminUrl });
    void c.connect()
      .then(() => c.query(`drop database if exists ${values.db!} with (force)`))
      .catch((e: Error) => console.error(`could not drop ${values.db}: ${e.message}`))
      .finally(() => process.exit(130));
  });
}

const results = [];
for (const n of sizes) results.push(await runSize(n));
console.log(`\n| look | ${results.map((r) => `${(r.rows / 1e6).toLocaleString('en')} M feedback rows: median / p95 (ms)`).join(' | ')} |`);
console.log(`|---|${results.map(() => '---:').join('|')}|`);
for (const t of results[0]!.timings) {
  console.log(`| ${t.name} | ${results.map((r) => { const x = r.timings.find((y) => y.name === t.name)!; return `${x.medianMs.toFixed(1)} / ${x.p95Ms.toFixed(1)}${x.reps < REPS ? ` (${x.reps} calls)` : ''}`; }).join(' | ')} |`);
}
