/**
 * deployVersion and the traffic activities on the real stack (PostgreSQL, MLflow): a version
 * whose ONNX does not load, or whose input does not match its metadata, is refused
 * non-retryably, recorded nowhere, and never served by a running gateway.
 */
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion, INVALID_DEPLOYMENT } from '../../activities/deploy';
import { getTrafficWeights, markDeployment, setTrafficWeights } from '../../activities/traffic';
import { ONNX_ARTIFACT_PATH } from '../../activities/registry';
import type { MlflowClient } from '../../clients/mlflow';
import { attr, encodeModel } from '../../lib/onnx/model';
import { softmaxRegressionToOnnx } from '../../lib/onnx/softmax-regression-graph';
import { createGateway, type Gateway } from '../../serving/app';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';

let env: TestEnv;
let gateway: Gateway;
let url: string;
let apiKey: string;
const models: string[] = [];

beforeAll(async () => {
  env = await openTestEnv('serving-deploy');
  gateway = await createGateway({ ...env.config, gateway: { ...env.config.gateway, pollMs: 500 } }, { port: 0, logger: false });
  url = await gateway.listen();
  apiKey = await testApiKey(env, 'serving-deploy');
});
afterAll(async () => {
  await gateway?.close();
  // Later gateways on this database would otherwise load these models too.
  for (const table of ['fault_injection', 'traffic_weights', 'traffic_revisions', 'deployments']) {
    await env?.db.query(`DELETE FROM ${table} WHERE model = ANY($1)`, [models]);
  }
  await env?.close();
});

/** Registers bytes as a model version the way the pipeline does: a run with model/model.onnx, then a version. */
async function registerOnnx(mlflow: MlflowClient, model: string, bytes: Uint8Array | undefined): Promise<string> {
  const experimentId = await mlflow.ensureExperiment(model);
  const run = await mlflow.createRun(experimentId, 'hand-made', [], Date.now());
  if (bytes) await mlflow.uploadArtifact(run.info.artifact_uri, ONNX_ARTIFACT_PATH, bytes);
  await mlflow.finishRun(run.info.run_id, 'FINISHED', Date.now());
  await mlflow.ensureRegisteredModel(model, 'serving test');
  let mv = await mlflow.createModelVersion(model, `${run.info.artifact_uri}/model`, run.info.run_id, []);
  for (let i = 0; i < 40 && mv.status !== 'READY'; i++) {
    await new Promise((r) => setTimeout(r, 250));
    mv = (await mlflow.getModelVersion(model, mv.version)) ?? mv;
  }
  return mv.version;
}

function goodOnnx(): Uint8Array {
  return softmaxRegressionToOnnx({
    family: 'softmax-regression',
    nFeatures: 4,
    classes: ['a', 'b', 'c'],
    mean: [0, 0, 0, 0],
    scale: [1, 1, 1, 1],
    weights: Array.from({ length: 12 }, (_, i) => i / 10),
    bias: [0, 0, 0],
  });
}

/** A loadable graph whose input is [batch, 3] while its metadata claims 4 features. */
function wrongShapeOnnx(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetVersion: 17,
    graph: {
      name: 'wrong_shape',
      nodes: [
        { opType: 'MatMul', inputs: ['features', 'w'], outputs: ['logits'] },
        { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: attr.int(1) } },
        { opType: 'ArgMax', inputs: ['logits'], outputs: ['label'], attributes: { axis: attr.int(1), keepdims: attr.int(0) } },
      ],
      initializers: [{ name: 'w', elemType: 'float32', dims: [3, 3], data: [1, 0, 0, 0, 1, 0, 0, 0, 1] }],
      inputs: [{ name: 'features', elemType: 'float32', shape: ['batch', 3] }],
      outputs: [
        { name: 'probabilities', elemType: 'float32', shape: ['batch', 3] },
        { name: 'label', elemType: 'int64', shape: ['batch'] },
      ],
    },
    metadata: { 'flywheel.n_features': '4', 'flywheel.classes': JSON.stringify(['a', 'b', 'c']) },
  });
}

async function refusal(model: string, version: string): Promise<ApplicationFailure> {
  const err = await deployVersion(env.db, env.mlflow, { model, version }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  const failure = err as ApplicationFailure;
  expect(failure.type).toBe(INVALID_DEPLOYMENT);
  expect(failure.nonRetryable).toBe(true);
  return failure;
}

async function servedVersions(model: string): Promise<string[]> {
  const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
  const body = (await res.json()) as { models: Array<{ model: string; versions: Array<{ version: string }> }> };
  return body.models.find((m) => m.model === model)?.versions.map((v) => v.version) ?? [];
}

async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('deployVersion on the real stack', () => {
  it('deploys a good version with all traffic, refuses broken ones, and the gateway serves only the good one', async () => {
    const model = uniqueModelName('deploy');
    models.push(model);
    const good = await registerOnnx(env.mlflow, model, goodOnnx());
    const garbage = await registerOnnx(env.mlflow, model, new TextEncoder().encode('this is not an ONNX model'));
    const wrongShape = await registerOnnx(env.mlflow, model, wrongShapeOnnx());
    const noArtifact = await registerOnnx(env.mlflow, model, undefined);

    const deployed = await deployVersion(env.db, env.mlflow, { model, version: good });
    expect(deployed).toMatchObject({ model, version: good, state: 'active', weight: 10000, firstDeployment: true, created: true, nFeatures: 4, classes: ['a', 'b', 'c'] });
    // A repeat (an activity retry) changes nothing.
    expect(await deployVersion(env.db, env.mlflow, { model, version: good })).toMatchObject({ weight: 10000, created: false });

    expect((await refusal(model, garbage)).message).toMatch(new RegExp(`^model ${model} version ${garbage} refused: onnxruntime cannot load it: `));
    expect((await refusal(model, wrongShape)).message).toBe(
      `model ${model} version ${wrongShape} refused: input features has shape [batch, 3], but the model's metadata says n_features = 4: expected [batch, 4]`,
    );
    expect((await refusal(model, noArtifact)).message).toMatch(/: no ONNX at mlflow-artifacts:.*model\/model\.onnx$/);
    expect((await refusal(model, '999')).message).toBe(`model ${model} version 999 is not in the MLflow registry (see flywheel models show ${model})`);

    const { rows } = await env.db.query('SELECT version, state FROM deployments WHERE model = $1', [model]);
    expect(rows).toEqual([{ version: good, state: 'active' }]);
    expect(await eventually(() => servedVersions(model), (v) => v.length > 0)).toEqual([good]);
    const res = await fetch(`${url}/v1/models/${model}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ features: [1, 2, 3, 4] }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { version: string }).version).toBe(good);
  });

  it('sets weights atomically, refuses bad ones with a message naming the problem, and guards state changes', async () => {
    const model = uniqueModelName('weights');
    models.push(model);
    const v1 = await registerOnnx(env.mlflow, model, goodOnnx());
    const v2 = await registerOnnx(env.mlflow, model, goodOnnx());
    await deployVersion(env.db, env.mlflow, { model, version: v1 });
    expect(await deployVersion(env.db, env.mlflow, { model, version: v2 })).toMatchObject({ weight: 0, firstDeployment: false });

    const bad = (weights: Record<string, number>) => setTrafficWeights(env.db, { model, weights }).then(() => undefined, (e: ApplicationFailure) => e.message);
    expect(await bad({ [v1]: 9000, [v2]: 999 })).toBe(`model ${model}: weights: must sum to 10000 basis points (100%), got 9999`);
    expect(await bad({ [v1]: 9000, '77': 1000 })).toBe(`model ${model} has no deployed version 77 (deployed: ${v1}, ${v2})`);

    const changed = await setTrafficWeights(env.db, { model, weights: { [v1]: 9000, [v2]: 1000 } });
    expect(changed).toMatchObject({ previous: { [v1]: 10000, [v2]: 0 }, weights: { [v1]: 9000, [v2]: 1000 }, changed: true });
    const again = await setTrafficWeights(env.db, { model, weights: { [v1]: 9000, [v2]: 1000 } });
    // A retry of the same change reports what the first attempt replaced.
    expect(again).toMatchObject({ changed: false, revision: changed.revision, previous: { [v1]: 10000, [v2]: 0 } });
    expect(await getTrafficWeights(env.db, model)).toMatchObject({ revision: changed.revision, weights: { [v1]: 9000, [v2]: 1000 } });

    const markErr = await markDeployment(env.db, { model, version: v2, state: 'rejected', reason: 'canary failed' }).then(() => undefined, (e: Error) => e.message);
    expect(markErr).toBe(`model ${model} version ${v2} still has 1000 basis points of traffic: move them to another version before marking it rejected`);
    await setTrafficWeights(env.db, { model, weights: { [v1]: 10000 } });
    expect(await markDeployment(env.db, { model, version: v2, state: 'rejected', reason: 'canary failed' })).toMatchObject({ state: 'rejected', previousState: 'active' });
    expect(await bad({ [v1]: 5000, [v2]: 5000 })).toBe(`model ${model} version ${v2} is rejected: only active versions can get traffic`);
    // The gateway drops the rejected version.
    expect(await eventually(() => servedVersions(model), (v) => v.length === 1)).toEqual([v1]);
  });
});
