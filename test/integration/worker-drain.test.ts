/**
 * Graceful shutdown: a CPU worker process sent SIGTERM mid-training stops polling but lets the
 * training it holds finish within FLYWHEEL_SHUTDOWN_GRACE_SECONDS (the same attempt completes, no
 * retry), then exits 0. The pipeline's next steps run on a second worker started after the signal.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TrainingPipelineResult } from '../../workflows/training-pipeline';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { startLongTraining, waitForEpoch } from './helpers/long-training';
import { spawnCpuWorker, type SpawnedWorker } from './helpers/processes';
import { freePort } from './helpers/monitoring';

let env: TestEnv;
const spawned: SpawnedWorker[] = [];
beforeAll(async () => {
  env = await openTestEnv('drain');
});
afterAll(async () => {
  for (const w of spawned) await w.kill();
  await env?.close();
});

it('lets the in-flight training finish on SIGTERM, then exits 0', async () => {
  const model = uniqueModelName('drained');
  const workerEnv = (port: number) => ({
    FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu,
    FLYWHEEL_CPU_WORKER_METRICS_PORT: String(port),
    FLYWHEEL_SHUTDOWN_GRACE_SECONDS: '120',
  });
  const port = await freePort();
  spawned.push(await spawnCpuWorker(workerEnv(port)));
  const draining = spawned[0]!;

  const { result, exitCode } = await runWorkers(
    env,
    async () => {
      const handle = await startLongTraining(env, model, 12);
      const status = await waitForEpoch(handle, 1);
      expect(status.stage).toBe('train');
      const exited = once(draining.child, 'exit');
      draining.child.kill('SIGTERM');
      spawned.push(await spawnCpuWorker(workerEnv(port + 1)));
      const result = (await handle.result()) as TrainingPipelineResult;
      const [exitCode] = await exited;
      return { result, exitCode };
    },
    { activities: false },
  );

  expect(exitCode).toBe(0);
  expect(draining.output()).toContain('draining');
  expect(result.training.epochs).toBe(12);
  expect(result.training.resumedFromEpoch).toBe(0);
  const history = await env.client.workflow.getHandle(`train-${model}`).fetchHistory();
  const retried = history.events!.filter((e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1);
  expect(retried).toEqual([]);
}, 300_000);
