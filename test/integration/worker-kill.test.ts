/**
 * Durability: the CPU worker process is SIGKILLed mid-training. The workflow must still finish,
 * the retried training must resume from its checkpoint, and exactly one MLflow run and one model
 * version must exist afterwards.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { IDEMPOTENCY_TAG } from '../../activities/registry';
import { mlflowQuote } from '../../clients/mlflow';
import type { TrainingPipelineResult } from '../../workflows/training-pipeline';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { startLongTraining, waitForEpoch } from './helpers/long-training';
import { spawnCpuWorker, type SpawnedWorker } from './helpers/processes';
import { freePort } from './helpers/monitoring';

let env: TestEnv;
const spawned: SpawnedWorker[] = [];
beforeAll(async () => {
  env = await openTestEnv('kill');
});
afterAll(async () => {
  for (const w of spawned) await w.kill();
  await env?.close();
});

it('finishes with exactly one model version after the activity worker is killed mid-training', async () => {
  const model = uniqueModelName('killed');
  const workerEnv = {
    FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu,
    FLYWHEEL_CPU_WORKER_METRICS_PORT: String(await freePort()),
    FLYWHEEL_GIT_COMMIT: 'kill-test',
  };
  spawned.push(await spawnCpuWorker(workerEnv));

  const result = await runWorkers(
    env,
    async () => {
      // batchSize 1 makes each epoch long enough to kill the worker in the middle of training;
      // wait until training has checkpointed a few epochs, then crash the worker.
      const handle = await startLongTraining(env, model, 40);
      const status = await waitForEpoch(handle, 3);
      expect(status.stage).toBe('train');
      const epochAtKill = status.progress!.epoch;
      expect(epochAtKill).toBeLessThan(40);
      await spawned[0]!.kill('SIGKILL');

      // A fresh worker process picks the activity up after the heartbeat timeout.
      spawned.push(await spawnCpuWorker(workerEnv));
      const result = (await handle.result()) as TrainingPipelineResult;
      return { result, epochAtKill };
    },
    { activities: false },
  );

  expect(result.result.training.resumedFromEpoch).toBeGreaterThanOrEqual(result.epochAtKill);
  expect(result.result.training.epochs).toBe(40);
  expect(result.result.metrics.accuracy).toBeGreaterThan(0.6);
  const versions = await env.mlflow.searchModelVersions(`name=${mlflowQuote(model)}`);
  expect(versions).toHaveLength(1);
  const experiment = await env.mlflow.getExperimentByName(model);
  const runs = await env.mlflow.searchRuns([experiment!.experiment_id], `tags.\`${IDEMPOTENCY_TAG}\` LIKE 'train-${model}/%'`);
  expect(runs).toHaveLength(1);
  expect(runs[0]!.info.run_id).toBe(result.result.mlflowRunId);
  const history = await env.client.workflow.getHandle(`train-${model}`).fetchHistory();
  const trainAttempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1);
  expect(trainAttempts.length).toBeGreaterThanOrEqual(1);
});
