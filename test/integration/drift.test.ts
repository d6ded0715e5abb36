/**
 * Drift on the real stack, with a known change point: a model trained on SEA concept 0 (River's
 * definition, θ = 8) serves concept-0 traffic, then concept-3 traffic (θ = 9.5: about 13% of rows
 * change label) through a real gateway, true labels posted back. The DriftMonitor must stay quiet
 * on concept 0, find the rise soon after the change, start exactly one Retraining (on concept-3
 * data), whose challenger beats the champion and goes to a canary; once it is promoted the error
 * falls, which the monitor records without retraining again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import type { Dataset } from '../../lib/data/table';
import type { DriftMonitorInput } from '../../lib/retraining/spec';
import { Sea } from '../../lib/streams/sea';
import { createGateway, type Gateway } from '../../serving/app';
import { replay, type ReplayReport } from '../../traffic/replay';
import { promoteUpdate, rolloutStatusQuery } from '../../workflows/canary-rollout';
import { driftStatusQuery, stopSignal, type DriftMonitorResult, type DriftMonitorStatus } from '../../workflows/drift-monitor';
import { retrainingStatusQuery, type RetrainingResult } from '../../workflows/retraining';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';
import { runFlywheel } from './helpers/cli';
import { until } from './helpers/until';

let env: TestEnv;
let gateway: Gateway;
let url: string;
let apiKey: string;
let dir: string;
const model = uniqueModelName('drift');
const hyperparameters = { epochs: 60, learningRate: 0.1, seed: 1 };
let conceptA: Dataset;
let conceptB: Dataset;

function seaCsv(file: string, variant: 0 | 3, seed: number, rows: number): string {
  const s = new Sea({ variant, seed });
  const lines = ['x0,x1,x2,label'];
  for (let i = 0; i < rows; i++) {
    const { x, y } = s.next();
    lines.push(`${x[0]},${x[1]},${x[2]},${y}`);
  }
  const p = path.join(dir, file);
  writeFileSync(p, `${lines.join('\n')}\n`);
  return p;
}

async function load(file: string): Promise<Dataset> {
  const r = await loadDataset(`file:${file}`);
  if (!r.ok) throw new Error(r.error.message);
  return r.value.dataset;
}

beforeAll(async () => {
  env = await openTestEnv('drift');
  dir = mkdtempSync(path.join(os.tmpdir(), 'flywheel-drift-'));
  seaCsv('train-a.csv', 0, 1, 2000);
  seaCsv('train-b.csv', 3, 2, 2000);
  conceptA = await load(seaCsv('serve-a.csv', 0, 3, 400));
  conceptB = await load(seaCsv('serve-b.csv', 3, 4, 1500));
  await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}-a`,
      args: [{ model, dataset: `file:${path.join(dir, 'train-a.csv')}`, family: 'softmax-regression', hyperparameters, taskQueues: { cpu: env.taskQueues.cpu } }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    await handle.result();
  });
  await deployVersion(env.db, env.mlflow, { model, version: '1' });
  gateway = await createGateway(env.config, { port: 0, logger: false });
  url = await gateway.listen();
  apiKey = await testApiKey(env, 'drift');
});

afterAll(async () => {
  await gateway?.close();
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});


const send = (dataset: Dataset, seed: number): Promise<ReplayReport> =>
  replay({ url, apiKey, model, dataset, rate: 250, durationMs: (dataset.nRows / 250) * 1000, labelDelayMs: 20, units: 200, seed });

describe('DriftMonitor', () => {
  it('finds the planted SEA drift, starts exactly one retraining, and only records the fall after the promotion', async () => {
    const input: DriftMonitorInput = {
      model,
      retraining: { dataset: `file:${path.join(dir, 'train-b.csv')}`, hyperparameters, margin: 0.01, canary: { steps: [{ weight: 50, pauseSeconds: 600 }, { weight: 100, pauseSeconds: 0 }] } },
      pollSeconds: 0.5,
      settleSeconds: 1,
      // Continue-as-new every few polls: cursor and ADWIN state must cross runs without a lost or repeated outcome.
      pollsPerRun: 4,
      taskQueues: { cpu: env.taskQueues.cpu },
    };
    const monitorId = `drift-${model}`;
    let firstRunId = '';
    const retrainId = `retrain-${model}-drift-1`;
    const { result, retraining, changePoint, total } = await runWorkers(env, async () => {
      const monitor = await env.client.workflow.start('DriftMonitor', { taskQueue: env.taskQueues.workflows, workflowId: monitorId, args: [input] });
      firstRunId = monitor.firstExecutionRunId;
      const status = () => monitor.query(driftStatusQuery);
      // The monitor starts after every label already given: let it open before the traffic does.
      await until('the first poll', status, (s: DriftMonitorStatus) => s.lastPollAt !== undefined);

      const a = await send(conceptA, 1);
      expect(a.failed).toBe(0);
      const quiet = await until('concept-0 outcomes', status, (s: DriftMonitorStatus) => s.samples >= a.feedback.ok);
      expect(quiet.samples).toBe(a.feedback.ok);
      expect(quiet.recentEvents).toEqual([]);
      const changePoint = quiet.samples;

      const b = await send(conceptB, 2);
      expect(b.failed).toBe(0);
      await until('the drift event', status, (s: DriftMonitorStatus) => s.recentEvents.length >= 1);

      // The retraining's challenger (trained on concept 3) wins by far and goes to a canary: promote it.
      const retrain = env.client.workflow.getHandle(retrainId);
      await until('the canary', () => retrain.query(retrainingStatusQuery), (s) => s.stage === 'canary');
      await until('the canary to deploy', () => env.client.workflow.getHandle(`canary-${model}`).query(rolloutStatusQuery), (s) => s.step >= 1);
      await env.client.workflow.getHandle(`canary-${model}`).executeUpdate(promoteUpdate, { args: ['retrained on concept 3'] });
      const retraining = (await retrain.result()) as RetrainingResult;

      // Concept 3 again, now served by the retrained model: the error rate falls; no second retraining.
      const c = await send(conceptB, 3);
      expect(c.failed).toBe(0);
      await until('the fall', status, (s: DriftMonitorStatus) => s.recentEvents.some((e) => e.direction === 'decrease'), 20_000);
      // Every labelled outcome counted once, across the continue-as-new runs.
      const total = a.feedback.ok + b.feedback.ok + c.feedback.ok;
      await until('every outcome', status, (s: DriftMonitorStatus) => s.samples >= total);
      await monitor.signal(stopSignal, 'test done');
      return { result: (await monitor.result()) as DriftMonitorResult, retraining, changePoint, total };
    });

    const rise = result.recentEvents[0]!;
    expect(rise).toMatchObject({ event: 1, direction: 'increase', retrainingWorkflowId: retrainId });
    expect(rise.sample).toBeGreaterThan(changePoint);
    const delay = rise.sample - changePoint;
    console.log(`drift: change point at outcome ${changePoint}, ADWIN fired at ${rise.sample} (delay ${delay} outcomes), error ${rise.before.toFixed(3)} → ${rise.after.toFixed(3)}`);
    expect(delay).toBeLessThan(600);
    expect(result.recentEvents.slice(1).every((e) => e.direction === 'decrease' && e.retrainingWorkflowId === undefined)).toBe(true);
    expect(result).toMatchObject({ state: 'stopped', retrainingsStarted: 1 });
    expect(result.samples).toBe(total);
    expect((await env.client.workflow.getHandle(monitorId).describe()).runId).not.toBe(firstRunId);

    expect(retraining.decision.kind).toBe('canary');
    expect(retraining.champion).toMatchObject({ version: '1', source: 'traffic' });
    expect(retraining.challenger.version).toBe('2');
    expect(retraining.canary).toMatchObject({ workflowId: `canary-${model}`, outcome: 'promoted' });
    expect((await env.mlflow.getVersionByAlias(model, 'champion'))?.version).toBe('2');

    const events = await env.db.query('select event, direction, retraining_workflow_id from drift_events where model = $1 order by event', [model]);
    expect(events.rows[0]).toEqual({ event: 1, direction: 'increase', retraining_workflow_id: retrainId });
    expect(events.rows.slice(1).every((r) => r.direction === 'decrease' && r.retraining_workflow_id === null)).toBe(true);
    const runs = await env.db.query(`select workflow_id, trigger, decision from retraining_runs where model = $1`, [model]);
    expect(runs.rows).toEqual([{ workflow_id: retrainId, trigger: 'drift', decision: 'canary' }]);
    let retrainings = 0;
    for await (const w of env.client.workflow.list({ query: `${MODEL_NAME.name} = "${model}" AND WorkflowType = "Retraining"` })) retrainings += w.workflowId ? 1 : 0;
    expect(retrainings).toBe(1);
  }, 120_000);

  it('shows the events and their retraining decisions in `flywheel drift events`', async () => {
    const run = (args: string[]) => runFlywheel(args, { FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows });
    const events = await run(['drift', 'events', model, '--json']);
    expect(events.code, events.stderr).toBe(0);
    const rows = JSON.parse(events.stdout) as Array<Record<string, unknown>>;
    expect(rows.at(-1)).toMatchObject({ event: 1, direction: 'increase', retraining: `retrain-${model}-drift-1`, decision: 'canary' });
    const stopped = await run(['drift', 'status', `${model}-none`]);
    expect([stopped.code, stopped.stderr]).toEqual([2, `flywheel: no drift monitor for model ${model}-none (flywheel drift start ${model}-none --dataset …)\n`]);
    const bad = await run(['drift', 'start', model, '--dataset', 'iris', '--poll', 'often']);
    expect([bad.code, bad.stderr]).toEqual([2, 'flywheel: --poll: "often" must be a duration like 10s or 1m\n']);
  });
});
