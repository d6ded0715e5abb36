/**
 * Every PromQL expression of the Grafana dashboards in config/grafana/dashboards/ against a real
 * Prometheus (the configuration `flywheel up` renders, 1 s scrapes) that scrapes a real gateway and
 * the three TypeScript workers as processes of their own. The test makes the traffic the panels
 * show: two trainings, a small hyperparameter search, predictions (single and batch), labels, a bad
 * request and a refused key, a drift monitor reading those labels, and a canary rolled back.
 *
 * Each expression must parse (Prometheus answers `success`), and must return series unless it is in
 * EMPTY_HERE with the reason this run cannot produce it. Expressions that read the stack's own
 * Temporal server or exporters need those targets up (`flywheel up` without --no-monitoring); when
 * one is down the test says so and checks those expressions parse only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { PROJECT_ROOT } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import { dashboardQueries, expandVariables, variableMetrics, type DashboardQuery } from '../../lib/metrics/dashboards';
import type { HyperparameterSearchInput } from '../../lib/pipeline/search-input';
import type { DriftMonitorInput } from '../../lib/retraining/spec';
import type { CanaryRolloutInput } from '../../lib/rollout/spec';
import { createGateway, type Gateway } from '../../serving/app';
import { replay } from '../../traffic/replay';
import { abortUpdate, rolloutStatusQuery } from '../../workflows/canary-rollout';
import { driftStatusQuery, stopSignal } from '../../workflows/drift-monitor';
import { testApiKey } from './helpers/auth';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';
import { eventually, freePort, MONITORING_INSTALLED, startMonitoring, type TestMonitoring } from './helpers/monitoring';
import { spawnControlWorker, spawnCpuWorker, spawnUntilReady, type SpawnedWorker } from './helpers/processes';

const DIR = path.join(PROJECT_ROOT, 'config', 'grafana', 'dashboards');
const dashboards = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')));

/** Metrics this run cannot produce, and why: an expression reading one may come back empty. */
const EMPTY_HERE: Record<string, string> = {
  flywheel_drift_events_total: 'needs a planted drift (test/integration/drift.test.ts)',
  flywheel_retrainings_finished_total: 'needs a drift-started retraining (test/integration/retraining.test.ts)',
};
/** Metrics from targets of the stack rather than of this test, by the job that serves them. */
const STACK_JOBS: Record<string, RegExp> = { temporal: /\bhistory_(count|size)_bucket\b/, postgres: /\bpg_\w+/, node: /\bnode_\w+/ };

let env: TestEnv;
let gateway: Gateway;
let monitoring: TestMonitoring | undefined;
const workers: SpawnedWorker[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-dashboards-'));
const model = uniqueModelName('dash');

async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
  return (await (await fetch(`${monitoring!.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; error?: string; data?: { result: unknown[] } };
}

describe.skipIf(!MONITORING_INSTALLED)('Grafana dashboards against a real Prometheus', () => {
  beforeAll(async () => {
    env = await openTestEnv('dashboards');
    const ports = { workflow: await freePort(), cpu: await freePort(), control: await freePort() };
    const workerEnv = {
      FLYWHEEL_METRICS_HOST: '127.0.0.1',
      FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows,
      FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu,
      FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control,
      FLYWHEEL_WORKFLOW_WORKER_METRICS_PORT: String(ports.workflow),
      FLYWHEEL_CPU_WORKER_METRICS_PORT: String(ports.cpu),
      FLYWHEEL_CONTROL_WORKER_METRICS_PORT: String(ports.control),
    };
    // One at a time: the machine is small and the workflow worker bundles its code first.
    workers.push(await spawnUntilReady('workflow worker', process.execPath, ['--import', 'tsx', 'workers/workflow-worker.ts'], workerEnv, 'worker ready'));
    workers.push(await spawnCpuWorker(workerEnv));
    workers.push(await spawnControlWorker(workerEnv));

    gateway = await createGateway(env.config, { port: 0, logger: false });
    const gatewayUrl = await gateway.listen();
    const keyFile = path.join(tmp, 'prometheus.key');
    fs.writeFileSync(keyFile, `${await testApiKey(env, 'dashboards-prometheus', ['metrics'])}\n`, { mode: 0o600 });
    monitoring = await startMonitoring(
      {
        ...env.config,
        gateway: { ...env.config.gateway, url: gatewayUrl },
        metrics: { ...env.config.metrics, host: '127.0.0.1', workflowWorkerPort: ports.workflow, cpuWorkerPort: ports.cpu, controlWorkerPort: ports.control },
      },
      { keyFile },
    );

    const taskQueues = { cpu: env.taskQueues.cpu, control: env.taskQueues.control };
    const start = (type: string, workflowId: string, arg: unknown) =>
      env.client.workflow.start(type, { taskQueue: env.taskQueues.workflows, workflowId, args: [arg], typedSearchAttributes: [{ key: MODEL_NAME, value: model }] });
    for (const v of [1, 2]) {
      await (await start('TrainingPipeline', `train-${model}-v${v}`, { model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5, seed: v }, taskQueues })).result();
    }
    const search: HyperparameterSearchInput = {
      model,
      dataset: 'builtin:iris',
      family: 'softmax-regression',
      space: { learningRate: { type: 'float', low: 0.01, high: 1, log: true } },
      fixed: { epochs: 20 },
      sampler: 'random',
      pruner: 'none',
      trials: 2,
      parallel: 1,
      trainBest: false,
      taskQueues,
    };
    await (await start('HyperparameterSearch', `hpo-${model}`, search)).result();

    await deployVersion(env.db, env.mlflow, { model, version: '1' });
    const apiKey = await testApiKey(env, 'dashboards');
    const loaded = await loadDataset('builtin:iris');
    if (!loaded.ok) throw new Error(loaded.error.message);
    const dataset = loaded.value.dataset;

    // The drift monitor reads labels given after it opened: open it first.
    const monitorInput: DriftMonitorInput = {
      model,
      retraining: { dataset: 'builtin:iris', hyperparameters: { epochs: 100, learningRate: 0.5 }, margin: 0.01, canary: { steps: [{ weight: 50, pauseSeconds: 600 }, { weight: 100, pauseSeconds: 0 }] } },
      pollSeconds: 0.5,
      settleSeconds: 0,
      taskQueues,
    };
    const monitor = await start('DriftMonitor', `drift-${model}`, monitorInput);
    await eventually(async () => ((await monitor.query(driftStatusQuery)).lastPollAt ? true : undefined), 120);
    const sent = await replay({ url: gatewayUrl, apiKey, model, dataset, rate: 50, durationMs: 3000, labelDelayMs: 20, units: 50, seed: 1 });
    expect(sent.feedback.ok).toBeGreaterThan(0);
    await eventually(async () => ((await monitor.query(driftStatusQuery)).samples > 0 ? true : undefined), 120);
    await monitor.signal(stopSignal, 'dashboards test done');
    await monitor.result();

    // A batch, a request for a model that is not deployed, and one without a key.
    // Each answer names its request id (the caller's, or a new one), as the gateway's log lines do.
    const post = (url: string, body: unknown, key?: string, requestId?: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...(requestId ? { 'x-request-id': requestId } : {}) }, body: JSON.stringify(body) });
    const row = Array.from(dataset.x.subarray(0, dataset.nFeatures));
    const batch = await post(`${gatewayUrl}/v1/models/${model}/predict`, { instances: [row, row, row] }, apiKey, `${model}-batch`);
    expect([batch.status, batch.headers.get('x-request-id')]).toEqual([200, `${model}-batch`]);
    expect((await post(`${gatewayUrl}/v1/models/${model}-absent/predict`, { features: row }, apiKey)).status).toBe(404);
    const refused = await post(`${gatewayUrl}/v1/models/${model}/predict`, { features: row });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    // A canary of v2, rolled back once its first step took effect.
    const rollout: CanaryRolloutInput = {
      model,
      candidateVersion: '2',
      steps: [{ weight: 10, pauseSeconds: 600 }, { weight: 100, pauseSeconds: 0 }],
      analysis: { intervalSeconds: 1, minSamplePerStep: 30, minLabelledSample: 20, inconclusiveLimit: 1000 },
      taskQueues,
    };
    const canary = await start('CanaryRollout', `canary-${model}`, rollout);
    await eventually(async () => ((await canary.query(rolloutStatusQuery)).decisions.some((d) => d.action === 'step') ? true : undefined));
    await canary.executeUpdate(abortUpdate, { args: ['dashboards test: roll it back'] });
    await canary.result();
  });

  afterAll(async () => {
    await monitoring?.close();
    for (const w of workers) await w.kill('SIGTERM');
    await gateway?.close();
    await env?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('scrapes the gateway and the three workers', async () => {
    expect(await eventually(() => monitoring!.targetHealth('flywheel-gateway'))).toBe('up');
    for (const worker of ['workflow-worker', 'cpu-worker', 'control-worker']) expect(await eventually(() => monitoring!.targetHealth('flywheel-workers', worker)), worker).toBe('up');
  });

  it('the workflow worker logged the canary\'s decisions as JSON lines with workflow id, run id and model', async () => {
    const decisions = () =>
      workers[0]!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'canary decision' && l.model === model);
    await eventually(async () => (decisions().some((d) => d.action === 'rollback') ? true : undefined), 20);
    const rollback = decisions().filter((d) => d.action === 'rollback');
    expect(rollback, workers[0]!.output().slice(-3000)).toEqual([
      expect.objectContaining({ level: 'warn', event: 'canary rollback', workflowId: `canary-${model}`, runId: expect.stringMatching(/^[0-9a-f-]{36}$/), workflowType: 'CanaryRollout', candidateVersion: '2', reason: expect.stringContaining('dashboards test: roll it back') }),
    ]);
    expect(decisions().map((d) => d.action).slice(0, 2)).toEqual(['deploy', 'step']);
  });

  it('every dashboard variable reads a metric that has this model', async () => {
    const vars = dashboards.flatMap((d) => variableMetrics(d));
    expect(vars.length).toBeGreaterThan(0);
    for (const v of vars) {
      const found = await eventually(async () => ((await query(`count(${v.metric}{${v.label}="${model}"})`)).data?.result.length ? true : undefined), 60);
      expect(found, `${v.name}: ${v.metric}`).toBe(true);
    }
  });

  it('every panel expression parses and returns series for the traffic this test made', async () => {
    const down: string[] = [];
    for (const job of Object.keys(STACK_JOBS)) {
      const health = await eventually(() => monitoring!.targetHealth(job), 20);
      if (health !== 'up') down.push(job);
    }
    if (down.length) console.warn(`stack targets not up (${down.join(', ')}): their panels are checked to parse only; run \`flywheel up\` with monitoring`);

    const queries: DashboardQuery[] = dashboards.flatMap((d) => dashboardQueries(d));
    expect(queries.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const q of queries) {
      // The model variable is set to this test's model, so the filter itself is checked too.
      const expr = expandVariables(q.expr, { model, DS_PROMETHEUS: 'prometheus' }, '10m', '1h');
      const where = `${q.dashboard} / ${q.panel} / ${q.refId}: ${expr}`;
      const first = await query(expr);
      if (first.status !== 'success') {
        failures.push(`does not parse: ${where}: ${first.error}`);
        continue;
      }
      const mayBeEmpty = Object.keys(EMPTY_HERE).some((m) => expr.includes(m)) || Object.entries(STACK_JOBS).some(([job, re]) => down.includes(job) && re.test(expr));
      if (mayBeEmpty) continue;
      const series = await eventually(async () => ((await query(expr)).data?.result.length ? true : undefined), 60);
      if (!series) failures.push(`no series: ${where}`);
    }
    expect(failures, `Prometheus data in ${monitoring!.dir}`).toEqual([]);
  });
});
