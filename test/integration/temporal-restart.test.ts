/**
 * Durability: the Temporal server itself is stopped and started again (same SQLite file, or the same
 * PostgreSQL databases under scripts/production-temporal) while a pipeline is training. History,
 * timers and the running activity's retry survive; the outcome is the same single model version.
 * Skipped when the server is not one Flywheel started (not ours to restart).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mlflowQuote } from '../../clients/mlflow';
import type { TrainingPipelineResult } from '../../workflows/training-pipeline';
import { rolloutStatusQuery, type RolloutResult } from '../../workflows/canary-rollout';
import { deployVersion } from '../../activities/deploy';
import { loadDataset } from '../../datasets/load';
import { createGateway } from '../../serving/app';
import { replay } from '../../traffic/replay';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';
import { startLongTraining, waitForEpoch } from './helpers/long-training';
import { temporalServerControl, type TemporalServerControl } from './helpers/temporal-server';

let env: TestEnv;
let server: TemporalServerControl;
beforeAll(async () => {
  env = await openTestEnv('restart');
  server = temporalServerControl(env.config);
});
afterAll(async () => {
  if (env && (await server.ours()) && !(await server.healthy())) await server.start();
  await env?.close();
});

it('a Temporal server restart mid-training changes nothing about the outcome', async (ctx) => {
  if (!(await server.ours())) ctx.skip(); // an external server is not ours to restart
  const model = uniqueModelName('restart');
  const result = await runWorkers(env, async () => {
    const handle = await startLongTraining(env, model, 60);
    const status = await waitForEpoch(handle, 2);
    expect(status.stage).toBe('train');

    await server.stop();
    expect(await server.healthy()).toBe(false);
    await new Promise((r) => setTimeout(r, 2000)); // training goes on; heartbeats fail meanwhile
    await server.start();

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

it('a Temporal server restart mid-rollout leaves the canary with the same outcome', async (ctx) => {
  if (!(await server.ours())) ctx.skip();
  const model = uniqueModelName('canary-restart');
  const loaded = await loadDataset('builtin:iris');
  if (!loaded.ok) throw new Error(loaded.error.message);
  const gateway = await createGateway(env.config, { port: 0, logger: false });
  const url = await gateway.listen();
  const apiKey = await testApiKey(env, 'temporal-restart');
  try {
    const result = await runWorkers(env, async () => {
      for (const v of [1, 2]) {
        const h = await env.client.workflow.start('TrainingPipeline', {
          taskQueue: env.taskQueues.workflows,
          workflowId: `train-${model}-v${v}`,
          args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5 }, taskQueues: { cpu: env.taskQueues.cpu } }],
        });
        await h.result();
      }
      await deployVersion(env.db, env.mlflow, { model, version: '1' });
      const handle = await env.client.workflow.start('CanaryRollout', {
        taskQueue: env.taskQueues.workflows,
        workflowId: `canary-${model}`,
        args: [
          {
            model,
            candidateVersion: '2',
            steps: [{ weight: 30, pauseSeconds: 6 }, { weight: 100, pauseSeconds: 0 }],
            analysis: { intervalSeconds: 1, minSamplePerStep: 20, minLabelledSample: 10, inconclusiveLimit: 30 },
            taskQueues: { cpu: env.taskQueues.cpu },
          },
        ],
      });
      let done = false;
      const outcome = handle.result().finally(() => (done = true));
      const traffic = (async () => {
        let seed = 1;
        while (!done) await replay({ url, apiKey, model, dataset: loaded.value.dataset, rate: 80, durationMs: 1000, labelDelayMs: 50, units: 300, seed: seed++ });
      })();
      for (let i = 0; i < 100 && (await handle.query(rolloutStatusQuery)).step < 1; i++) await new Promise((r) => setTimeout(r, 100));
      await server.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await server.start();
      const r = (await outcome) as RolloutResult;
      await traffic;
      return r;
    });
    expect(result).toMatchObject({ outcome: 'promoted', candidateVersion: '2', stableVersion: '1' });
    expect((await env.mlflow.getVersionByAlias(model, 'champion'))?.version).toBe('2');
    const weights = await env.db.query('select version, weight from traffic_weights where model = $1 order by version', [model]);
    expect(weights.rows).toEqual([{ version: '1', weight: 0 }, { version: '2', weight: 10_000 }]);
  } finally {
    await gateway.close();
  }
});
