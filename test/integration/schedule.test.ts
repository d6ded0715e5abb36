/**
 * Scheduled retraining through the `flywheel schedule` CLI as a user runs it (a real process),
 * against the real Temporal server: a schedule created, triggered once, runs the Retraining
 * workflow (here with no champion yet, so it says so and rolls nothing out); list, pause, resume
 * and delete act on the real schedule; bad flags are one line and exit 2, creating nothing.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import type { RetrainingResult } from '../../workflows/retraining';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
let cliEnv: Record<string, string>;
const model = uniqueModelName('sched');
const scheduleId = `retrain-${model}`;

beforeAll(async () => {
  env = await openTestEnv('schedule');
  cliEnv = { FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows, FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu, FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control };
});
afterAll(async () => {
  await env?.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await env?.close();
});

function flywheel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...cliEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('flywheel schedule', () => {
  it('rejects bad flags at the edge: one line, exit 2, no schedule', async () => {
    for (const [args, message] of [
      [['--dataset', 'iris', '--cron', '0 2 * * *', '--every', '24h'], /^flywheel: give exactly one of --cron "0 2 \* \* \*" or --every 24h$/],
      [['--dataset', 'iris', '--every', 'daily'], /^flywheel: --every: "daily" must be a duration like 90s, 15m, 24h or 7d$/],
      [['--dataset', 'iris', '--every', '24h', '--overlap', 'queue'], /^flywheel: --overlap: "queue" is not a policy/],
      [['--dataset', 'iris', '--every', '24h', '--margin', '-1'], /^flywheel: margin must be a number >= 0 and < 1 \(got -1\)$/],
      [['--dataset', 'mnist', '--every', '24h'], /^flywheel: dataset mnist: unknown dataset "mnist"/],
    ] as const) {
      const r = await flywheel(['schedule', 'create', model, ...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
    }
    await expect(env.client.schedule.getHandle(scheduleId).describe()).rejects.toThrow(/not found/i);
  });

  it('creates a schedule whose triggered run is a Retraining, and pauses, resumes and deletes it', async () => {
    const created = await flywheel(['schedule', 'create', model, '--dataset', 'iris', '--every', '24h', '--margin', '0.02', '-p', 'epochs=50', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ scheduleId, model, overlap: 'skip', catchupWindowMs: 3_600_000, margin: 0.02, metric: 'logLoss', spec: { kind: 'every', ms: 86_400_000 } });
    const description = await env.client.schedule.getHandle(scheduleId).describe();
    expect(description.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 3_600_000 });
    expect(description.action).toMatchObject({ workflowType: 'Retraining', taskQueue: env.taskQueues.workflows });

    const again = await flywheel(['schedule', 'create', model, '--dataset', 'iris', '--every', '24h']);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe(`flywheel: schedule ${scheduleId} already exists: delete it first (flywheel schedule delete ${model})`);

    const result = await runWorkers(env, async () => {
      const triggered = await flywheel(['schedule', 'trigger', model, '--json']);
      expect(triggered.code, triggered.stderr).toBe(0);
      let workflowId: string | undefined;
      for (let i = 0; i < 100 && !workflowId; i++) {
        workflowId = (await env.client.schedule.getHandle(scheduleId).describe()).info.recentActions[0]?.action.workflow.workflowId;
        if (!workflowId) await new Promise((r) => setTimeout(r, 200));
      }
      expect(workflowId).toMatch(new RegExp(`^retrain-${model}-scheduled-`));
      return (await env.client.workflow.getHandle(workflowId!).result()) as RetrainingResult;
    });
    // A first model has nothing to be compared with: trained and registered, not rolled out.
    expect(result.decision).toEqual({ kind: 'no-champion', reason: `model ${model} has no champion alias and no other version serving traffic: deploy v1 yourself (flywheel deploy)` });
    const { rows } = await env.db.query('select trigger, trigger_detail, status, decision, margin from retraining_runs where workflow_id = $1', [result.workflowId]);
    expect(rows).toEqual([{ trigger: 'schedule', trigger_detail: scheduleId, status: 'completed', decision: 'no-champion', margin: 0.02 }]);

    const listed = await flywheel(['schedule', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ scheduleId, model, dataset: 'iris', paused: false, spec: 'every 86400s' }));
    expect((await flywheel(['schedule', 'pause', model, '--json'])).code).toBe(0);
    expect((await env.client.schedule.getHandle(scheduleId).describe()).state.paused).toBe(true);
    expect((await flywheel(['schedule', 'resume', model])).stdout).toBe(`${scheduleId}: resumed\n`);
    expect((await env.client.schedule.getHandle(scheduleId).describe()).state.paused).toBe(false);
    expect((await flywheel(['schedule', 'delete', model, '--json'])).code).toBe(0);
    await expect(env.client.schedule.getHandle(scheduleId).describe()).rejects.toThrow(/not found/i);
    const gone = await flywheel(['schedule', 'trigger', model]);
    expect([gone.code, gone.stderr]).toEqual([2, `flywheel: no schedule ${scheduleId} (flywheel schedule list)\n`]);
  }, 90_000);
});
