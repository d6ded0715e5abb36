/**
 * Moving activities between task queues is not a determinism change: replay compares the commands'
 * kinds and activity types, not their task queue or timeouts. The recorded canary (started before
 * the control queue existed) replays also when its input names a control queue, so its looks and
 * weight changes are scheduled there instead of on the CPU queue the history recorded.
 */
import { readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../workers/workflow-worker-path';

describe('task queue changes and replay', () => {
  it('a CanaryRollout recorded on the CPU queue replays with its activities sent to the control queue', async () => {
    const json = JSON.parse(await readFile(new URL('../fixtures/canary-rollout.history.json', import.meta.url), 'utf8'));
    const payload = json.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
    expect(input.taskQueues).toEqual({ cpu: 'flywheel-cpu' });
    payload.data = Buffer.from(JSON.stringify({ ...input, taskQueues: { ...input.taskQueues, control: 'flywheel-control' } })).toString('base64');
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, historyFromJSON(json), 'canary-penguins')).resolves.toBeUndefined();
  }, 60_000);
});
