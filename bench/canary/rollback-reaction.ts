/**
 * Rollback reaction time of a CanaryRollout: from the moment the failing analysis has its data
 * (the collectRolloutMetrics activity completes) to (a) the rollback's weight change committed in
 * PostgreSQL (setTrafficWeights completes, from the workflow history) and (b) the gateway routing
 * the candidate at 0% (polled on the gateway's /v1/models). Aim: within one analysis interval + 2 s.
 * Runs on the real stack (`node bin/flywheel.mjs up --no-workers`): in-process workers on fresh task
 * queues, an in-process gateway, real HTTP traffic with the candidate made to fail (HTTP 500s).
 *
 *   npx tsx bench/canary/rollback-reaction.ts [--runs 3] [--interval 2]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import type { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities/index';
import { deployVersion } from '../../activities/deploy';
import { setFault } from '../../activities/traffic';
import { MlflowClient } from '../../clients/mlflow';
import { loadConfig } from '../../config/index';
import { loadDataset } from '../../datasets/load';
import { createGateway } from '../../serving/app';
import { createApiKey } from '../../clients/api-keys';
import { migrate } from '../../db/migrate';
import { JsonClient } from '../../traffic/http';
import { replay } from '../../traffic/replay';
import { WORKFLOWS_PATH } from '../../workers/workflow-worker-path';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, interval: { type: 'string', default: '2' } } });
const runs = Number(values.runs);
const intervalSeconds = Number(values.interval);
const base = loadConfig();
const suffix = randomUUID().slice(0, 8);
const config = { ...base, taskQueues: { ...base.taskQueues, workflows: `bench-wf-${suffix}`, cpu: `bench-cpu-${suffix}` } };
const model = `bench-rollback-${suffix}`;

const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
const workers = [
  await Worker.create({ connection: nativeConnection, taskQueue: config.taskQueues.workflows, workflowsPath: WORKFLOWS_PATH }),
  await Worker.create({ connection: nativeConnection, taskQueue: config.taskQueues.cpu, activities: createActivities(config, 'bench') }),
];
const running = workers.map((w) => w.run());
const connection = await Connection.connect({ address: config.temporal.address });
const client = new Client({ connection, namespace: config.temporal.namespace });
const db = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
const mlflow = new MlflowClient(config.mlflow);
const loaded = await loadDataset('builtin:iris');
if (!loaded.ok) throw new Error(loaded.error.message);

// A stable version and one candidate per run, all trained by the real pipeline.
for (let v = 1; v <= runs + 1; v++) {
  const h = await client.workflow.start('TrainingPipeline', {
    taskQueue: config.taskQueues.workflows,
    workflowId: `train-${model}-v${v}`,
    args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5 }, taskQueues: { cpu: config.taskQueues.cpu } }],
  });
  await h.result();
}
await deployVersion(db, mlflow, { model, version: '1' });
const gateway = await createGateway(config, { port: 0, logger: false });
const url = await gateway.listen();
await migrate(config.postgres.url);
const http = new JsonClient(url, 4, { apiKey: (await createApiKey(db, { name: 'bench-canary', scopes: ['predict'], expiresAt: new Date(Date.now() + 86_400_000) })).key });

const ms = (e: temporal.api.history.v1.IHistoryEvent) => Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;
const rows: Array<{ run: number; toWeights: number; toGateway: number; reason: string }> = [];
for (let r = 0; r < runs; r++) {
  const candidate = String(r + 2);
  await deployVersion(db, mlflow, { model, version: candidate });
  await setFault(db, { model, version: candidate, errorRate: 0.5 });
  const handle = await client.workflow.start('CanaryRollout', {
    taskQueue: config.taskQueues.workflows,
    workflowId: `canary-${model}-${r}`,
    args: [{ model, candidateVersion: candidate, stableVersion: '1', steps: [{ weight: 30, pauseSeconds: 30 }, { weight: 100, pauseSeconds: 0 }], analysis: { intervalSeconds, minSamplePerStep: 20 }, taskQueues: { cpu: config.taskQueues.cpu } }],
  });
  // Watch the gateway: when did it stop routing to the candidate after it had started to?
  let sawCandidate = false;
  let gatewayZeroAt = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const body = (await http.request('GET', '/v1/models')).body as { models: Array<{ model: string; versions: Array<{ version: string; weight: number }> }> };
      const w = body.models.find((m) => m.model === model)?.versions.find((v) => v.version === candidate)?.weight ?? 0;
      if (w > 0) sawCandidate = true;
      else if (sawCandidate && !gatewayZeroAt) gatewayZeroAt = performance.timeOrigin + performance.now();
      await new Promise((res) => setTimeout(res, 5));
    }
  })();
  let done = false;
  const result = handle.result().finally(() => (done = true));
  while (!done) await replay({ url, model, dataset: loaded.value.dataset, rate: 100, durationMs: 1000, labelDelayMs: 50, units: 300, seed: r * 100 });
  const outcome = (await result) as { outcome: string; reason: string };
  await new Promise((res) => setTimeout(res, 200));
  watching = false;
  await watcher;

  const { events } = await handle.fetchHistory();
  const scheduledType = new Map<string, string>();
  let failedAnalysisAt = 0;
  let weightsAt = 0;
  for (const e of events!) {
    if (e.activityTaskScheduledEventAttributes) scheduledType.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType!.name!);
    const c = e.activityTaskCompletedEventAttributes;
    if (!c) continue;
    const type = scheduledType.get(String(c.scheduledEventId));
    if (type === 'collectRolloutMetrics') failedAnalysisAt = ms(e); // the last one before the rollback is the failing one
    if (type === 'setTrafficWeights' && failedAnalysisAt) weightsAt = ms(e);
  }
  rows.push({ run: r + 1, toWeights: weightsAt - failedAnalysisAt, toGateway: gatewayZeroAt - failedAnalysisAt, reason: `${outcome.outcome}: ${outcome.reason}` });
}

console.log(`CanaryRollout rollback reaction, analysis interval ${intervalSeconds}s, ${runs} runs (candidate answering 50% HTTP 500s)`);
console.log('| run | failing analysis → weights committed (ms) | → gateway routing candidate at 0% (ms) | aim (ms) | outcome |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.run} | ${r.toWeights.toFixed(0)} | ${r.toGateway.toFixed(0)} | ${intervalSeconds * 1000 + 2000} | ${r.reason.slice(0, 90)} |`);
console.log(`| peak RSS of this process (workers + gateway + client), MB | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} | | | |`);

await gateway.close();
for (const w of workers) w.shutdown();
await Promise.all(running);
await connection.close();
await nativeConnection.close();
await db.end();
