/**
 * Feature drift on served traffic, on the real stack (issue 15): v1 is trained (TrainingPipeline,
 * real workers) and deployed; a real gateway serves rows drawn from its own training data, and the
 * real `flywheel drift features` finds nothing; then it serves the same rows with one feature
 * shifted, and the check names that feature (PSI and KS), records a feature drift event before any
 * label has arrived, and `flywheel drift events` lists it. A column the logging policy hashes is
 * left out of the comparison.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { PROJECT_ROOT } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import type { Dataset } from '../../lib/data/table';
import { createGateway, type Gateway } from '../../serving/app';
import { JsonClient } from '../../traffic/http';
import { testApiKey } from './helpers/auth';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { featureDriftMonitorId } from '../../lib/retraining/feature-drift-spec';
import { featureDriftStatusQuery, stopFeatureDriftSignal, type FeatureDriftMonitorStatus } from '../../workflows/feature-drift-monitor';

let env: TestEnv;
let gateway: Gateway;
let client: JsonClient;
let ds: Dataset;
const model = uniqueModelName('featdrift');
const DATASET = 'synthetic:rows=2000,features=4,classes=2,seed=7';

beforeAll(async () => {
  env = await openTestEnv('feature-drift');
  await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}-v1`,
      args: [{ model, dataset: DATASET, family: 'softmax-regression', hyperparameters: { epochs: 20, seed: 1 }, taskQueues: { cpu: env.taskQueues.cpu } }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    await handle.result();
  });
  await deployVersion(env.db, env.mlflow, { model, version: '1' });
  const loaded = await loadDataset(DATASET);
  if (!loaded.ok) throw new Error(loaded.error.message);
  ds = loaded.value.dataset;
  gateway = await createGateway({ ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 200, flushMs: 50 } }, { port: 0, logger: false });
  client = new JsonClient(await gateway.listen(), 4, { apiKey: await testApiKey(env, 'featdrift') });
});

afterAll(async () => {
  client?.close();
  await gateway?.close();
  await env?.db.query('DELETE FROM feature_drift_events WHERE model = $1', [model]);
  await env?.close();
});

function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: process.env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/** Serves 600 training rows (from `offset`), feature `j` moved by `shift`, in batches. */
async function serve(offset: number, shift: number, j = 2): Promise<void> {
  for (let b = 0; b < 6; b++) {
    const instances = Array.from({ length: 100 }, (_, i) => {
      const r = offset + b * 100 + i;
      const x = Array.from(ds.x.subarray(r * 4, r * 4 + 4));
      x[j]! += shift;
      return x;
    });
    const res = await client.post(`/v1/models/${model}/predict`, { instances });
    expect(res.status).toBe(200);
  }
  await gateway.recorder.flush();
}

interface Check { judged: boolean; windowRows: number; moved: Array<{ name: string; feature: number; psi: number; pvalue: number }>; scores: unknown[]; excluded: number[]; eventId?: string }

describe('flywheel drift features', () => {
  it('finds nothing on traffic like the training data, then names the feature that moved, with no label', async () => {
    await serve(0, 0);
    const calm = await cli(['drift', 'features', model, '--window', '600', '--json']);
    expect(calm.code, calm.out).toBe(0);
    const c = JSON.parse(calm.out) as Check;
    expect(c).toMatchObject({ judged: true, windowRows: 600, moved: [], excluded: [] });
    expect(c.scores).toHaveLength(4);

    await serve(600, 3 * std(2));
    const shifted = await cli(['drift', 'features', model, '--window', '600', '--json']);
    expect(shifted.code, shifted.out).toBe(0);
    const s = JSON.parse(shifted.out) as Check;
    expect(s.moved.map((m) => m.feature)).toEqual([2]);
    expect(s.moved[0]!.psi).toBeGreaterThan(0.1);
    expect(s.eventId).toBeDefined();
    expect((await env.db.query("SELECT count(*)::int AS n FROM feedback f JOIN predictions p ON p.id = f.prediction_id WHERE p.model = $1", [model])).rows[0].n).toBe(0);

    const events = await cli(['drift', 'events', model, '--json', '--features']);
    expect(events.code, events.out).toBe(0);
    const listed = JSON.parse(events.out) as Array<{ event: string; champion: string; windowRows: number; features: Array<{ feature: number }>; source: string }>;
    expect(listed).toEqual([expect.objectContaining({ event: s.eventId, champion: '1', windowRows: 600, source: 'cli', features: [expect.objectContaining({ feature: 2 })] })]);
  }, 120_000);

  it('leaves a hashed column out of the comparison', async () => {
    expect((await cli(['data', 'logging', model, '--hash', '2'])).code).toBe(0);
    const r = await cli(['drift', 'features', model, '--window', '600', '--json']);
    expect(r.code, r.out).toBe(0);
    const c = JSON.parse(r.out) as Check;
    expect(c.excluded).toEqual([2]);
    expect(c.scores).toHaveLength(3);
    expect(c.moved).toEqual([]);
  }, 60_000);

  it('a FeatureDriftMonitor raises one event per shift, shown in its status, then judges only newer rows', async () => {
    await serve(1200, 3 * std(1), 1);
    const workflowId = featureDriftMonitorId(model);
    const { status, result, events } = await runWorkers(env, async () => {
      const handle = await env.client.workflow.start('FeatureDriftMonitor', {
        taskQueue: env.taskQueues.workflows,
        workflowId,
        args: [{ model, windowRows: 600, pollSeconds: 0.5, taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } }],
      });
      const deadline = Date.now() + 60_000;
      let s: FeatureDriftMonitorStatus;
      // The event, then at least two checks after it (which must find no new rows to judge).
      for (;;) {
        s = await handle.query(featureDriftStatusQuery);
        if (s.recentEvents.length > 0 && s.checks >= 3) break;
        if (Date.now() > deadline) throw new Error(`no event and two more checks within 60 s: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await handle.signal(stopFeatureDriftSignal, 'test done');
      const result = (await handle.result()) as FeatureDriftMonitorStatus;
      const { rows } = await env.db.query('SELECT id::text, source FROM feature_drift_events WHERE model = $1 AND source = $2', [model, workflowId]);
      return { status: s, result, events: rows };
    });
    console.log(`FeatureDriftMonitor history to record: ${workflowId} in namespace ${env.config.temporal.namespace}`);
    expect(status.recentEvents).toHaveLength(1);
    expect(status.recentEvents[0]!.features.map((f) => f.feature)).toEqual([1]);
    expect(status.recentEvents[0]!.note).toBe('features moved; no retraining configured');
    expect(status.lastCheck).toMatchObject({ judged: false, windowRows: 0, moved: [] });
    expect(events).toEqual([{ id: status.recentEvents[0]!.eventId, source: workflowId }]);
    expect(result.state).toBe('stopped');
  }, 120_000);

  it('refuses a model that serves nothing, with exit 2', async () => {
    const r = await cli(['drift', 'features', 'no-such-model', '--window', '600']);
    expect([r.code, r.out.trim()]).toEqual([2, 'flywheel: model no-such-model serves no traffic: nothing to compare']);
  });
});

function std(j: number): number {
  let m = 0;
  for (let i = 0; i < ds.nRows; i++) m += ds.x[i * 4 + j]!;
  m /= ds.nRows;
  let v = 0;
  for (let i = 0; i < ds.nRows; i++) v += (ds.x[i * 4 + j]! - m) ** 2;
  return Math.sqrt(v / ds.nRows);
}
