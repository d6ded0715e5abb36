/**
 * Who acted, as Temporal's history records it: a mutating CLI command (`flywheel ab stop`, which
 * signals the A/B test workflow) is recorded with the CLI's identity — the OS user, the host and
 * the id of the API key the CLI holds — rather than the SDK default `<pid>@<host>`.
 *
 * And a real control-worker process polls under `flywheel-control-worker:<pid>@<host>` (the task
 * queue's pollers, as the server lists them).
 *
 * The real CLI process against the real Temporal server. The workflow is started on the test's own
 * queue with no worker polling it: a signal is recorded in history whether or not a worker runs.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { abWorkflowId } from '../../cli/commands/ab';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';
import { spawnControlWorker, type SpawnedWorker } from './helpers/processes';
import { freePort } from './helpers/monitoring';

let env: TestEnv;
let worker: SpawnedWorker | undefined;
const model = uniqueModelName('identity');
const keyId = 'a1b2c3d4e5f60718';

function flywheel(args: string[], extraEnv: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  env = await openTestEnv('identity');
});

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await env?.client.workflow.getHandle(abWorkflowId(model)).terminate('test over').catch(() => undefined);
  await env?.close();
});

describe('Temporal identity of a CLI action', () => {
  it('the signal event of `flywheel ab stop` names the OS user, the host and the API key id', async () => {
    await env.client.workflow.start('ABTest', { taskQueue: env.taskQueues.workflows, workflowId: abWorkflowId(model), args: [{ model }] });
    const r = await flywheel(['ab', 'stop', model, '--reason', 'identity test', '--json'], {
      FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows,
      // The key is only read for its id here: nothing is sent to the gateway.
      FLYWHEEL_API_KEY: `fw_${keyId}_${'x'.repeat(43)}`,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const history = await env.client.workflow.getHandle(abWorkflowId(model)).fetchHistory();
    const signalled = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signalled).toHaveLength(1);
    const attrs = signalled[0]!.workflowExecutionSignaledEventAttributes!;
    expect(attrs.signalName).toBe('stop');
    expect(attrs.identity).toBe(`flywheel-cli:${os.userInfo().username}@${os.hostname()} key:${keyId}`);
  });

  it('a worker polls under its role, process and host', async () => {
    worker = await spawnControlWorker({ FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control, FLYWHEEL_CONTROL_WORKER_METRICS_PORT: String(await freePort()) });
    const expected = `flywheel-control-worker:${worker.child.pid}@${os.hostname()}`;
    // The server lists a poller once its first poll arrives: asked again until then (at most 30 times).
    let identities: string[] = [];
    for (let i = 0; i < 30 && !identities.includes(expected); i++) {
      const r = await env.client.workflowService.describeTaskQueue({
        namespace: env.config.temporal.namespace,
        // TASK_QUEUE_KIND_NORMAL, TASK_QUEUE_TYPE_ACTIVITY (temporal.api.enums.v1)
        taskQueue: { name: env.taskQueues.control, kind: 1 },
        taskQueueType: 2,
      });
      identities = (r.pollers ?? []).map((p) => p.identity ?? '');
      if (!identities.includes(expected)) await new Promise((res) => setTimeout(res, 500));
    }
    expect(identities).toContain(expected);
  });
});
