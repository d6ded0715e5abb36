/**
 * Snapshot build speed (issue 15; aim ≥ 0.5× a plain COPY): `flywheel data snapshot`'s code
 * (datasets/production.ts: paged join of predictions with their first label, the dataset built and
 * written to the store) against the baseline, `\copy (<the same join>) TO /dev/null` by psql — the
 * rows streamed out of PostgreSQL and thrown away, nothing built. Both read the same table in the
 * same run, the snapshot first and second (warm cache), the COPY between.
 *
 *   npx tsx bench/data/snapshot.ts [--rows 1000000] [--features 8] [--labelled 0.5]
 *
 * Needs the local stack's PostgreSQL (and psql on the PATH). The rows go into a database of their own
 * (flywheel_bench_snapshot), generated inside PostgreSQL with generate_series.
 */
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createScratchDatabase, dropDatabase } from '../../scripts/stack/postgres';
import { loadConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import { decisionFeedbackSql } from '../../datasets/decision-feedback';
import { snapshotProduction } from '../../datasets/production';

const execFileP = promisify(execFile);
const DB = 'flywheel_bench_snapshot';
const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = flag('rows', 1_000_000);
const D = flag('features', 8);
const LABELLED = flag('labelled', 0.5);
const log = (s: string) => process.stderr.write(`${s}\n`);

// The snapshot's join, trust predicate included (datasets/decision-feedback.ts; no client list: null).
const JOIN = `SELECT p.id, p.created_at, p.version, p.features, l.label, coalesce(l.trusted, false) AS trusted FROM predictions p
LEFT JOIN LATERAL (SELECT f.label, ${decisionFeedbackSql('f', 'NULL')} AS trusted FROM feedback f WHERE f.prediction_id = p.id AND f.kind = 'label' AND f.created_at >= p.created_at
  AND f.created_at <= p.created_at + interval '1 day' ORDER BY 2 DESC NULLS LAST, f.created_at, f.id LIMIT 1) l ON true
WHERE p.model = 'bench' AND p.outcome = 'ok' ORDER BY p.created_at, p.id`;

async function main(): Promise<void> {
  const config = loadConfig();
  // Made with the admin login, owned by Flywheel's role (scripts/stack/postgres-roles.ts).
  const url = await createScratchDatabase(config, DB);
  await migrate(url);
  const db = new pg.Pool({ connectionString: url, max: 2 });
  await db.query(`INSERT INTO deployments (model, version, onnx_uri, onnx_sha256, n_features, classes, state) VALUES ('bench', '1', '/dev/null', 'x', $1, '["a","b","c"]', 'active')`, [D]);
  const t0 = performance.now();
  // Served over the last 6 days, one per ~0.5 s; uuid ids, features random, labels 1 s after for a share.
  await db.query(
    `INSERT INTO predictions (id, model, version, latency_ms, outcome, predicted_label, created_at, features)
     SELECT gen_random_uuid(), 'bench', CASE WHEN i % 10 = 0 THEN '2' ELSE '1' END, 1, 'ok', 'a', now() - interval '6 days' + i * interval '1 millisecond' * (518400000.0 / $1),
            ARRAY(SELECT (random() * 10)::real FROM generate_series(1, $2) WHERE i IS NOT NULL)
     FROM generate_series(1, $1) AS i`,
    [N, D],
  );
  await db.query(
    `INSERT INTO feedback (prediction_id, kind, label, created_at)
     SELECT id, 'label', (ARRAY['a','b','c'])[1 + floor(random() * 3)::int], created_at + interval '1 second' FROM predictions WHERE random() < $1`,
    [LABELLED],
  );
  await db.query('VACUUM ANALYZE predictions');
  await db.query('VACUUM ANALYZE feedback');
  log(`generated ${N.toLocaleString('en')} predictions × ${D} features, ${Math.round(LABELLED * 100)} % labelled, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const store = await fsp.mkdtemp(path.join(os.tmpdir(), 'flywheel-bench-snapshot-'));
  const snapshot = async () => {
    await fsp.rm(store, { recursive: true, force: true });
    const t = performance.now();
    const r = await snapshotProduction(db, store, { model: 'bench', windowMs: 7 * 86_400_000, windowText: '7d', attributionMs: 86_400_000, minLabelCoverage: 0 });
    return { seconds: (performance.now() - t) / 1000, rows: r.nRows, predictions: r.predictions };
  };
  const copy = async () => {
    const t = performance.now();
    await execFileP('psql', [url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy (${JOIN.replace(/\n/g, ' ')}) TO '/dev/null'`], { maxBuffer: 1 << 20 });
    return (performance.now() - t) / 1000;
  };
  const s1 = await snapshot();
  const c = await copy();
  const s2 = await snapshot();
  const best = Math.min(s1.seconds, s2.seconds);
  const rate = (sec: number) => Math.round(N / sec);
  process.stdout.write(`\n| what | seconds | predictions read / s |\n|---|---|---|\n`);
  process.stdout.write(`| psql \\copy (the join) TO /dev/null | ${c.toFixed(1)} | ${rate(c).toLocaleString('en')} |\n`);
  process.stdout.write(`| flywheel data snapshot (run 1 / run 2) | ${s1.seconds.toFixed(1)} / ${s2.seconds.toFixed(1)} | ${rate(best).toLocaleString('en')} (best) |\n`);
  process.stdout.write(`\nsnapshot / COPY throughput: ${(c / best).toFixed(2)}× (aim ≥ 0.5×); dataset rows ${s2.rows.toLocaleString('en')} of ${s2.predictions.toLocaleString('en')} predictions; load average ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} CPUs\n`);
  await fsp.rm(store, { recursive: true, force: true });
  await db.end();
  await dropDatabase(config, DB);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/data/snapshot: ${err.message}`);
    process.exit(1);
  },
);
