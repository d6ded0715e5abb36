/**
 * `flywheel doctor` as a user runs it (a real process) against the real stack: a model whose traffic
 * is split with no running canary rollout or A/B test owning it (what a terminated one leaves
 * behind) is reported with exit 1, `--repair` gives one version all traffic, and then it is clean.
 * A split that a running A/B test owns is left alone. The Reconciler workflow reports the same.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getTrafficWeights, setTrafficWeights } from '../../activities/traffic';
import type { TrafficCheck } from '../../activities/reconcile';
import { PROJECT_ROOT } from '../../config/index';
import { DATASET_DIGEST, MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import type { ReconcilerResult } from '../../workflows/reconciler';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
const orphaned = uniqueModelName('doctor');
const owned = uniqueModelName('doctor-owned');

function flywheel(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Two deployed versions of a model (rows as `flywheel deploy` writes them; the gateway is not involved), traffic split. */
async function splitModel(model: string): Promise<void> {
  for (const version of ['1', '2']) {
    await env.db.query(
      `INSERT INTO deployments (model, version, onnx_uri, onnx_sha256, n_features, classes, state) VALUES ($1, $2, $3, $4, 4, '["a","b","c"]', 'active')`,
      [model, version, `/nonexistent/${model}/${version}.onnx`, '0'.repeat(64)],
    );
  }
  await setTrafficWeights(env.db, { model, weights: { '1': 3_000, '2': 7_000 } });
}

beforeAll(async () => {
  env = await openTestEnv('doctor');
});

afterAll(async () => {
  await env?.close();
});

it('reports a split no workflow owns (exit 1), repairs it with --repair, and is clean afterwards (exit 0)', async () => {
  await splitModel(orphaned);
  const found = await flywheel(['doctor', '-m', orphaned, '--grace', '0', '--json']);
  expect(found.stderr).toBe('');
  expect(found.code).toBe(1);
  const check = JSON.parse(found.stdout) as TrafficCheck & { clean: boolean };
  expect(check.clean).toBe(false);
  expect(check.findings).toEqual([expect.objectContaining({ model: orphaned, kind: 'unowned-split', serving: ['2', '1'], target: '2', targetReason: 'no champion: v2 had the most traffic (70%)' })]);
  expect((await getTrafficWeights(env.db, orphaned)).weights).toEqual({ '1': 3_000, '2': 7_000 }); // reporting changes nothing

  // Within the grace period (the weights just changed) nothing is reported.
  expect((await flywheel(['doctor', '-m', orphaned])).code).toBe(0);

  const repaired = await flywheel(['doctor', '-m', orphaned, '--grace', '0', '--repair']);
  expect(repaired.code).toBe(1);
  expect(repaired.stdout).toMatch(new RegExp(`${orphaned} +v2 70%, v1 30% +v2 to 100% .* repaired`));
  expect((await getTrafficWeights(env.db, orphaned)).weights).toEqual({ '1': 0, '2': 10_000 });

  const clean = await flywheel(['doctor', '-m', orphaned, '--grace', '0']);
  expect(clean.code).toBe(0);
  expect(clean.stdout).toMatch(/unowned splits: +0/);
});

it('leaves alone a split a running A/B test owns', async () => {
  await splitModel(owned);
  // A running ABTest execution (on a queue no worker polls, so it stays as it is) owns the model's split.
  const handle = await env.client.workflow.start('ABTest', {
    taskQueue: `${env.taskQueues.workflows}-idle`,
    workflowId: `ab-${owned}`,
    args: [{}],
    typedSearchAttributes: [{ key: MODEL_NAME, value: owned }],
  });
  try {
    let r = await flywheel(['doctor', '-m', owned, '--grace', '0', '--json']);
    for (let i = 0; i < 20 && r.code !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500)); // visibility catches up
      r = await flywheel(['doctor', '-m', owned, '--grace', '0', '--json']);
    }
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as TrafficCheck).running.some((w) => w.workflowId === `ab-${owned}` && w.model === owned)).toBe(true);
  } finally {
    await handle.terminate('test done');
  }
  // Terminated, it cannot put the traffic back: now the split is an orphan, and the Reconciler workflow finds it.
  const result = await runWorkers(env, async () => {
    for (let i = 0; i < 20; i++) {
      const r = await env.client.workflow.execute('Reconciler', {
        taskQueue: env.taskQueues.workflows,
        workflowId: `reconcile-${owned}-${i}`,
        args: [{ repair: false, models: [owned], graceSeconds: 0, taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } }],
      });
      if ((r as ReconcilerResult).findings.length) return r as ReconcilerResult;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error('the Reconciler never found the split the terminated A/B test left');
  });
  expect(result.repaired).toBe(0);
  expect(result.decisions).toEqual([expect.objectContaining({ model: owned, action: 'report' })]);
  expect(result.decisions[0]!.reason).toMatch(/no running canary rollout or A\/B test owns it; a repair would give v2 all traffic/);
  expect((await getTrafficWeights(env.db, owned)).weights).toEqual({ '1': 3_000, '2': 7_000 });
  // Leave nothing for another `flywheel doctor` on the shared stack to find.
  await setTrafficWeights(env.db, { model: owned, weights: { '2': 10_000 } });
});

it('--schedule creates a Temporal Schedule that runs the Reconciler (on a dev server of its own: the shared one keeps no test schedule)', async () => {
  const testEnv = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: path.join(PROJECT_ROOT, '.venv/bin/temporal') }, searchAttributes: [MODEL_NAME, PIPELINE_STAGE, DATASET_DIGEST] },
  });
  try {
    const address = (testEnv as unknown as { address: string }).address;
    const created = await flywheel(['doctor', '--schedule', '15m', '--repair', '--json'], { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: testEnv.namespace ?? 'default' });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({ scheduleId: 'flywheel-reconciler', everyMs: 900_000, repair: true });
    const d = await testEnv.client.schedule.getHandle('flywheel-reconciler').describe();
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: 'Reconciler' });
    expect((d.action as { args?: unknown[] }).args?.[0]).toMatchObject({ repair: true, graceSeconds: 60 });
    const again = await flywheel(['doctor', '--schedule', '15m'], { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: testEnv.namespace ?? 'default' });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/schedule flywheel-reconciler already exists/);
  } finally {
    await testEnv.teardown();
  }
});
