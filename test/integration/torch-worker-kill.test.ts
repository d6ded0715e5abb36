/**
 * Durability of the PyTorch pool: the Python worker is SIGKILLed mid-training (a crash, no
 * goodbye). Temporal notices the missing heartbeats, a fresh worker takes the retry, resumes from
 * the checkpoint the killed one wrote, and the pipeline ends with exactly one model version.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MODEL_NAME } from '../../config/search-attributes';
import { statusQuery, type TrainingPipelineResult, type TrainingStatus } from '../../workflows/training-pipeline';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { spawnTorchWorker, type SpawnedTorchWorker } from './helpers/torch-worker';

let env: TestEnv;
const spawned: SpawnedTorchWorker[] = [];
const cpuTorch = `test-cpu-torch-kill-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  env = await openTestEnv('torch-kill');
});
afterAll(async () => {
  for (const w of spawned) await w.kill();
  await env?.close();
});

it('resumes from the checkpoint after the Python worker is killed mid-training, with one model version', async () => {
  const model = uniqueModelName('torch-kill');
  const epochs = 30;
  spawned.push(await spawnTorchWorker({ cpuTorchQueue: cpuTorch }));
  const { result, killedAtEpoch } = await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}`,
      args: [
        {
          model,
          dataset: 'synthetic:rows=100000,features=32,classes=2,seed=7',
          family: 'mlp',
          hyperparameters: { epochs, hiddenUnits: 64, batchSize: 256 },
          pool: 'cpu',
          gpuWaitSeconds: 120,
          taskQueues: { cpu: env.taskQueues.cpu, cpuTorch },
        },
      ],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    let status: TrainingStatus | undefined;
    for (let i = 0; i < 1200; i++) {
      status = await handle.query(statusQuery);
      if ((status.progress?.epoch ?? 0) >= 3 || status.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status?.state).toBe('running');
    const killedAtEpoch = status!.progress!.epoch;
    expect(killedAtEpoch).toBeLessThan(epochs);
    await spawned[0]!.kill();
    spawned.push(await spawnTorchWorker({ cpuTorchQueue: cpuTorch }));
    return { result: (await handle.result()) as TrainingPipelineResult, killedAtEpoch };
  });

  // The retry started from the killed attempt's last checkpoint, not from scratch.
  expect(result.training.resumedFromEpoch).toBeGreaterThanOrEqual(killedAtEpoch);
  expect(result.training.resumedFromEpoch).toBeLessThan(epochs);
  expect(result.training.epochs).toBe(epochs);
  const versions = await env.mlflow.searchModelVersions(`name='${model}'`, 10);
  expect(versions.map((v) => v.version)).toEqual([result.version]);
  const history = await env.client.workflow.getHandle(result.workflowId).fetchHistory();
  const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt!);
  expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
}, 300_000);
