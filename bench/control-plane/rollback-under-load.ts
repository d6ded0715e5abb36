/**
 * A failing canary's rollback while trainings saturate the CPU pool, before and after the control
 * queue. A rollout holds its candidate at 50% and passes its analyses; two TrainingPipelines then
 * take both slots of a 2-slot CPU worker (as `flywheel hpo --parallel 2` does); once both are
 * training, the candidate starts answering 50% HTTP 500s. Measured: fault → rollback weights
 * committed in PostgreSQL (the workflow history's setTrafficWeights completion) and → the gateway
 * routing the candidate at 0%, plus the longest wait an analysis look had for a worker slot.
 *   shared:  the rollout's input names only `cpu` (as on main): looks wait for a training to end.
 *   control: the input names the control queue, served by its own worker and slots.
 * Aim: within one analysis interval + 2 s of the fault. Runs on the real stack
 * (`node bin/flywheel.mjs up --no-workers`) with in-process workers on fresh task queues.
 *
 *   npx tsx bench/control-plane/rollback-under-load.ts [--interval 2] [--epochs 150] [--rows 200000] [--modes shared,control]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import type { temporal } from '@temporalio/proto';
import { createActivities } from '../../activities/index';
import { deployVersion } from '../../activities/deploy';
import { setFault } from '../../activities/traffic';
import { MlflowClient } from '../../clients/mlflow';
import { loadConfig } from '../../config/index';
import { loadDataset } from '../../datasets/load';
import type { CanaryRolloutInput } from '../../lib/rollout/spec';
import { createGateway } from '../../serving/app';
import { createApiKey } from '../../clients/api-keys';
import { migrate } from '../../db/migrate';
import { JsonClient } from '../../traffic/http';
import { replay } from '../../traffic/replay';
import { rolloutStatusQuery } from '../../workflows/canary-rollout';
import { statusQuery as trainingStatusQuery } from '../../workflows/training-pipeline';
import { WORKFLOWS_PATH } from '../../workers/workflow-worker-path';

const { values } = parseArgs({
  options: {
    interval: { type: 'string', default: '2' },
    epochs: { type: 'string', default: '150' },
    rows: { type: 'string', default: '200000' },
    modes: { type: 'string', default: 'shared,control' },
  },
});
const intervalSeconds = Number(values.interval);
const modes = values.modes!.split(',') as Array<'shared' | 'control'>;
const CPU_SLOTS = 2; // the CPU pool's default (FLYWHEEL_CPU_MAX_CONCURRENT_ACTIVITIES)
const base = loadConfig();
const suffix = randomUUID().slice(0, 8);
const queues = { workflows: `bench-wf-${suffix}`, cpu: `bench-cpu-${suffix}`, control: `bench-control-${suffix}` };
const config = { ...base, taskQueues: { ...base.taskQueues, ...queues } };
const model = `bench-underload-${suffix}`;
const queuesFor = (mode: 'shared' | 'control') => (mode === 'shared' ? { cpu: queues.cpu } : { cpu: queues.cpu, control: queues.control });

const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
const activities = createActivities(config, 'bench');
const workers = [
  await Worker.create({ connection: nativeConnection, taskQueue: queues.workflows, workflowsPath: WORKFLOWS_PATH }),
  await Worker.create({ connection: nativeConnection, taskQueue: queues.cpu, activities, maxConcurrentActivityTaskExecutions: CPU_SLOTS }),
  await Worker.create({ connection: nativeConnection, taskQueue: queues.control, activities, maxConcurrentActivityTaskExecutions: config.controlWorker.maxConcurrentActivities }),
];
const running = workers.map((w) => w.run());
const connection = await Connection.connect({ address: config.temporal.address });
const client = new Client({ connection, namespace: config.temporal.namespace });
const db = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
const mlflow = new MlflowClient(config.mlflow);
const loaded = await loadDataset('builtin:iris');
if (!loaded.ok) throw new Error(loaded.error.message);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The stable version and one candidate per mode, trained by the real pipeline on an idle pool.
for (let v = 1; v <= modes.length + 1; v++) {
  const h = await client.workflow.start('TrainingPipeline', {
    taskQueue: queues.workflows,
    workflowId: `train-${model}-v${v}`,
    args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5 }, taskQueues: queuesFor('control') }],
  });
  await h.result();
}
await deployVersion(db, mlflow, { model, version: '1' });
const gateway = await createGateway(config, { port: 0, logger: false });
const url = await gateway.listen();
await migrate(config.postgres.url);
// The gateway asks who is calling: one key for the probe and the replayed traffic.
const apiKey = (await createApiKey(db, { name: 'bench-control-plane', scopes: ['predict', 'feedback'], expiresAt: new Date(Date.now() + 86_400_000) })).key;
const http = new JsonClient(url, 4, { apiKey });

// Traffic for the whole run: the analysis judges what the gateway served.
let trafficOn = true;
const traffic = (async () => {
  for (let seed = 0; trafficOn; seed++) await replay({ url, apiKey, model, dataset: loaded.value.dataset, rate: 100, durationMs: 1000, labelDelayMs: 50, units: 300, seed });
})();

const ms = (e: temporal.api.history.v1.IHistoryEvent) => Number(e.eventTime!.seconds) * 1000 + e.eventTime!.nanos! / 1e6;
const candidateWeight = async (candidate: string) => {
  const body = (await http.request('GET', '/v1/models')).body as { models: Array<{ model: string; versions: Array<{ version: string; weight: number }> }> };
  return body.models.find((m) => m.model === model)?.versions.find((v) => v.version === candidate)?.weight ?? 0;
};

interface Row {
  mode: string;
  toWeights: number;
  toGateway: number;
  lookToWeights: number;
  longestLookWait: number;
  trainingsBusyAtFault: number;
  trainingsRunningAtRollback: number;
  outcome: string;
}
const rows: Row[] = [];
for (const [m, mode] of modes.entries()) {
  const candidate = String(m + 2);
  const input: CanaryRolloutInput = {
    model,
    candidateVersion: candidate,
    stableVersion: '1',
    // Held at 50% far longer than the run: only the injected fault ends this rollout.
    steps: [{ weight: 50, pauseSeconds: 3600 }, { weight: 100, pauseSeconds: 0 }],
    // Error rate only: CPU-starved latencies must not fail the candidate before the fault does.
    analysis: { intervalSeconds, minSamplePerStep: 20, inconclusiveLimit: 10_000, metrics: [{ metric: 'errorRate', maxAbsolute: 0.05, judge: 'two-proportion' }] },
    taskQueues: queuesFor(mode),
  };
  const rollout = await client.workflow.start('CanaryRollout', { taskQueue: queues.workflows, workflowId: `canary-${model}-${mode}`, args: [input] });
  // At 50% with a passing analysis before any training starts.
  for (;;) {
    const s = await rollout.query(rolloutStatusQuery);
    if (s.step >= 1 && s.analyses.some((a) => a.verdict === 'pass')) break;
    if (s.state !== 'progressing') throw new Error(`rollout ${mode} ended early: ${s.state} ${JSON.stringify(s.decisions.at(-1))}`);
    await sleep(200);
  }
  // Two trainings take both CPU slots.
  const trainings: WorkflowHandle[] = [];
  for (let t = 0; t < CPU_SLOTS; t++) {
    trainings.push(
      await client.workflow.start('TrainingPipeline', {
        taskQueue: queues.workflows,
        workflowId: `train-${model}-load-${mode}-${t}`,
        args: [{ model: `${model}-load`, dataset: `synthetic:rows=${values.rows},features=20,classes=3,seed=${t + 1}`, family: 'softmax-regression', hyperparameters: { epochs: Number(values.epochs), batchSize: 1, learningRate: 0.01 }, taskQueues: queuesFor(mode) }],
      }),
    );
  }
  let busy = 0;
  for (let i = 0; i < 3000 && busy < CPU_SLOTS; i++) {
    busy = 0;
    for (const h of trainings) {
      const s = await h.query(trainingStatusQuery);
      if (s.stage === 'train' && (s.progress?.epoch ?? 0) >= 1) busy++;
    }
    await sleep(200);
  }
  const faultAt = Date.now();
  await setFault(db, { model, version: candidate, errorRate: 0.5 });
  // Watch the gateway until it routes nothing to the candidate (or the rollout ended without that).
  let endedAt = 0;
  const ended = rollout.result().finally(() => (endedAt = Date.now()));
  let gatewayZeroAt = 0;
  while (!gatewayZeroAt && !(endedAt && Date.now() - endedAt > 10_000)) {
    if ((await candidateWeight(candidate)) === 0) gatewayZeroAt = Date.now();
    else await sleep(20);
  }
  const result = (await ended) as { outcome: string; reason: string };
  const trainingsStillRunning = (await Promise.all(trainings.map((h) => h.describe()))).filter((d) => d.status.name === 'RUNNING').length;
  for (const h of trainings) await h.terminate('benchmark: rollback measured').catch(() => undefined);
  await setFault(db, { model, version: candidate, errorRate: 0 });

  const { events } = await rollout.fetchHistory();
  const scheduled = new Map<string, { type: string; at: number }>();
  let failedLookAt = 0;
  let weightsAt = 0;
  let longestLookWait = 0;
  for (const e of events!) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(e.eventId), { type: s.activityType!.name!, at: ms(e) });
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const sch = scheduled.get(String(st.scheduledEventId))!;
      if (sch.type === 'collectRolloutMetrics' && ms(e) >= faultAt) longestLookWait = Math.max(longestLookWait, ms(e) - sch.at);
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (!c) continue;
    const type = scheduled.get(String(c.scheduledEventId))!.type;
    if (type === 'collectRolloutMetrics') failedLookAt = ms(e); // the last look before the rollback is the failing one
    if (type === 'setTrafficWeights' && ms(e) >= faultAt) weightsAt = ms(e);
  }
  rows.push({
    mode,
    toWeights: weightsAt - faultAt,
    toGateway: gatewayZeroAt ? gatewayZeroAt - faultAt : NaN,
    lookToWeights: weightsAt - failedLookAt,
    longestLookWait,
    trainingsBusyAtFault: busy,
    trainingsRunningAtRollback: trainingsStillRunning,
    outcome: `${result.outcome}: ${result.reason}`,
  });
}
trafficOn = false;
await traffic;

console.log(`Rollback under load: candidate at 50%, analysis interval ${intervalSeconds}s, ${CPU_SLOTS} trainings (synthetic ${values.rows}×20, ${values.epochs} epochs, batch 1) on a ${CPU_SLOTS}-slot CPU pool; fault = 50% HTTP 500s`);
console.log('| queues | fault → rollback weights committed (ms) | fault → gateway at 0% (ms) | failing look → weights (ms) | longest look wait for a slot (ms) | trainings training at fault | trainings still running at rollback | aim (ms) | outcome |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.mode} | ${r.toWeights.toFixed(0)} | ${r.toGateway.toFixed(0)} | ${r.lookToWeights.toFixed(0)} | ${r.longestLookWait.toFixed(0)} | ${r.trainingsBusyAtFault} | ${r.trainingsRunningAtRollback} | ${intervalSeconds * 1000 + 2000} | ${r.outcome.slice(0, 80)} |`,
  );
}

await gateway.close();
for (const w of workers) w.shutdown();
await Promise.all(running);
await connection.close();
await nativeConnection.close();
await db.end();
// Exit explicitly: terminated trainings' threads or keep-alive sockets can hold the event loop open.
process.exit(0);
