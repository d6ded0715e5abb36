/**
 * What one request costs the server's process in CPU, at a steady open-loop rate: the gateway
 * (bench/serving/stack.ts, as limit.ts starts it) or the fastify floor (floor-server.ts), in
 * windows of a few seconds, each with its open-loop latency (from schedule), the client's own
 * schedule lag, and the CPU seconds of the server process, of PostgreSQL and of this client
 * (/proc/PID/stat). On a 2-core machine the tail waits for CPU, so CPU per request is the figure
 * that says what a change buys.
 *
 *   npx tsx bench/serving/cpu-per-request.ts [--server gateway|floor] [--threads 2] [--rate 1000]
 *        [--windows 4] [--window-s 3] [--cpu-prof DIR]
 *   FLYWHEEL_GATEWAY_INLINE_MAX_MS=0 npx tsx bench/serving/cpu-per-request.ts   # every run in a session thread
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { closedLoop, openLoop } from '../../traffic/load';
import { positiveFlag as flag } from '../flags';
import { BENCH_MODEL } from './models';
import { freePort, startServer, stopServer, waitHttp } from './processes';
import { latencyBuckets, quantileBetween } from './server-latency';
import { gatewayTarget, irisRows, PREDICT_PATH, prepareStack, startGateway } from './stack';

const stringFlag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const server = stringFlag('server') ?? 'gateway';
if (server !== 'gateway' && server !== 'floor') throw new Error('--server: gateway or floor');
const threads = stringFlag('threads') === '0' ? 0 : flag('threads', 2);
const rate = flag('rate', 1000);
const windows = flag('windows', 4);
const windowMs = flag('window-s', 3) * 1000;
const cpuProf = stringFlag('cpu-prof');

/** User + system CPU seconds of one process. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The same for every PostgreSQL process (backends come and go; those alive at both reads count). */
function postgresCpu(): Map<number, number> {
  let pids: number[] = [];
  try {
    pids = execFileSync('pgrep', ['-x', 'postgres']).toString().split('\n').filter(Boolean).map(Number);
  } catch {
    // none running
  }
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      out.set(pid, cpuSeconds(pid));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function between(a: Map<number, number>, b: Map<number, number>): number {
  let s = 0;
  for (const [pid, t] of b) s += t - (a.get(pid) ?? t);
  return s;
}

const clientCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function main(): Promise<void> {
  const stack = await prepareStack('flywheel_bench_serving_limit', 1);
  const rows = await irisRows();
  const port = await freePort();
  const nodeArgs = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(cpuProf)] : [];
  let proc;
  if (server === 'floor') {
    // The gateway's answer's length (limit.ts sizes it from a real answer; 234 bytes for this model).
    const bodyFile = path.join(stack.workDir, 'floor-body.json');
    fs.writeFileSync(bodyFile, JSON.stringify({ predictionId: '0190a6b2-7c3e-7000-8000-000000000000', model: BENCH_MODEL, version: '1', label: 'versicolor', probabilities: { setosa: 0.1, versicolor: 0.8, virginica: 0.1 } }).padEnd(234));
    proc = startServer('floor', process.execPath, [...nodeArgs, '--import', 'tsx', 'bench/serving/floor-server.ts', String(port), bodyFile], process.env, path.join(stack.workDir, 'floor.log'));
  } else {
    proc = startGateway(stack, port, threads, nodeArgs);
  }
  const target = gatewayTarget(port, stack.apiKey, 256);
  try {
    await waitHttp(proc, `http://127.0.0.1:${port}/healthz`, 60_000);
    // /healthz answers before the catalog has loaded the model: wait for a real answer.
    for (let i = 0; i < 300; i++) {
      if ((await target.client.post(PREDICT_PATH, { unitKey: 'u-0', features: rows[0] })).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const send = (i: number) => target.send(rows[i % rows.length]!, i);
    await closedLoop({ connections: 4, durationMs: 2_000, send });
    const own = () => (server === 'gateway' ? latencyBuckets(target.client, BENCH_MODEL) : Promise.resolve(undefined));
    console.log(`| window | open ${rate}/s p50 / p95 / p99 ms | client lag max ms | server p99 bucket ms | CPU ms per request: ${server} / PostgreSQL / client |`);
    console.log('|---|---|---|---|---|');
    for (let w = 0; w < windows; w++) {
      const before = await own();
      const c0 = { server: cpuSeconds(proc.child.pid!), pg: postgresCpu(), client: clientCpu() };
      const o = await openLoop({ rate, durationMs: windowMs, send, maxInFlight: 256, fromSchedule: true });
      const c1 = { server: cpuSeconds(proc.child.pid!), pg: postgresCpu(), client: clientCpu() };
      const after = await own();
      const perRequest = (s: number) => ((1000 * s) / Math.max(1, o.ok)).toFixed(3);
      const ownP99 = before && after ? `≤ ${quantileBetween(before, after, 0.99)}` : '–';
      console.log(
        `| ${w + 1} | ${o.latency.p50Ms} / ${o.latency.p95Ms} / ${o.latency.p99Ms} | ${o.maxScheduleLagMs ?? '–'} | ${ownP99} | ${perRequest(c1.server - c0.server)} / ${perRequest(between(c0.pg, c1.pg))} / ${perRequest(c1.client - c0.client)} |`,
      );
    }
    if (server === 'gateway') {
      const text = (await target.client.request('GET', '/metrics')).body as string;
      for (const line of text.split('\n')) if (line.startsWith('flywheel_gateway_inference_runs_total{')) console.log(line);
    }
  } finally {
    target.client.close();
    await stopServer(proc);
    await stack.db.end();
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
