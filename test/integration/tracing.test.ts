/**
 * OpenTelemetry tracing across processes, exported by OTLP over HTTP to a receiver in this test
 * (a real HTTP endpoint speaking OTLP/JSON, as a collector's `otlphttp` receiver does): a CLI
 * `flywheel train --wait` run with OTEL_EXPORTER_OTLP_ENDPOINT set must leave one trace through
 * the CLI, the workflow client, the workflow worker and the activity pools; a gateway request
 * with a caller's `traceparent` continues that caller's trace.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';
import { seedGatewayDatabase, FEATURES, type SeededDatabase } from './helpers/local-gateway';
import { testApiKey } from './helpers/auth';
import { spawnControlWorker, spawnCpuWorker, spawnUntilReady, type SpawnedWorker } from './helpers/processes';
import { freePort } from './helpers/tls';

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

let env: TestEnv;
let receiver: http.Server;
let endpoint: string;
const spans: ExportedSpan[] = [];
const processes: SpawnedWorker[] = [];
let seeded: SeededDatabase | undefined;

/** OTLP/JSON: resourceSpans → scopeSpans → spans, the service in the resource's attributes. */
function collect(body: string): void {
  const doc = JSON.parse(body) as {
    resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans?: Array<{ spans?: Array<Record<string, string>> }> }>;
  };
  for (const rs of doc.resourceSpans ?? []) {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) spans.push({ service, traceId: s.traceId!, spanId: s.spanId!, parentSpanId: s.parentSpanId || undefined, name: s.name! });
    }
  }
}

beforeAll(async () => {
  env = await openTestEnv('tracing');
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/traces') collect(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const workerEnv = {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows,
    FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu,
    FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control,
    FLYWHEEL_WORKFLOW_WORKER_METRICS_PORT: String(await freePort()),
    FLYWHEEL_CPU_WORKER_METRICS_PORT: String(await freePort()),
    FLYWHEEL_CONTROL_WORKER_METRICS_PORT: String(await freePort()),
  };
  processes.push(await spawnUntilReady('workflow worker', process.execPath, ['--import', 'tsx', 'workers/workflow-worker.ts'], workerEnv, 'worker ready'));
  processes.push(await spawnCpuWorker(workerEnv));
  processes.push(await spawnControlWorker(workerEnv));
}, 240_000);

afterAll(async () => {
  for (const p of processes) await p.kill('SIGTERM');
  await seeded?.drop();
  await env?.close();
  await new Promise((r) => receiver?.close(r));
});

function run(args: string[], extra: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...extra } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

async function until(ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
}

describe('OpenTelemetry tracing, exported by OTLP over HTTP', () => {
  it('one trace runs from the CLI command through the workflow to its activities, across four processes', async () => {
    const model = uniqueModelName('traced');
    const r = await run(['train', '--dataset', 'iris', '--model', model, '-p', 'epochs=5', '--wait', '--json'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows,
      FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu,
      FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control,
    });
    expect(r.code, r.out).toBe(0);
    const root = () => spans.find((s) => s.service === 'flywheel-cli' && s.name === 'flywheel train');
    const expected = ['flywheel-cli flywheel train', 'flywheel-cli StartWorkflow', 'workflow-worker RunWorkflow', 'workflow-worker StartActivity', 'cpu-worker RunActivity', 'control-worker RunActivity'];
    const namesInTrace = () => new Set(spans.filter((s) => s.traceId === root()?.traceId).map((s) => `${s.service} ${s.name.split(':')[0]}`));
    // Each process exports on its own batch interval, and the workflow's RunWorkflow span leaves the
    // worker through a sink after the workflow has completed (after the CLI's --wait returned): wait
    // for every expected span, not for the first activity's, before judging.
    await until(() => root() !== undefined && expected.every((n) => namesInTrace().has(n)));
    const trace = spans.filter((s) => s.traceId === root()?.traceId);
    expect([...namesInTrace()]).toEqual(expect.arrayContaining(expected));
    // Every span but the root has its parent in the same trace: nothing is orphaned across processes.
    const ids = new Set(trace.map((s) => s.spanId));
    expect(trace.filter((s) => s !== root() && !ids.has(s.parentSpanId ?? '')).map((s) => `${s.service} ${s.name}`)).toEqual([]);
    expect(trace.find((s) => s.name === 'RunWorkflow:TrainingPipeline')).toBeDefined();
  }, 240_000);

  it("a gateway request continues its caller's traceparent", async () => {
    seeded = await seedGatewayDatabase('tracing');
    const port = await freePort();
    const gateway = await spawnUntilReady(
      'gateway',
      process.execPath,
      ['--import', 'tsx', 'serving/main.ts'],
      { DATABASE_URL: seeded.url, FLYWHEEL_GATEWAY_PORT: String(port), FLYWHEEL_GATEWAY_THREADS: '1', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
      'gateway ready',
    );
    processes.push(gateway);
    const key = await testApiKey({ config: { ...env.config, postgres: { ...env.config.postgres, url: seeded.url } }, db: seeded.db }, 'tracing');
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const res = await fetch(`http://127.0.0.1:${port}/v1/models/${seeded.model}/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${parentId}-01` },
      body: JSON.stringify({ features: FEATURES }),
    });
    expect(res.status).toBe(200);
    await until(() => spans.some((s) => s.service === 'gateway' && s.traceId === traceId));
    const span = spans.find((s) => s.service === 'gateway' && s.traceId === traceId);
    expect(span).toMatchObject({ name: 'POST /v1/models/:model/predict', parentSpanId: parentId });
  }, 120_000);
});
