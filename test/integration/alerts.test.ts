/**
 * Alerting end to end on real parts: a real Prometheus (Debian's, with the configuration
 * `flywheel up` generates and the repository's rules, at a 1 s scrape and evaluation interval) scrapes
 * a real gateway (with a `metrics`-scope key) and a real control worker process; a real canary
 * rollout is aborted, the worker's rejectCandidate activity counts the rollback, and
 * FlywheelCanaryRolledBack reaches this test's webhook receiver through a real Alertmanager.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { PROJECT_ROOT } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import type { CanaryRolloutInput } from '../../lib/rollout/spec';
import { createGateway, type Gateway } from '../../serving/app';
import { abortUpdate, rolloutStatusQuery, type RolloutResult } from '../../workflows/canary-rollout';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';
import { eventually, freePort, MONITORING_INSTALLED, startMonitoring, type TestMonitoring } from './helpers/monitoring';
import { spawnControlWorker, type SpawnedWorker } from './helpers/processes';

interface WebhookAlert { status: string; labels: Record<string, string>; annotations: Record<string, string> }

let env: TestEnv;
let gateway: Gateway;
let worker: SpawnedWorker | undefined;
let monitoring: TestMonitoring | undefined;
let receiver: http.Server;
const received: WebhookAlert[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-alerts-'));
const model = uniqueModelName('alerts');
let prometheus = '';
let alertmanager = '';

describe.skipIf(!MONITORING_INSTALLED)('alerting through Prometheus and Alertmanager', () => {
  beforeAll(async () => {
    env = await openTestEnv('alerts');
    // Two real versions of one model; v1 serves, v2 is the canary that will be rolled back.
    await runWorkers(env, async () => {
      for (const v of [1, 2]) {
        await (
          await env.client.workflow.start('TrainingPipeline', {
            taskQueue: env.taskQueues.workflows,
            workflowId: `train-${model}-v${v}`,
            args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5, seed: v }, taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } }],
            typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
          })
        ).result();
      }
    });
    await deployVersion(env.db, env.mlflow, { model, version: '1' });
    gateway = await createGateway(env.config, { port: 0, logger: false });
    const gatewayUrl = await gateway.listen();

    // The control worker as its own process: its metrics endpoint is what Prometheus scrapes.
    const workerPort = await freePort();
    worker = await spawnControlWorker({ FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control, FLYWHEEL_CONTROL_WORKER_METRICS_PORT: String(workerPort) });

    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d)).on('end', () => {
        for (const a of (JSON.parse(body) as { alerts: WebhookAlert[] }).alerts) received.push(a);
        res.end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    const webhookUrl = `http://127.0.0.1:${(receiver.address() as net.AddressInfo).port}/alerts`;

    const keyFile = path.join(tmp, 'prometheus.key');
    fs.writeFileSync(keyFile, `${await testApiKey(env, 'alerts-prometheus', ['metrics'])}\n`, { mode: 0o600 });
    const config = {
      ...env.config,
      gateway: { ...env.config.gateway, url: gatewayUrl },
      metrics: { ...env.config.metrics, host: '127.0.0.1', controlWorkerPort: workerPort },
    };
    monitoring = await startMonitoring(config, { keyFile, webhookUrl });
    prometheus = monitoring.prometheus;
    alertmanager = monitoring.alertmanager;
  });

  afterAll(async () => {
    await monitoring?.close();
    await worker?.kill('SIGTERM');
    receiver?.close();
    await gateway?.close();
    await env?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const targetHealth = (job: string) => monitoring!.targetHealth(job, job === 'flywheel-workers' ? 'control-worker' : undefined);

  it('scrapes the gateway with its metrics key and the control worker', async () => {
    expect(await eventually(() => targetHealth('flywheel-gateway'))).toBe('up');
    expect(await eventually(() => targetHealth('flywheel-workers'))).toBe('up');
    const q = (await (await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(`flywheel_gateway_traffic_weight_ratio{model="${model}"}`)}`)).json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    expect(q.data.result.map((r) => [r.metric.version, r.value[1]])).toEqual([['1', '1']]);
  });

  it('a rolled-back canary fires FlywheelCanaryRolledBack through Alertmanager to the webhook', async () => {
    const before = received.filter((a) => a.labels.alertname === 'FlywheelCanaryRolledBack' && a.labels.model === model);
    expect(before).toEqual([]);
    const input: CanaryRolloutInput = {
      model,
      candidateVersion: '2',
      steps: [{ weight: 10, pauseSeconds: 600 }, { weight: 100, pauseSeconds: 0 }],
      analysis: { intervalSeconds: 1, minSamplePerStep: 30, minLabelledSample: 20, inconclusiveLimit: 1000 },
      taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control },
    };
    // Only the spawned control worker runs the rollout's activities: its counter is the one scraped.
    const result = await runWorkers(
      env,
      async () => {
        const handle = await env.client.workflow.start('CanaryRollout', { taskQueue: env.taskQueues.workflows, workflowId: `canary-${model}`, args: [input] });
        await eventually(async () => ((await handle.query(rolloutStatusQuery)).decisions.some((d) => d.action === "step") ? true : undefined));
        await handle.executeUpdate(abortUpdate, { args: ['alerting test: roll it back'] });
        return (await handle.result()) as RolloutResult;
      },
      { activities: false },
    );
    expect(result).toMatchObject({ outcome: 'rolled-back', candidateVersion: '2' });

    // The worker that rolled it back logged it: one JSON line with the reason, the model, and the
    // workflow and run it belongs to (added by the SDK's activity logger).
    // (Its output reaches this process through a pipe, possibly after the workflow's result.)
    const rolledBackLines = () => worker!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'canary rolled back');
    await eventually(async () => (rolledBackLines().length > 0 ? true : undefined), 20);
    expect(rolledBackLines(), worker!.output().slice(-3000)).toEqual([
      expect.objectContaining({
        level: 'warn',
        event: 'canary rolled back',
        model,
        version: '2',
        reason: 'alerting test: roll it back',
        workflowId: `canary-${model}`,
        workflowRunId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        activityType: 'rejectCandidate',
      }),
    ]);

    const fired = await eventually(async () => received.find((a) => a.labels.alertname === 'FlywheelCanaryRolledBack' && a.labels.model === model));
    expect(fired, `no alert reached the webhook; Prometheus and Alertmanager logs in ${monitoring!.dir}`).toMatchObject({
      status: 'firing',
      labels: { alertname: 'FlywheelCanaryRolledBack', model, version: '2', severity: 'warn' },
      annotations: { summary: `the canary of ${model} v2 was rolled back` },
    });
    expect(fired!.annotations.runbook).toContain(`flywheel canary status ${model}`);
    // Alertmanager itself holds it too (what its UI shows).
    const held = (await (await fetch(`${alertmanager}/api/v2/alerts?filter=${encodeURIComponent(`model="${model}"`)}`)).json()) as Array<{ labels: Record<string, string> }>;
    expect(held.map((a) => a.labels.alertname)).toContain('FlywheelCanaryRolledBack');

    // `flywheel doctor` shows it too, with its runbook, from the same Alertmanager.
    const amPort = new URL(alertmanager).port;
    const doctor = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/flywheel.mjs', 'doctor', '-m', model, '--json'], { cwd: PROJECT_ROOT, env: { ...process.env, FLYWHEEL_ALERTMANAGER_PORT: amPort } });
      let stdout = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
    });
    expect(doctor.code, doctor.stdout).toBe(0);
    const report = JSON.parse(doctor.stdout) as { alertmanager: string; alerts: Array<{ alert: string; subject: string; runbook: string }> };
    expect(report.alertmanager).toBe('ok');
    expect(report.alerts).toEqual([expect.objectContaining({ alert: 'FlywheelCanaryRolledBack', subject: `${model} v2`, runbook: fired!.annotations.runbook })]);
  });

  it('the Temporal metrics the rules read exist under those names (SDK on the worker, server on the dev server)', async () => {
    const series = async (selector: string) =>
      ((await (await fetch(`${prometheus}/api/v1/series?match[]=${encodeURIComponent(selector)}`)).json()) as { data: Array<Record<string, string>> }).data;
    const queue = env.taskQueues.control;
    // Scraped once the rollout's activities ran on the spawned worker.
    expect(await eventually(async () => ((await series(`temporal_activity_schedule_to_start_latency_seconds_bucket{task_queue="${queue}"}`)).length > 0 ? true : undefined), 60)).toBe(true);
    expect((await series(`temporal_num_pollers{task_queue="${queue}",poller_type="activity_task"}`)).length).toBeGreaterThan(0);
    const temporal = await eventually(() => targetHealth('temporal'), 20);
    if (temporal !== 'up') {
      // A dev server started before `flywheel up` passed --metrics-port has no endpoint: say so, do not fail.
      console.warn(`the stack's Temporal serves no metrics (${temporal ?? 'no target'}): restart it with \`flywheel down && flywheel up\` to check history_count/history_size`);
      return;
    }
    expect(await eventually(async () => ((await series('history_count_bucket')).length > 0 && (await series('history_size_bucket')).length > 0 ? true : undefined), 20)).toBe(true);
  });
});
