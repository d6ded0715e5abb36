/**
 * A canary that begins with a shadow step, on the real stack (Temporal, PostgreSQL, MLflow, a real
 * gateway on a real port): v1 serves; v2 — v1's ONNX registered again, with 80 % of its labels
 * swapped by fault injection — is rolled out with `shadow:…` first. Live traffic and true labels go
 * through the gateway while the rollout runs. The shadow step must judge v2 worse on the same
 * requests and roll it back before any user saw it: 0 predictions served by v2, v2 never given
 * weight, the shadow stopped (attributed to the rollout), v2 rejected, v2's shadow answers stored.
 * A rollout cancelled during its shadow step stops the shadow too (v3, a healthy copy).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { setFault } from '../../activities/traffic';
import { ONNX_ARTIFACT_PATH } from '../../activities/registry';
import type { MlflowClient } from '../../clients/mlflow';
import { softmaxRegressionToOnnx } from '../../lib/onnx/softmax-regression-graph';
import type { CanaryRolloutInput } from '../../lib/rollout/spec';
import { createGateway, type Gateway } from '../../serving/app';
import { JsonClient } from '../../traffic/http';
import { rolloutStatusQuery, type CanaryRollout } from '../../workflows/canary-rollout';
import { testApiKey } from './helpers/auth';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { TEST_MODEL_PARAMS } from './helpers/local-gateway';

let env: TestEnv;
let gateway: Gateway;
let client: JsonClient;
const model = uniqueModelName('shadow-canary');
const FEATURES = [5.1, 3.5, 1.4, 0.2];

/** Registers ONNX bytes as a model version the way the pipeline does: a run with model/model.onnx, then a version. */
async function registerOnnx(mlflow: MlflowClient, bytes: Uint8Array): Promise<string> {
  const experimentId = await mlflow.ensureExperiment(model);
  const run = await mlflow.createRun(experimentId, 'hand-made', [], Date.now());
  await mlflow.uploadArtifact(run.info.artifact_uri, ONNX_ARTIFACT_PATH, bytes);
  await mlflow.finishRun(run.info.run_id, 'FINISHED', Date.now());
  await mlflow.ensureRegisteredModel(model, 'shadow canary test');
  let mv = await mlflow.createModelVersion(model, `${run.info.artifact_uri}/model`, run.info.run_id, []);
  for (let i = 0; i < 40 && mv.status !== 'READY'; i++) {
    await new Promise((r) => setTimeout(r, 250));
    mv = (await mlflow.getModelVersion(model, mv.version)) ?? mv;
  }
  return mv.version;
}

beforeAll(async () => {
  env = await openTestEnv('shadow-canary');
  const onnx = softmaxRegressionToOnnx(TEST_MODEL_PARAMS);
  expect(await registerOnnx(env.mlflow, onnx)).toBe('1');
  expect(await registerOnnx(env.mlflow, onnx)).toBe('2');
  expect(await registerOnnx(env.mlflow, onnx)).toBe('3');
  await deployVersion(env.db, env.mlflow, { model, version: '1' });
  // Deployed ahead of the rollout (its own deploy step then finds it active) so that its fault can be set.
  await deployVersion(env.db, env.mlflow, { model, version: '2' });
  await setFault(env.db, { model, version: '2', wrongLabelRate: 0.8 });
  gateway = await createGateway({ ...env.config, gateway: { ...env.config.gateway, pollMs: 500, flushMs: 50 } }, { port: 0, logger: false });
  const url = await gateway.listen();
  client = new JsonClient(url, 8, { apiKey: await testApiKey(env, 'shadow-canary') });
}, 120_000);

afterAll(async () => {
  client?.close();
  await gateway?.close();
  // Later gateways on this database would otherwise load these models too.
  for (const table of ['shadow_predictions', 'shadow_deployments', 'fault_injection', 'traffic_weights', 'traffic_revisions', 'deployments']) {
    await env?.db.query(`DELETE FROM ${table} WHERE model = $1`, [model]);
  }
  await env?.close();
});

describe('canary with a shadow step', () => {
  it('rejects a candidate found worse in shadow before any user saw one of its answers', async () => {
    const input: CanaryRolloutInput = {
      model,
      candidateVersion: '2',
      steps: [{ weight: 0, pauseSeconds: 300, shadow: true }, { weight: 50, pauseSeconds: 30 }, { weight: 100, pauseSeconds: 0 }],
      analysis: { intervalSeconds: 1 },
      taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control },
    };
    const servedBy = new Map<string, number>();
    let labels = 0;
    const result = await runWorkers(env, async () => {
      const handle = await env.client.workflow.start<typeof CanaryRollout>('CanaryRollout', { taskQueue: env.taskQueues.workflows, workflowId: `canary-${model}`, args: [input] });
      const done = handle.result().finally(() => (running = false));
      let running = true;
      // Live traffic while the rollout runs; every answer comes back with its true label (v1 is right).
      while (running) {
        const res = await client.post(`/v1/models/${model}/predict`, { instances: Array.from({ length: 20 }, () => FEATURES) });
        expect(res.status).toBe(200);
        const b = res.body as { version: string; predictionIds: string[]; labels: string[] };
        servedBy.set(b.version, (servedBy.get(b.version) ?? 0) + b.predictionIds.length);
        const fb = await client.post('/v1/feedback/batch', { items: b.predictionIds.map((predictionId, i) => ({ predictionId, kind: 'label', label: b.labels[i] })) });
        labels += (fb.body as { stored: number }).stored;
        await new Promise((r) => setTimeout(r, 100));
      }
      const status = await handle.query(rolloutStatusQuery);
      return { result: await done, status };
    });

    expect(result.result).toMatchObject({ outcome: 'rolled-back', candidateVersion: '2', stableVersion: '1' });
    expect(result.result.reason).toMatch(/^shadow step failed before any user saw v2: accuracy: only the shadow wrong label on \d+, only the serving version on 0 labelled requests: shadow worse/);
    expect(result.status.decisions.map((d) => d.action)).toEqual(['deploy', 'shadow', 'rollback']);
    expect(result.status.analyses.at(-1)).toMatchObject({ step: 1, weight: 0, verdict: 'fail' });
    expect(labels).toBeGreaterThan(0);

    // No user saw v2: every answer was v1's, and no served prediction of v2 exists.
    expect([...servedBy.keys()]).toEqual(['1']);
    await gateway.recorder.flush();
    await gateway.shadow.flush();
    const count = async (sql: string) => (await env.db.query<{ n: number }>(sql, [model])).rows[0]!.n;
    expect(await count(`SELECT count(*)::int AS n FROM predictions WHERE model = $1 AND version = '2'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM shadow_predictions WHERE model = $1 AND version = '2'`)).toBeGreaterThan(0);
    const weights = await env.db.query<{ version: string; weight: number }>('SELECT version, weight FROM traffic_weights WHERE model = $1 ORDER BY version', [model]);
    expect(weights.rows).toEqual([{ version: '1', weight: 10_000 }, { version: '2', weight: 0 }]);
    const shadow = await env.db.query<{ started_by: string; stopped_by: string | null; stop_reason: string }>('SELECT started_by, stopped_by, stop_reason FROM shadow_deployments WHERE model = $1', [model]);
    expect(shadow.rows).toHaveLength(1);
    expect(shadow.rows[0]).toMatchObject({ started_by: `workflow:canary-${model}`, stopped_by: `workflow:canary-${model}` });
    expect(shadow.rows[0]!.stop_reason).toMatch(/^shadow step failed before any user saw v2/);
    const dep = await env.db.query<{ state: string }>(`SELECT state FROM deployments WHERE model = $1 AND version = '2'`, [model]);
    expect(dep.rows[0]!.state).toBe('rejected');
  }, 240_000);

  it('stops the shadow when the rollout is cancelled during its shadow step', async () => {
    const input: CanaryRolloutInput = {
      model,
      candidateVersion: '3',
      steps: [{ weight: 0, pauseSeconds: 300, shadow: true }, { weight: 100, pauseSeconds: 0 }],
      analysis: { intervalSeconds: 1 },
      taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control },
    };
    const running = async () => (await env.db.query(`SELECT 1 FROM shadow_deployments WHERE model = $1 AND version = '3' AND stopped_at IS NULL`, [model])).rowCount ?? 0;
    const outcome = await runWorkers(env, async () => {
      const handle = await env.client.workflow.start<typeof CanaryRollout>('CanaryRollout', { taskQueue: env.taskQueues.workflows, workflowId: `canary-${model}`, args: [input] });
      const deadline = Date.now() + 60_000;
      while ((await running()) === 0) {
        if (Date.now() > deadline) throw new Error('the shadow step did not start within 60 s');
        await new Promise((r) => setTimeout(r, 200));
      }
      await gatewaySees('3');
      await handle.cancel();
      const error = await handle.result().then(() => undefined, (err: Error) => err);
      return { error, status: await handle.query(rolloutStatusQuery) };
    });
    expect(outcome.error?.message).toMatch(/cancel/i);
    expect(outcome.status.state).toBe('cancelled');
    expect(await running()).toBe(0);
    const shadow = await env.db.query<{ stopped_by: string; stop_reason: string }>(`SELECT stopped_by, stop_reason FROM shadow_deployments WHERE model = $1 AND version = '3'`, [model]);
    expect(shadow.rows).toEqual([{ stopped_by: `workflow:canary-${model}`, stop_reason: 'aborted: the rollout workflow was cancelled' }]);
    await until(() => gateway.shadow.pick(model, '1') === undefined);
  }, 120_000);
});

async function until(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('not within 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const gatewaySees = (version: string) => until(() => gateway.shadow.pick(model, '1') === version);
