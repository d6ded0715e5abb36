/**
 * Serving against its limit (issue 18, item 7). The limit of an HTTP model server is its
 * framework's floor (a fastify route that parses the same body and answers a constant body of the
 * same size: floor-server.ts) plus the model's own `session.run` (session-run.ts). In one run, one
 * server at a time, with the same client (traffic/load.ts) and the same iris rows:
 *
 *   gateway            serving/main.ts as deployed, recorder writing to PostgreSQL, API key on
 *   floor              bench/serving/floor-server.ts in its own process
 *   session.run        onnxruntime-node in this process, one call after another, no HTTP
 *   mlflow serve       `mlflow models serve` on the same ONNX (MLflow onnx flavour)
 *   MLServer           Seldon MLServer + mlserver-mlflow on that model (skipped when not installed)
 *
 * each at 1 connection, at --connections and --saturate connections (closed loop; throughput is
 * the better of the two), and open loop at --rate requests/s with latency counted from each
 * request's scheduled time. Prints one table, the ratios against the issue's aims and peak RSS.
 *
 *   npx tsx bench/serving/limit.ts [--duration 6] [--connections 16] [--saturate 256] [--rate 1000]
 *        [--threads 2] [--workers 2] [--arms gateway,floor,session,mlflow,mlserver] [--cpu-prof DIR] [--json]
 *
 * --cpu-prof DIR runs the gateway under `node --cpu-prof` (the profile lands in DIR when it stops;
 * bench/serving/cpuprofile-top.ts summarises it). --workers: MLflow's and MLServer's worker
 * processes; the gateway's session threads are --threads; the floor is one Node process.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { closedLoop, openLoop, type LoadResult } from '../../traffic/load';
import type { LatencySummary } from '../../traffic/latency';
import { BENCH_MODEL } from './models';
import { mlserverMissing, mlserverTarget, MLSERVER_READY_PATH, startMlServer } from './mlserver';
import { freePort, peakRssMb, startServer, stopServer, waitHttp, type Server } from './processes';
import { latencyBuckets, quantileBetween } from './server-latency';
import { measureSessionRun, type SessionRunResult } from './session-run';
import { gatewayTarget, irisRows, log, logOnnxFlavour, mlflowTarget, PREDICT_PATH, prepareStack, startGateway, startMlflowServe, type BenchStack, type Target } from './stack';
import { JsonClient } from '../../traffic/http';
import { positiveFlag as flag } from '../flags';

const ARMS = ['gateway', 'floor', 'session', 'mlflow', 'mlserver'] as const;
type Arm = (typeof ARMS)[number];

function stringFlag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const opts = {
  durationS: flag('duration', 6),
  connections: flag('connections', 16),
  saturate: flag('saturate', 256),
  rate: flag('rate', 1000),
  // 0 is allowed: the gateway's sessions on its event loop (serving/inline-sessions.ts).
  threads: stringFlag('threads') === '0' ? 0 : flag('threads', 2),
  workers: flag('workers', 2),
  arms: (stringFlag('arms') ?? ARMS.join(',')).split(',') as Arm[],
  cpuProf: stringFlag('cpu-prof'),
  json: process.argv.includes('--json'),
};
for (const a of opts.arms) if (!ARMS.includes(a)) throw new Error(`--arms: unknown arm ${a} (${ARMS.join(', ')})`);

interface HttpMeasured {
  one: LoadResult;
  closed: LoadResult;
  saturated: LoadResult;
  /** Open loop at --rate, latency from each request's scheduled time. */
  open: LoadResult;
  bestRps: number;
  peakRssMb: number;
  /** Gateway only: its own histogram's p99 bucket bound during the open loop. */
  serverOpenP99Ms?: number;
}

async function measureHttp(target: Target, rows: number[][], pid: number, serverView?: () => Promise<Map<number, number>>): Promise<HttpMeasured> {
  const send = (i: number) => target.send(rows[i % rows.length]!, i);
  const durationMs = opts.durationS * 1000;
  log(`${target.name}: warm-up, then 1, ${opts.connections} and ${opts.saturate} connections and ${opts.rate} req/s open loop, ${opts.durationS} s each`);
  await closedLoop({ connections: opts.connections, durationMs: 2_000, send });
  const one = await closedLoop({ connections: 1, durationMs, send });
  const closed = await closedLoop({ connections: opts.connections, durationMs, send });
  const saturated = await closedLoop({ connections: opts.saturate, durationMs, send });
  const before = await serverView?.();
  // Past 256 requests in flight the server is not keeping up; the rest wait their turn in the
  // client, and their wait counts (latency from the schedule).
  const open = await openLoop({ rate: opts.rate, durationMs, send, maxInFlight: 256, fromSchedule: true });
  const after = await serverView?.();
  return {
    one,
    closed,
    saturated,
    open,
    bestRps: Math.max(closed.throughputRps, saturated.throughputRps),
    peakRssMb: await peakRssMb(pid),
    serverOpenP99Ms: before && after ? quantileBetween(before, after, 0.99) : undefined,
  };
}

/** Starts a server, waits for `readyPath`, measures it, stops it (always). */
async function withServer(server: Server, port: number, readyPath: string, timeoutMs: number, run: (server: Server) => Promise<HttpMeasured>): Promise<HttpMeasured> {
  try {
    await waitHttp(server, `http://127.0.0.1:${port}${readyPath}`, timeoutMs);
    return await run(server);
  } finally {
    await stopServer(server);
  }
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg();
  const stack: BenchStack = await prepareStack('flywheel_bench_serving_limit', 1);
  const rows = await irisRows();
  const wants = (a: Arm) => opts.arms.includes(a);
  const results: Partial<Record<Exclude<Arm, 'session'>, HttpMeasured>> = {};
  const skipped: Record<string, string> = {};
  let session: SessionRunResult | undefined;
  // The floor answers a body as long as the gateway's; this one is the gateway's answer's length.
  let answer = JSON.stringify({ predictionId: '0190a6b2-7c3e-7000-8000-000000000000', model: BENCH_MODEL, version: stack.versions[0], label: 'versicolor', probabilities: { setosa: 0.1, versicolor: 0.8, virginica: 0.1 } });

  try {
    if (wants('gateway')) {
      const port = await freePort();
      const nodeArgs = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(opts.cpuProf)] : [];
      const gw = gatewayTarget(port, stack.apiKey, opts.saturate);
      results.gateway = await withServer(startGateway(stack, port, opts.threads, nodeArgs), port, '/healthz', 60_000, async (server) => {
        // /healthz answers before the catalog has loaded the model: wait for a real answer.
        for (let i = 0; i < 300; i++) {
          const res = await gw.client.post(PREDICT_PATH, { unitKey: 'u-0', features: rows[0] });
          answer = JSON.stringify(res.body);
          if (res.status === 200) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        return measureHttp(gw, rows, server.child.pid!, () => latencyBuckets(gw.client, BENCH_MODEL));
      });
      gw.client.close();
    }
    if (wants('floor')) {
      const port = await freePort();
      const bodyFile = path.join(stack.workDir, 'floor-body.json');
      await fsp.writeFile(bodyFile, answer);
      const server = startServer('floor', process.execPath, ['--import', 'tsx', 'bench/serving/floor-server.ts', String(port), bodyFile], process.env, path.join(stack.workDir, 'floor.log'));
      const client = new JsonClient(`http://127.0.0.1:${port}`, opts.saturate);
      const floor: Target = { name: 'floor', client, send: async (features, i) => (await client.post(PREDICT_PATH, { unitKey: `u-${i % 5000}`, features })).status === 200 };
      results.floor = await withServer(server, port, '/healthz', 30_000, (s) => measureHttp(floor, rows, s.child.pid!));
      client.close();
    }
    if (wants('session')) {
      log(`session.run: in process, ${opts.durationS} s`);
      session = await measureSessionRun(stack.bytes[0]!, rows, opts.durationS * 1000);
    }
    const needsModel = wants('mlflow') || (wants('mlserver') && !mlserverMissing());
    const { modelUri } = needsModel ? await logOnnxFlavour(stack) : { modelUri: '' };
    if (wants('mlflow')) {
      const port = await freePort();
      const ml = mlflowTarget(port, opts.saturate);
      results.mlflow = await withServer(startMlflowServe(stack, modelUri, port, opts.workers), port, '/ping', 120_000, (s) => measureHttp(ml, rows, s.child.pid!));
      ml.client.close();
    }
    if (wants('mlserver')) {
      const missing = mlserverMissing();
      if (missing) {
        skipped.mlserver = missing;
        log(`MLServer: skipped, ${missing}`);
      } else {
        const port = await freePort();
        const ms = mlserverTarget(port, opts.saturate);
        // A baseline that will not start is reported, not fatal: the other arms' figures stand.
        results.mlserver = await withServer(await startMlServer(stack, modelUri, port, opts.workers), port, MLSERVER_READY_PATH, 180_000, (s) => measureHttp(ms, rows, s.child.pid!)).catch(
          (err: Error) => {
            skipped.mlserver = `did not start: ${err.message.split('\n')[0]} (log: ${path.join(stack.workDir, 'mlserver.log')})`;
            return undefined;
          },
        );
        ms.client.close();
      }
    }
  } finally {
    await stack.db.end();
  }

  const report = {
    command: `npx tsx bench/serving/limit.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadAverageAtStart: loadAtStart.map((l) => Math.round(l * 100) / 100), loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) },
    options: opts,
    answerBytes: Buffer.byteLength(answer),
    results,
    sessionRun: session,
    skipped,
    aims: aims(results, session),
  };
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  printTable(report.results, session, report.aims);
  for (const [arm, why] of Object.entries(skipped)) process.stdout.write(`${arm}: skipped — ${why}\n`);
  process.stdout.write(`answer body ${report.answerBytes} bytes; load average at start ${report.machine.loadAverageAtStart.join(' ')}, at end ${report.machine.loadAverageAtEnd.join(' ')}\n`);
}

interface Aim {
  what: string;
  value: number | undefined;
  aim: string;
  met: boolean | undefined;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

function aims(res: Partial<Record<string, HttpMeasured>>, session: SessionRunResult | undefined): Aim[] {
  const { gateway: gw, floor, mlserver: ms } = res;
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? r2(a / b) : undefined);
  const aim = (what: string, value: number | undefined, op: '<=' | '>=', bound: number): Aim => ({
    what,
    value,
    aim: `${op === '<=' ? '≤' : '≥'} ${bound}`,
    met: value === undefined ? undefined : op === '<=' ? value <= bound : value >= bound,
  });
  return [
    aim('p50 at 1 connection: gateway / (floor + session.run)', ratio(gw?.one.latency.p50Ms, floor && session ? floor.one.latency.p50Ms + session.latency.p50Ms : undefined), '<=', 1.2),
    aim(`p99 at ${opts.connections} connections: gateway / floor`, ratio(gw?.closed.latency.p99Ms, floor?.closed.latency.p99Ms), '<=', 1.5),
    aim('p99 at 1 connection: gateway / floor', ratio(gw?.one.latency.p99Ms, floor?.one.latency.p99Ms), '<=', 1.5),
    aim('throughput (best closed loop): gateway / floor', ratio(gw?.bestRps, floor?.bestRps), '>=', 0.85),
    aim('throughput: gateway / MLServer', ratio(gw?.bestRps, ms?.bestRps), '>=', 2),
    aim(`p99 at ${opts.connections} connections: gateway / MLServer (aim: lower)`, ratio(gw?.closed.latency.p99Ms, ms?.closed.latency.p99Ms), '<=', 1),
    aim(`open loop ${opts.rate} req/s p99 (from schedule): gateway / floor`, ratio(gw?.open.latency.p99Ms, floor?.open.latency.p99Ms), '<=', 1.5),
  ];
}

function printTable(res: Partial<Record<string, HttpMeasured>>, session: SessionRunResult | undefined, aimRows: Aim[]): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const pp = (l: LatencySummary) => `${l.p50Ms} / ${l.p99Ms}`;
  out(
    `\n| server | 1 conn p50 / p99 ms | ${opts.connections} conns p50 / p99 ms | ${opts.connections} conns req/s | ${opts.saturate} conns p50 / p99 ms | ${opts.saturate} conns req/s | best req/s | open ${opts.rate}/s p50 / p95 / p99 ms (achieved req/s) | failed | peak RSS MB |`,
  );
  out('|---|---|---|---|---|---|---|---|---|---|');
  const names: Record<string, string> = {
    gateway: `gateway (${opts.threads ? `${opts.threads} session threads` : 'sessions on the event loop'}, recorder → PostgreSQL)`,
    floor: 'floor (fastify, parse + constant body)',
    mlflow: `mlflow models serve (${opts.workers} workers)`,
    mlserver: `MLServer + mlserver-mlflow (${opts.workers} workers)`,
  };
  for (const [arm, m] of Object.entries(res)) {
    if (!m) continue;
    const failed = m.one.failed + m.closed.failed + m.saturated.failed + m.open.failed;
    const own = m.serverOpenP99Ms !== undefined ? `; own p99 ≤ ${m.serverOpenP99Ms}` : '';
    out(
      `| ${names[arm]} | ${pp(m.one.latency)} | ${pp(m.closed.latency)} | ${m.closed.throughputRps} | ${pp(m.saturated.latency)} | ${m.saturated.throughputRps} | ${m.bestRps} | ` +
        `${m.open.latency.p50Ms} / ${m.open.latency.p95Ms} / ${m.open.latency.p99Ms} (${m.open.throughputRps}${own}) | ${failed} | ${m.peakRssMb} |`,
    );
  }
  if (session) out(`| session.run in process (no HTTP) | ${pp(session.latency)} | - | - | - | - | ${session.callsPerS} calls/s | - | 0 | - |`);
  out('\n| ratio | measured | aim | met |\n|---|---|---|---|');
  for (const a of aimRows) out(`| ${a.what} | ${a.value ?? '-'} | ${a.aim} | ${a.met === undefined ? '-' : a.met ? 'yes' : 'no'} |`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/serving/limit: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
