/**
 * Throughput as CPU workers are added (issue 18 item 6): N concurrent TrainingPipelines and one
 * hyperparameter search, each run with 1, 2 and 4 CPU worker processes behind one workflow worker,
 * on the real stack (Temporal, PostgreSQL, MLflow; `node bin/flywheel.mjs up --no-workers`).
 *
 * Each CPU worker process runs one activity at a time (FLYWHEEL_CPU_MAX_CONCURRENT_ACTIVITIES=1;
 * a training activity keeps one core busy in its own thread), so n processes are n slots: the
 * unit a deployment adds. The named reference is ideal linear scaling on this machine: a speed-up
 * over one process of min(n, cores). The table prints the measured speed-up, its ratio to ideal,
 * and each process's peak RSS. docs/scaling.md builds on these figures.
 *
 *   npx tsx bench/scale/run.ts [--workers 1,2,4] [--pipelines 50] [--trials 40] [--parallel 8]
 *                              [--rows 20000] [--epochs 5]
 *
 * Fresh task queues per configuration, so workers `flywheel up` started take no part.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import type { HyperparameterSearchInput } from '../../lib/pipeline/search-input';
import type { TrainingPipelineInput } from '../../lib/pipeline/training-input';
import { peakRssMb, startWorkerProcess } from '../worker-process';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2,4' },
    pipelines: { type: 'string', default: '50' },
    trials: { type: 'string', default: '40' },
    parallel: { type: 'string', default: '8' },
    rows: { type: 'string', default: '20000' },
    epochs: { type: 'string', default: '5' },
  },
});
const counts = values.workers.split(',').map(Number);
const pipelines = Number(values.pipelines);
const trials = Number(values.trials);
const dataset = `synthetic:rows=${Number(values.rows)},features=20,classes=2,seed=11`;
const epochs = Number(values.epochs);
const cores = os.availableParallelism();
const base = loadConfig();
const connection = await Connection.connect({ address: base.temporal.address });
const client = new Client({ connection, namespace: base.temporal.namespace });

interface Row {
  workers: number;
  pipelinesSeconds: number;
  historyEvents: number;
  searchSeconds: number;
  workflowWorkerRssMb: number;
  cpuWorkerRssMb: number[];
}

async function runConfiguration(n: number): Promise<Row> {
  const suffix = `${n}w-${randomUUID().slice(0, 6)}`;
  const taskQueues = { workflows: `scale-wf-${suffix}`, cpu: `scale-cpu-${suffix}` };
  const env = { FLYWHEEL_TASK_QUEUE_WORKFLOWS: taskQueues.workflows, FLYWHEEL_TASK_QUEUE_CPU: taskQueues.cpu, FLYWHEEL_CPU_MAX_CONCURRENT_ACTIVITIES: '1' };
  const workflowWorker = await startWorkerProcess('workers/workflow-worker.ts', env);
  const cpuWorkers = await Promise.all(Array.from({ length: n }, () => startWorkerProcess('workers/cpu-worker.ts', env)));
  try {
    const t0 = performance.now();
    const handles = await Promise.all(
      Array.from({ length: pipelines }, (_, i) => {
        const model = `scale-${suffix}-${i}`;
        const input: TrainingPipelineInput = { model, dataset, family: 'softmax-regression', hyperparameters: { epochs, learningRate: 0.1, seed: i }, taskQueues: { cpu: taskQueues.cpu } };
        return client.workflow.start('TrainingPipeline', { taskQueue: taskQueues.workflows, workflowId: `train-${model}`, args: [input], typedSearchAttributes: [{ key: MODEL_NAME, value: model }] });
      }),
    );
    await Promise.all(handles.map((h) => h.result()));
    const pipelinesSeconds = (performance.now() - t0) / 1000;
    // History events a pipeline writes: what Temporal's persistence carries per pipeline (docs/scaling.md).
    const historyEvents = (await handles[0]!.fetchHistory()).events!.length;

    const t1 = performance.now();
    const model = `scale-${suffix}-search`;
    const search: HyperparameterSearchInput = {
      model,
      dataset,
      family: 'softmax-regression',
      space: { learningRate: { type: 'float', low: 0.001, high: 1, log: true }, batchSize: { type: 'categorical', choices: [16, 64, 256] } },
      fixed: { epochs },
      sampler: 'tpe',
      pruner: 'median',
      trials,
      parallel: Number(values.parallel),
      metric: 'logLoss',
      seed: 5,
      taskQueues: { cpu: taskQueues.cpu },
    };
    await client.workflow.execute('HyperparameterSearch', { taskQueue: taskQueues.workflows, workflowId: `hpo-${model}`, args: [search], typedSearchAttributes: [{ key: MODEL_NAME, value: model }] });
    const searchSeconds = (performance.now() - t1) / 1000;
    return {
      workers: n,
      pipelinesSeconds,
      historyEvents,
      searchSeconds,
      workflowWorkerRssMb: await peakRssMb(workflowWorker.pid!),
      cpuWorkerRssMb: await Promise.all(cpuWorkers.map((w) => peakRssMb(w.pid!))),
    };
  } finally {
    for (const w of [workflowWorker, ...cpuWorkers]) w.kill('SIGTERM');
  }
}

const rows: Row[] = [];
for (const n of counts) {
  rows.push(await runConfiguration(n));
  console.error(`${n} CPU worker(s): ${pipelines} pipelines ${rows.at(-1)!.pipelinesSeconds.toFixed(1)} s, ${trials}-trial search ${rows.at(-1)!.searchSeconds.toFixed(1)} s`);
}
await connection.close();

const one = rows.find((r) => r.workers === 1) ?? rows[0]!;
console.log(`\n${pipelines} concurrent TrainingPipelines and a ${trials}-trial search (parallel ${values.parallel}, TPE + median pruner), softmax regression on ${dataset}, ${epochs} epochs; ${cores} cores; Temporal at ${base.temporal.address}`);
console.log('| CPU worker processes | pipelines: wall (s) | pipelines/min | history events/s | speed-up | ideal (min(n, cores)) | ratio to ideal | search: wall (s) | speed-up | ratio to ideal | peak RSS: workflow worker / each CPU worker (MB) |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const ideal = Math.min(r.workers, cores) / Math.min(one.workers, cores);
  const sp = one.pipelinesSeconds / r.pipelinesSeconds;
  const ss = one.searchSeconds / r.searchSeconds;
  console.log(
    `| ${r.workers} | ${r.pipelinesSeconds.toFixed(1)} | ${((pipelines / r.pipelinesSeconds) * 60).toFixed(1)} | ${((pipelines * r.historyEvents) / r.pipelinesSeconds).toFixed(0)} (${r.historyEvents} a pipeline) | ${sp.toFixed(2)}× | ${ideal.toFixed(0)}× | ${(sp / ideal).toFixed(2)} | ${r.searchSeconds.toFixed(1)} | ${ss.toFixed(2)}× | ${(ss / ideal).toFixed(2)} | ${r.workflowWorkerRssMb.toFixed(0)} / ${r.cpuWorkerRssMb.map((m) => m.toFixed(0)).join(', ')} |`,
  );
}
