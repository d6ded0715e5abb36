/**
 * Orchestration overhead of the TrainingPipeline: workflow wall time minus the time spent inside
 * activities, per activity, measured from real Temporal histories (dev server, PostgreSQL, MLflow;
 * the stack must be up: `node bin/flywheel.mjs up --no-workers`). The workflow worker and the CPU
 * worker run as their own processes, as in production (run in this one process they share an event
 * loop with the client, and every task hop waits ~40 ms more). Baseline, side by side: the same
 * work's time inside activities, i.e. what a plain script calling the steps in sequence would pay.
 * Pipelines are started by the CLI, as users start them: a harness that starts them with a client
 * in this process and only awaits the result measured ~40 ms more per task hop (not understood yet).
 *
 *   npx tsx bench/orchestration-overhead.ts [--runs 10] [--dataset builtin:iris] [--epochs 20]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { loadConfig, PROJECT_ROOT } from '../config/index';
import { peakRssMb, startWorkerProcess } from './worker-process';
import type { temporal } from '@temporalio/proto';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    dataset: { type: 'string', default: 'builtin:iris' },
    epochs: { type: 'string', default: '20' },
    // Use the workers `flywheel up` started, on the configured task queues, instead of fresh ones.
    'running-workers': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const base = loadConfig();
const suffix = randomUUID().slice(0, 8);
const config = values['running-workers'] ? base : { ...base, taskQueues: { ...base.taskQueues, workflows: `bench-wf-${suffix}`, cpu: `bench-cpu-${suffix}` } };

const workerEnv = { FLYWHEEL_TASK_QUEUE_WORKFLOWS: config.taskQueues.workflows, FLYWHEEL_TASK_QUEUE_CPU: config.taskQueues.cpu };
const workers = values['running-workers'] ? [] : [await startWorkerProcess('workers/workflow-worker.ts', workerEnv), await startWorkerProcess('workers/cpu-worker.ts', workerEnv)];
const connection = await Connection.connect({ address: config.temporal.address });
const client = new Client({ connection, namespace: config.temporal.namespace });

const ms = (t: temporal.api.history.v1.IHistoryEvent) => Number(t.eventTime!.seconds) * 1000 + Math.floor(t.eventTime!.nanos! / 1e6);
const rows: { wall: number; inActivities: number; activities: number; overheadPerActivity: number }[] = [];
// Each pipeline is started the way users start it: `flywheel train --wait --json`, a process of its
// own (its live status polling included). One warm-up run first: the first workflow task pays for
// creating the V8 context and loading the workflow code.
const cliEnv = { ...process.env, FLYWHEEL_TASK_QUEUE_WORKFLOWS: config.taskQueues.workflows, FLYWHEEL_TASK_QUEUE_CPU: config.taskQueues.cpu };
function trainViaCli(model: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', 'train', '-d', values.dataset!, '-m', model, '-p', `epochs=${values.epochs}`, '--wait', '--json'], { cwd: PROJECT_ROOT, env: cliEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', (code) => (code === 0 ? resolve((JSON.parse(out) as { workflowId: string }).workflowId) : reject(new Error(`flywheel train exited with ${code}: ${out}`))));
  });
}
for (let i = -1; i < runs; i++) {
  const workflowId = await trainViaCli(`bench-overhead-${suffix}-${i + 1}`);
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
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
console.log(`TrainingPipeline on ${values.dataset}, ${values.epochs} epochs, ${runs} runs (medians), Temporal dev server at ${config.temporal.address}, workers in their own processes${values['running-workers'] ? ' (the running flywheel up workers)' : ' (fresh task queues)'}`);
console.log('| measure | median |');
console.log('| --- | --- |');
console.log(`| workflow wall time (ms) | ${p((r) => r.wall)} |`);
console.log(`| baseline: time inside the ${rows[0]!.activities} activities, as a plain script would spend it (ms) | ${p((r) => r.inActivities)} |`);
console.log(`| orchestration overhead (ms) | ${p((r) => r.wall - r.inActivities)} |`);
console.log(`| overhead per activity (ms) | ${p((r) => r.overheadPerActivity)} |`);
console.log(`| wall / baseline | ${(median(rows.map((r) => r.wall)) / median(rows.map((r) => r.inActivities))).toFixed(2)}× |`);
if (workers.length) console.log(`| peak RSS: workflow worker / CPU worker (MB) | ${(await peakRssMb(workers[0]!.pid!)).toFixed(0)} / ${(await peakRssMb(workers[1]!.pid!)).toFixed(0)} |`);

for (const w of workers) w.kill('SIGTERM');
await connection.close();
