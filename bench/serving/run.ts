/**
 * Serving benchmark: the Flywheel gateway against `mlflow models serve`, both serving the same
 * ONNX, driven one after the other by the same client (traffic/load.ts) on the same machine.
 *
 *   npx tsx bench/serving/run.ts [--duration 8] [--connections 16] [--saturate 256] [--rate 1000] [--low-rate 200]
 *                                [--versions 10] [--threads 2] [--mlflow-workers 2] [--json]
 *
 * Per server: closed loops with --connections and --saturate connections (throughput: each
 * server's best counts; on keep-alive connections `mlflow models serve` answers in ~40 ms however
 * idle it is, so it needs many connections to use its CPU), an open loop at --rate (the p99
 * target) and one at --low-rate (a load the baseline can sustain). Then the gateway alone with --versions versions
 * loaded and traffic split evenly, for its peak RSS. Needs the local stack (PostgreSQL, MLflow)
 * and onnx + onnxruntime in .venv (scripts/requirements.txt). The gateway gets a database of its
 * own (flywheel_bench_serving), so it loads exactly the benchmark's versions.
 */
import os from 'node:os';
import { deployVersion } from '../../activities/deploy';
import { setTrafficWeights } from '../../activities/traffic';
import { closedLoop, openLoop, type LoadResult } from '../../traffic/load';
import { BENCH_MODEL } from './models';
import { freePort, peakRssMb, stopServer, waitHttp, type Server } from './processes';
import { latencyBuckets, quantileBetween } from './server-latency';
import { gatewayTarget, irisRows, log, logOnnxFlavour, mlflowTarget, prepareStack, startGateway, startMlflowServe, type Target } from './stack';
import { positiveFlag as flag } from '../flags';

const BENCH_DB = 'flywheel_bench_serving';

const opts = {
  durationS: flag('duration', 8),
  connections: flag('connections', 16),
  saturate: flag('saturate', 256),
  rate: flag('rate', 1000),
  lowRate: flag('low-rate', 200),
  versions: flag('versions', 10),
  threads: flag('threads', 2),
  mlflowWorkers: flag('mlflow-workers', 2),
  json: process.argv.includes('--json'),
};

interface Measured {
  closed: LoadResult;
  /** Closed loop with --saturate connections: MLflow is latency-bound, not CPU-bound, at 16. */
  saturated: LoadResult;
  open: LoadResult;
  openLow: LoadResult;
  /** Gateway only: p99 of its own request handling during the open loop at --rate (bucket bound). */
  serverOpenP99Ms?: number;
  peakRssMb: number;
}

async function measure(target: Target, rows: number[][], pid: number, serverView?: () => Promise<Map<number, number>>): Promise<Measured> {
  const send = (i: number) => target.send(rows[i % rows.length]!, i);
  log(`${target.name}: warm-up`);
  await closedLoop({ connections: opts.connections, durationMs: 2_000, send });
  log(`${target.name}: closed loop, ${opts.connections} connections, ${opts.durationS} s`);
  const closed = await closedLoop({ connections: opts.connections, durationMs: opts.durationS * 1000, send });
  log(`${target.name}: closed loop, ${opts.saturate} connections, ${opts.durationS} s`);
  const saturated = await closedLoop({ connections: opts.saturate, durationMs: opts.durationS * 1000, send });
  log(`${target.name}: open loop at ${opts.rate} req/s, ${opts.durationS} s`);
  const before = await serverView?.();
  // Past 256 requests in flight the server is not keeping up; stop adding to its queue.
  const open = await openLoop({ rate: opts.rate, durationMs: opts.durationS * 1000, send, maxInFlight: 256 });
  const after = await serverView?.();
  log(`${target.name}: open loop at ${opts.lowRate} req/s, ${opts.durationS} s`);
  const openLow = await openLoop({ rate: opts.lowRate, durationMs: opts.durationS * 1000, send, maxInFlight: 256 });
  const serverOpenP99Ms = before && after ? quantileBetween(before, after, 0.99) : undefined;
  return { closed, saturated, open, openLow, serverOpenP99Ms, peakRssMb: await peakRssMb(pid) };
}

function best(m: Measured): number {
  return Math.max(m.closed.throughputRps, m.saturated.throughputRps);
}

async function main(): Promise<void> {
  const stack = await prepareStack(BENCH_DB, opts.versions);
  const { db, mlflow, versions } = stack;
  const { modelUri } = await logOnnxFlavour(stack);

  const [gatewayPort, mlflowPort] = [await freePort(), await freePort()];
  const servers: Server[] = [];
  try {
    const mlflowServer = startMlflowServe(stack, modelUri, mlflowPort, opts.mlflowWorkers);
    servers.push(mlflowServer);
    const gateway = startGateway(stack, gatewayPort, opts.threads);
    servers.push(gateway);
    await waitHttp(gateway, `http://127.0.0.1:${gatewayPort}/healthz`, 60_000);
    await waitHttp(mlflowServer, `http://127.0.0.1:${mlflowPort}/ping`, 120_000);

    const rows = await irisRows();
    const gw = gatewayTarget(gatewayPort, stack.apiKey, opts.saturate);
    const ml = mlflowTarget(mlflowPort, opts.saturate);

    // Same model, same answers: the largest probability difference over the dataset's first rows.
    let maxDiff = 0;
    for (const features of rows.slice(0, 20)) {
      const a = (await gw.client.post(`/v1/models/${BENCH_MODEL}/predict`, { features })).body as { probabilities: Record<string, number> };
      const b = (await ml.client.post('/invocations', { inputs: { features: [features] } })).body as { predictions: { probabilities: number[][] } };
      Object.values(a.probabilities).forEach((p, j) => (maxDiff = Math.max(maxDiff, Math.abs(p - b.predictions.probabilities[0]![j]!))));
    }
    log(`same model check: max |Δp| over 20 rows = ${maxDiff}`);

    const loadBefore = os.loadavg()[0]!;
    const gatewayOne = await measure(gw, rows, gateway.child.pid!, () => latencyBuckets(gw.client, BENCH_MODEL));
    const baseline = await measure(ml, rows, mlflowServer.child.pid!);

    log(`gateway: ${opts.versions} versions at ${Math.round(10_000 / opts.versions)} basis points each`);
    for (const v of versions.slice(1)) await deployVersion(db, mlflow, { model: BENCH_MODEL, version: v });
    const even = Math.floor(10_000 / versions.length);
    const weights = Object.fromEntries(versions.map((v, i) => [v, i === 0 ? 10_000 - even * (versions.length - 1) : even]));
    await setTrafficWeights(db, { model: BENCH_MODEL, weights });
    for (let i = 0; i < 100; i++) {
      const served = (await gw.client.request('GET', '/v1/models')).body as { models: Array<{ versions: Array<{ weight: number }> }> };
      if (served.models[0]?.versions.filter((v) => v.weight > 0).length === versions.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const send = (i: number) => gw.send(rows[i % rows.length]!, i);
    const tenClosed = await closedLoop({ connections: opts.connections, durationMs: opts.durationS * 1000, send });
    const tenBefore = await latencyBuckets(gw.client, BENCH_MODEL);
    const tenOpen = await openLoop({ rate: opts.rate, durationMs: opts.durationS * 1000, send, maxInFlight: 256 });
    const tenServerP99 = quantileBetween(tenBefore, await latencyBuckets(gw.client, BENCH_MODEL), 0.99);
    const tenPeak = await peakRssMb(gateway.child.pid!);
    const { rows: recorded } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM predictions');
    gw.client.close();
    ml.client.close();

    const report = {
      command: `npx tsx bench/serving/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), loadAverageAtStart: Math.round(loadBefore * 100) / 100 },
      options: opts,
      sameModelMaxProbabilityDiff: maxDiff,
      gateway: gatewayOne,
      mlflow: baseline,
      throughputRatio: Math.round((best(gatewayOne) / best(baseline)) * 10) / 10,
      gatewayTenVersions: { versions: versions.length, closed: tenClosed, open: tenOpen, serverOpenP99Ms: tenServerP99, peakRssMb: tenPeak },
      predictionsRecorded: recorded[0]!.n,
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const row = (label: string, a: string | number, b: string | number, c = '') => process.stdout.write(`| ${label} | ${a} | ${b} | ${c} |\n`);
    const lat = (r: LoadResult) => `${r.latency.p50Ms} / ${r.latency.p99Ms}`;
    process.stdout.write(`\n| measure | gateway (${opts.threads} threads) | mlflow models serve (${opts.mlflowWorkers} workers) | ratio |\n|---|---|---|---|\n`);
    row(`closed loop, ${opts.connections} conns: req/s`, gatewayOne.closed.throughputRps, baseline.closed.throughputRps);
    row(`closed loop, ${opts.connections} conns: p50 / p99 ms`, lat(gatewayOne.closed), lat(baseline.closed));
    row(`closed loop, ${opts.saturate} conns: req/s`, gatewayOne.saturated.throughputRps, baseline.saturated.throughputRps);
    row(`closed loop, ${opts.saturate} conns: p50 / p99 ms`, lat(gatewayOne.saturated), lat(baseline.saturated));
    row('best throughput, req/s', best(gatewayOne), best(baseline), `${report.throughputRatio}×`);
    row(`open loop ${opts.rate} req/s: achieved req/s`, gatewayOne.open.throughputRps, baseline.open.throughputRps);
    row(`open loop ${opts.rate} req/s: p50 / p99 ms`, lat(gatewayOne.open), lat(baseline.open));
    row(`open loop ${opts.rate} req/s: gateway's own p99 (histogram bucket)`, `≤ ${gatewayOne.serverOpenP99Ms} ms`, '-');
    row(`open loop ${opts.rate} req/s: client's own schedule lag, max ms`, gatewayOne.open.maxScheduleLagMs ?? '-', baseline.open.maxScheduleLagMs ?? '-');
    row(`open loop ${opts.lowRate} req/s: p50 / p99 ms`, lat(gatewayOne.openLow), lat(baseline.openLow));
    const failed = (m: Measured) => m.closed.failed + m.saturated.failed + m.open.failed + m.openLow.failed;
    row('failed requests', failed(gatewayOne), failed(baseline));
    row('peak RSS MB (VmHWM; MLflow: sum over its processes)', gatewayOne.peakRssMb, baseline.peakRssMb);
    process.stdout.write(
      `\ngateway with ${versions.length} versions loaded, traffic split evenly: ${tenClosed.throughputRps} req/s closed loop (p99 ${tenClosed.latency.p99Ms} ms), ` +
        `p99 ${tenOpen.latency.p99Ms} ms at ${opts.rate} req/s (its own: ≤ ${tenServerP99} ms), peak RSS ${tenPeak} MB\n` +
        `predictions recorded in PostgreSQL: ${recorded[0]!.n}; same-model check max |Δp| = ${maxDiff}; load average at start ${report.machine.loadAverageAtStart}\n`,
    );
  } finally {
    for (const s of servers) await stopServer(s);
    await db.end();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench/serving: ${err.message}`);
    process.exit(1);
  },
);
