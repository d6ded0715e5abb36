/**
 * Durability: the Temporal server itself is stopped and started again (same SQLite file) while a
 * pipeline is training. History, timers and the running activity's retry survive; the outcome is
 * the same single model version. Skipped when the server is not one Flywheel started (not ours to restart).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MODEL_NAME } from '../../config/search-attributes';
import { mlflowQuote } from '../../clients/mlflow';
import { isTemporalHealthy, ownedTemporal, startTemporal, stopTemporal } from '../../scripts/stack/temporal';
import { statusQuery, type TrainingPipelineResult, type TrainingStatus } from '../../workflows/training-pipeline';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv('restart');
});
afterAll(async () => {
  if (env && !(await isTemporalHealthy(env.config))) await startTemporal(env.config);
  await env?.close();
});

it('a Temporal server restart mid-training changes nothing about the outcome', async (ctx) => {
  if (!(await ownedTemporal(env.config))) ctx.skip(); // an external server is not ours to restart
  const model = uniqueModelName('restart');
  const result = await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}`,
      args: [
        {
          model,
          dataset: 'synthetic:rows=200000,features=40,classes=3,seed=11',
          family: 'softmax-regression',
          hyperparameters: { epochs: 60, batchSize: 1, learningRate: 0.01 },
          taskQueues: { cpu: env.taskQueues.cpu },
        },
      ],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    let status: TrainingStatus | undefined;
    for (let i = 0; i < 600; i++) {
      status = await handle.query(statusQuery);
      if ((status.progress?.epoch ?? 0) >= 2 || status.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status?.stage).toBe('train');

    await stopTemporal(env.config);
    expect(await isTemporalHealthy(env.config)).toBe(false);
    await new Promise((r) => setTimeout(r, 2000)); // training goes on; heartbeats fail meanwhile
    await startTemporal(env.config);

    // Clients and workers reconnect by themselves.
    return (await handle.result()) as TrainingPipelineResult;
  });
  expect(result.training.epochs).toBe(60);
  expect(result.version).toBe('1');
  const versions = await env.mlflow.searchModelVersions(`name=${mlflowQuote(model)}`);
  expect(versions).toHaveLength(1);
  const rows = await env.db.query('select status from pipeline_runs where model = $1', [model]);
  expect(rows.rows).toEqual([{ status: 'completed' }]);
});
