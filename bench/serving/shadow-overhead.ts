/**
 * What a shadow costs the gateway's callers (issue 15; aim: p99 ≤ +20 % with a 100 % shadow): the
 * same gateway code and model, two processes, each on a database of its own, both with v1 serving
 * all traffic and v2 deployed at 0 % — one with no shadow, the other with v2 shadowed at 100 %
 * (every request answered a second time, after the reply). Two loads per round: an open loop at a
 * fixed rate (latency as a caller sees it at a rate the gateway can serve: no coordinated omission)
 * and a closed loop (throughput at saturation, where the shadow's inference competes with served
 * requests for the same cores). Rounds interleave the two gateways so the shared machine's load hits
 * both alike; medians over the rounds; peak RSS of each gateway process at the end.
 *
 *   npx tsx bench/serving/shadow-overhead.ts [--duration 5] [--rounds 3] [--rate 300] [--connections 16] [--threads 2] [--json]
 *
 * Needs the local stack's PostgreSQL and MLflow. Authentication is off in both.
 */
import os from 'node:os';
import path from 'node:path';
import fsp from 'node:fs/promises';
import pg from 'pg';
import { deployVersion } from '../../activities/deploy';
import { startShadow } from '../../activities/shadow';
import { MlflowClient } from '../../clients/mlflow';
import { createScratchDatabase } from '../../scripts/stack/postgres';
import { loadConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import { loadDataset } from '../../datasets/load';
import { JsonClient } from '../../traffic/http';
import { closedLoop, openLoop, type LoadResult } from '../../traffic/load';
import { BENCH_MODEL, benchOnnx, ensureVersion } from './models';
import { freePort, peakRssMb, startServer, stopServer, waitHttp, type Server } from './processes';
import { positiveFlag as flag } from '../flags';

const opts = { durationS: flag('duration', 5), rounds: flag('rounds', 3), rate: flag('rate', 300), connections: flag('connections', 16), threads: flag('threads', 2), json: process.argv.includes('--json') };
const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const MODES = ['none', 'shadow'] as const;
type Mode = (typeof MODES)[number];

async function database(config: ReturnType<typeof loadConfig>, mlflow: MlflowClient, name: string, shadow: boolean): Promise<{ url: string; db: pg.Pool }> {
  const url = await createScratchDatabase(config, name);
  await migrate(url);
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const v1 = await ensureVersion(mlflow, benchOnnx(1));
  const v2 = await ensureVersion(mlflow, benchOnnx(2));
  await deployVersion(db, mlflow, { model: BENCH_MODEL, version: v1 });
  await deployVersion(db, mlflow, { model: BENCH_MODEL, version: v2 });
  if (shadow) await startShadow(db, { model: BENCH_MODEL, version: v2, share: 1, actor: 'bench:shadow-overhead' });
  return { url, db };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const mlflow = new MlflowClient(config.mlflow);
  if (!(await mlflow.health())) throw new Error(`MLflow is not reachable at ${config.mlflow.trackingUri}: run \`flywheel up\``);
  const dbs = { none: await database(config, mlflow, 'flywheel_bench_shadow_none', false), shadow: await database(config, mlflow, 'flywheel_bench_shadow_on', true) };
  const workDir = path.join(config.dataDir, 'bench-shadow');
  await fsp.mkdir(workDir, { recursive: true });
  const servers: Partial<Record<Mode, Server>> = {};
  const ports = { none: await freePort(), shadow: await freePort() };
  try {
    for (const m of MODES) {
      const env = { ...process.env, DATABASE_URL: dbs[m].url, FLYWHEEL_GATEWAY_THREADS: String(opts.threads), FLYWHEEL_LOG_LEVEL: 'warn', FLYWHEEL_GATEWAY_AUTH: 'off', FLYWHEEL_GATEWAY_PORT: String(ports[m]) };
      const s = startServer(`gateway (${m})`, process.execPath, ['--import', 'tsx', 'serving/main.ts'], env, path.join(workDir, `gateway-${m}.log`));
      servers[m] = s;
      await waitHttp(s, `http://127.0.0.1:${ports[m]}/healthz`, 60_000);
    }
    const iris = await loadDataset('builtin:iris');
    if (!iris.ok) throw new Error(iris.error.message);
    const ds = iris.value.dataset;
    const rows = Array.from({ length: ds.nRows }, (_, r) => Array.from(ds.x.subarray(r * ds.nFeatures, (r + 1) * ds.nFeatures)));
    const clients = { none: new JsonClient(`http://127.0.0.1:${ports.none}`, opts.connections), shadow: new JsonClient(`http://127.0.0.1:${ports.shadow}`, opts.connections) };
    const open: Record<Mode, LoadResult[]> = { none: [], shadow: [] };
    const closed: Record<Mode, LoadResult[]> = { none: [], shadow: [] };
    const loadBefore = os.loadavg()[0]!;
    for (let round = 1; round <= opts.rounds; round++) {
      for (const m of MODES) {
        const send = async (i: number) => (await clients[m].post(`/v1/models/${BENCH_MODEL}/predict`, { features: rows[i % rows.length] })).status === 200;
        await closedLoop({ connections: opts.connections, durationMs: 1_000, send });
        log(`round ${round}/${opts.rounds}, ${m}: open loop ${opts.rate} req/s then closed loop ${opts.connections} connections, ${opts.durationS} s each`);
        open[m].push(await openLoop({ rate: opts.rate, durationMs: opts.durationS * 1000, send }));
        closed[m].push(await closedLoop({ connections: opts.connections, durationMs: opts.durationS * 1000, send }));
      }
    }
    for (const c of Object.values(clients)) c.close();
    await new Promise((r) => setTimeout(r, 2_000));
    const rss = { none: await peakRssMb(servers.none!.child.pid!), shadow: await peakRssMb(servers.shadow!.child.pid!) };
    const stored = Object.fromEntries(
      await Promise.all(
        MODES.map(async (m) => [m, (await dbs[m].db.query('SELECT (SELECT count(*)::int FROM predictions) AS served, (SELECT count(*)::int FROM shadow_predictions) AS shadowed')).rows[0]] as const),
      ),
    ) as Record<Mode, { served: number; shadowed: number }>;
    const dropped = await fetch(`http://127.0.0.1:${ports.shadow}/metrics`)
      .then((r) => r.text())
      .then((t) => [...t.matchAll(/^flywheel_gateway_shadow_dropped_rows_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0))
      .catch(() => null);
    const sum = (rs: LoadResult[]) => ({ rps: median(rs.map((x) => x.throughputRps)), p50Ms: median(rs.map((x) => x.latency.p50Ms)), p99Ms: median(rs.map((x) => x.latency.p99Ms)), failed: rs.reduce((a, x) => a + x.failed, 0) });
    const summary = Object.fromEntries(MODES.map((m) => [m, { open: sum(open[m]), closed: sum(closed[m]), peakRssMb: rss[m] }])) as Record<Mode, { open: ReturnType<typeof sum>; closed: ReturnType<typeof sum>; peakRssMb: number }>;
    const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
    const ratios = {
      openP99: ratio(summary.shadow.open.p99Ms, summary.none.open.p99Ms),
      openP50: ratio(summary.shadow.open.p50Ms, summary.none.open.p50Ms),
      closedP99: ratio(summary.shadow.closed.p99Ms, summary.none.closed.p99Ms),
      closedThroughput: ratio(summary.shadow.closed.rps, summary.none.closed.rps),
    };
    const report = {
      command: `npx tsx bench/serving/shadow-overhead.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { cpus: os.cpus().length, loadAverageAtStart: Math.round(loadBefore * 100) / 100, loadAverageAtEnd: Math.round(os.loadavg()[0]! * 100) / 100 },
      options: opts,
      summary,
      ratios,
      stored,
      shadowDropped: dropped,
      rounds: { open, closed },
    };
    if (opts.json) return void process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`\n| gateway | open loop ${opts.rate} req/s: p50 / p99 ms | closed loop ${opts.connections} conns: req/s, p99 ms | peak RSS MB | served / shadow rows | failed |\n|---|---|---|---|---|---|\n`);
    for (const m of MODES) {
      const s = summary[m];
      process.stdout.write(`| ${m} | ${s.open.p50Ms} / ${s.open.p99Ms} | ${s.closed.rps}, ${s.closed.p99Ms} | ${s.peakRssMb} | ${stored[m].served} / ${stored[m].shadowed} | ${s.open.failed + s.closed.failed} |\n`);
    }
    process.stdout.write(
      `\nshadow / none: open-loop p99 ×${ratios.openP99} (p50 ×${ratios.openP50}), closed-loop p99 ×${ratios.closedP99}, throughput ×${ratios.closedThroughput}; shadow runs dropped ${dropped ?? 'n/a'} (medians over ${opts.rounds} interleaved rounds; load average ${report.machine.loadAverageAtStart} → ${report.machine.loadAverageAtEnd} on ${report.machine.cpus} CPUs)\n`,
    );
  } finally {
    for (const s of Object.values(servers)) await stopServer(s);
    for (const d of Object.values(dbs)) await d.db.end();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/serving/shadow-overhead: ${err.message}`);
    process.exit(1);
  },
);
