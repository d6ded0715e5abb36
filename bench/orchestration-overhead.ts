/**
 * Orchestration overhead of the TrainingPipeline: workflow wall time minus the time spent inside
 * activities, per activity, measured from real Temporal histories (dev server, PostgreSQL, MLflow;
 * the stack must be up: `node bin/flywheel.mjs up --no-workers`). Baseline, side by side: the same
 * work's time inside activities, i.e. what a plain script calling the steps in sequence would pay.
 *
 *   npx tsx bench/orchestration-overhead.ts [--runs 10] [--dataset builtin:iris] [--epochs 20]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../config/index';
import { createActivities } from '../activities/index';
import { WORKFLOWS_PATH } from '../workers/workflow-worker-path';
import type { temporal } from '@temporalio/proto';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, dataset: { type: 'string', default: 'builtin:iris' }, epochs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const base = loadConfig();
const suffix = randomUUID().slice(0, 8);
const config = { ...base, taskQueues: { ...base.taskQueues, workflows: `bench-wf-${suffix}`, cpu: `bench-cpu-${suffix}` } };

const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
const workflowWorker = await Worker.create({ connection: nativeConnection, taskQueue: config.taskQueues.workflows, workflowsPath: WORKFLOWS_PATH });
const activityWorker = await Worker.create({ connection: nativeConnection, taskQueue: config.taskQueues.cpu, activities: createActivities(config, 'bench') });
const running = [workflowWorker.run(), activityWorker.run()];
const connection = await Connection.connect({ address: config.temporal.address });
const client = new Client({ connection, namespace: config.temporal.namespace });

const ms = (t: temporal.api.history.v1.IHistoryEvent) => Number(t.eventTime!.seconds) * 1000 + Math.floor(t.eventTime!.nanos! / 1e6);
const rows: { wall: number; inActivities: number; activities: number; overheadPerActivity: number }[] = [];
// One warm-up run: the first workflow task pays for creating the V8 context and loading code.
for (let i = -1; i < runs; i++) {
  const model = `bench-overhead-${suffix}-${i + 1}`;
  const handle = await client.workflow.start('TrainingPipeline', {
    taskQueue: config.taskQueues.workflows,
    workflowId: `train-${model}`,
    args: [{ model, dataset: values.dataset, family: 'softmax-regression', hyperparameters: { epochs: Number(values.epochs) }, taskQueues: { cpu: config.taskQueues.cpu } }],
  });
  await handle.result();
  const { events } = await handle.fetchHistory();
  if (i < 0) continue;
  const started = new Map<number, number>();
  let inActivities = 0;
  let activities = 0;
  for (const e of events!) {
    if (e.activityTaskStartedEventAttributes) started.set(Number(e.eventId), ms(e));
    if (e.activityTaskCompletedEventAttributes) {
      inActivities += ms(e) - started.get(Number(e.activityTaskCompletedEventAttributes.startedEventId))!;
      activities++;
    }
  }
  const wall = ms(events![events!.length - 1]!) - ms(events![0]!);
  rows.push({ wall, inActivities, activities, overheadPerActivity: (wall - inActivities) / activities });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p = (f: (r: (typeof rows)[number]) => number) => median(rows.map(f)).toFixed(1);
console.log(`TrainingPipeline on ${values.dataset}, ${values.epochs} epochs, ${runs} runs (medians), Temporal dev server at ${config.temporal.address}`);
console.log('| measure | median |');
console.log('| --- | --- |');
console.log(`| workflow wall time (ms) | ${p((r) => r.wall)} |`);
console.log(`| baseline: time inside the ${rows[0]!.activities} activities, as a plain script would spend it (ms) | ${p((r) => r.inActivities)} |`);
console.log(`| orchestration overhead (ms) | ${p((r) => r.wall - r.inActivities)} |`);
console.log(`| overhead per activity (ms) | ${p((r) => r.overheadPerActivity)} |`);
console.log(`| wall / baseline | ${(median(rows.map((r) => r.wall)) / median(rows.map((r) => r.inActivities))).toFixed(2)}× |`);
console.log(`| peak RSS of this process, workers included (MB) | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} |`);

workflowWorker.shutdown();
activityWorker.shutdown();
await Promise.all(running);
await connection.close();
await nativeConnection.close();
