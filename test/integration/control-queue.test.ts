/**
 * A rollout whose control queue has no worker fails clearly after the schedule-to-start limit,
 * naming the queue and what to start, instead of waiting forever with traffic half moved.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CONTROL_SCHEDULE_TO_START_SECONDS } from '../../lib/task-queues';
import { NO_CONTROL_WORKER } from '../../workflows/control-activities';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv('control');
});
afterAll(async () => {
  await env?.close();
});

it('fails a rollout with no control worker after the schedule-to-start limit, naming the queue', async () => {
  const model = uniqueModelName('nocontrol');
  const started = Date.now();
  const err = await runWorkers(
    env,
    async () => {
      const handle = await env.client.workflow.start('CanaryRollout', {
        taskQueue: env.taskQueues.workflows,
        workflowId: `canary-${model}`,
        args: [{ model, candidateVersion: '2', stableVersion: '1', steps: [{ weight: 100, pauseSeconds: 0 }], taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } }],
      });
      return handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
    },
    { activities: false },
  );
  const seconds = (Date.now() - started) / 1000;
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(NO_CONTROL_WORKER);
  expect((cause as ApplicationFailure).message).toContain(`no control worker took deployVersion from task queue ${env.taskQueues.control}`);
  // It waited for the schedule-to-start limit, not less. (No upper bound: how much later the
  // failure arrives depends on the machine's load, not on the code; the cause above says why.)
  expect(seconds).toBeGreaterThanOrEqual(CONTROL_SCHEDULE_TO_START_SECONDS - 1);
}, 180_000);
