/**
 * What feature logging costs the gateway (issue 15; aim ≤ 10 % of throughput): the same gateway
 * code and model, two processes, each on a database of its own — features logged for every row
 * (the default) against none (`feature_logging` sample rate 0: every prediction still recorded,
 * without its features). Rounds interleave the two so the shared machine's load hits both alike;
 * medians over the rounds. Requests carry a segment, as a caller of the flywheel would send one.
 *
 *   npx tsx bench/serving/feature-logging-overhead.ts [--duration 5] [--rounds 3] [--connections 16] [--batch 1] [--threads 2] [--json]
 *
 * Needs the local stack's PostgreSQL and MLflow. Authentication is off in both (its cost is
 * bench/serving/auth-overhead.ts's subject).
 */
import os from 'node:os';
import path from 'node:path';
import fsp from 'node:fs/promises';
import pg from 'pg';
import { deployVersion } from '../../activities/deploy';
import { setFeatureLogging } from '../../activities/feature-logging';
import { MlflowClient } from '../../clients/mlflow';
import { createScratchDatabase } from '../../scripts/stack/postgres';
import { loadConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import { loadDataset } from '../../datasets/load';
import { JsonClient } from '../../traffic/http';
import { closedLoop, type LoadResult } from '../../traffic/load';
import { BENCH_MODEL, benchOnnx, ensureVersion } from './models';
import { freePort, startServer, stopServer, waitHttp, type Server } from './processes';
import { positiveFlag as flag } from '../flags';

const opts = { durationS: flag('duration', 5), rounds: flag('rounds', 3), connections: flag('connections', 16), batch: flag('batch', 1), threads: flag('threads', 2), json: process.argv.includes('--json') };
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
type Mode = 'off' | 'on';

async function database(config: ReturnType<typeof loadConfig>, mlflow: MlflowClient, name: string, sampleRate: number): Promise<{ url: string; db: pg.Pool }> {
  const url = await createScratchDatabase(config, name);
  await migrate(url);
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const version = await ensureVersion(mlflow, benchOnnx(1));
  await deployVersion(db, mlflow, { model: BENCH_MODEL, version });
  await setFeatureLogging(db, { model: BENCH_MODEL, sampleRate, dailyRowBudget: null, drop: [], hash: [] });
  return { url, db };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const mlflow = new MlflowClient(config.mlflow);
  if (!(await mlflow.health())) throw new Error(`MLflow is not reachable at ${config.mlflow.trackingUri}: run \`flywheel up\``);
  const dbs = { off: await database(config, mlflow, 'flywheel_bench_featlog_off', 0), on: await database(config, mlflow, 'flywheel_bench_featlog_on', 1) };
  const workDir = path.join(config.dataDir, 'bench-featlog');
  await fsp.mkdir(workDir, { recursive: true });
  const servers: Server[] = [];
  const ports = { off: await freePort(), on: await freePort() };
  try {
    for (const m of ['off', 'on'] as Mode[]) {
      const env = { ...process.env, DATABASE_URL: dbs[m].url, FLYWHEEL_GATEWAY_THREADS: String(opts.threads), FLYWHEEL_LOG_LEVEL: 'warn', FLYWHEEL_GATEWAY_AUTH: 'off', FLYWHEEL_GATEWAY_PORT: String(ports[m]) };
      const s = startServer(`gateway (feature logging ${m})`, process.execPath, ['--import', 'tsx', 'serving/main.ts'], env, path.join(workDir, `gateway-${m}.log`));
      servers.push(s);
      await waitHttp(s, `http://127.0.0.1:${ports[m]}/healthz`, 60_000);
    }
    const iris = await loadDataset('builtin:iris');
    if (!iris.ok) throw new Error(iris.error.message);
    const ds = iris.value.dataset;
    const rows = Array.from({ length: ds.nRows }, (_, r) => Array.from(ds.x.subarray(r * ds.nFeatures, (r + 1) * ds.nFeatures)));
    const clients = { off: new JsonClient(`http://127.0.0.1:${ports.off}`, opts.connections), on: new JsonClient(`http://127.0.0.1:${ports.on}`, opts.connections) };
    const body = (i: number) => (opts.batch === 1 ? { features: rows[i % rows.length], segment: { plan: i % 2 ? 'pro' : 'free' } } : { instances: Array.from({ length: opts.batch }, (_, k) => rows[(i + k) % rows.length]), segment: { plan: 'pro' } });
    const results: Record<Mode, LoadResult[]> = { off: [], on: [] };
    const loadBefore = os.loadavg()[0]!;
    for (let round = 1; round <= opts.rounds; round++) {
      for (const m of ['off', 'on'] as Mode[]) {
        const send = async (i: number) => (await clients[m].post(`/v1/models/${BENCH_MODEL}/predict`, body(i))).status === 200;
        await closedLoop({ connections: opts.connections, durationMs: 1_000, send });
        log(`round ${round}/${opts.rounds}, feature logging ${m}: closed loop ${opts.connections} connections, ${opts.durationS} s`);
        results[m].push(await closedLoop({ connections: opts.connections, durationMs: opts.durationS * 1000, send }));
      }
    }
    for (const c of Object.values(clients)) c.close();
    await new Promise((r) => setTimeout(r, 1_000));
    const stored = Object.fromEntries(
      await Promise.all((['off', 'on'] as Mode[]).map(async (m) => [m, (await dbs[m].db.query('SELECT count(*)::int AS n, count(features)::int AS f FROM predictions')).rows[0]] as const)),
    ) as Record<Mode, { n: number; f: number }>;
    const summary = Object.fromEntries(
      (['off', 'on'] as Mode[]).map((m) => [m, { rps: median(results[m].map((x) => x.throughputRps)), p50Ms: median(results[m].map((x) => x.latency.p50Ms)), p99Ms: median(results[m].map((x) => x.latency.p99Ms)), failed: results[m].reduce((a, x) => a + x.failed, 0) }]),
    ) as Record<Mode, { rps: number; p50Ms: number; p99Ms: number; failed: number }>;
    const report = { command: `npx tsx bench/serving/feature-logging-overhead.ts ${process.argv.slice(2).join(' ')}`.trim(), machine: { cpus: os.cpus().length, loadAverageAtStart: Math.round(loadBefore * 100) / 100, loadAverageAtEnd: Math.round(os.loadavg()[0]! * 100) / 100 }, options: opts, summary, stored, rounds: results };
    if (opts.json) return void process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    const cost = Math.round(((summary.off.rps - summary.on.rps) / summary.off.rps) * 1000) / 10;
    process.stdout.write(`\n| feature logging | closed loop ${opts.connections} conns req/s (batch ${opts.batch}) | p50 / p99 ms | predictions stored (with features) | failed |\n|---|---|---|---|---|\n`);
    for (const m of ['off', 'on'] as Mode[]) process.stdout.write(`| ${m} | ${summary[m].rps} | ${summary[m].p50Ms} / ${summary[m].p99Ms} | ${stored[m].n} (${stored[m].f}) | ${summary[m].failed} |\n`);
    process.stdout.write(`\nthroughput cost of logging features: ${cost}% (medians over ${opts.rounds} interleaved rounds; load average ${report.machine.loadAverageAtStart} → ${report.machine.loadAverageAtEnd} on ${report.machine.cpus} CPUs)\n`);
  } finally {
    for (const s of servers) await stopServer(s);
    for (const d of Object.values(dbs)) await d.db.end();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/serving/feature-logging-overhead: ${err.message}`);
    process.exit(1);
  },
);
