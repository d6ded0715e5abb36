/**
 * What Flywheel registers is an MLflow model the MLflow ecosystem loads: a version trained by the
 * real TrainingPipeline, made champion the way a canary promotes one, is loaded by
 * `mlflow.pyfunc.load_model('models:/<model>@champion')` and served by
 * `mlflow models serve -m models:/<model>@champion`, and both give the probabilities and labels
 * that the ONNX gives in TypeScript (onnxruntime-node, the gateway's engine). The run and the
 * version carry the build's commit under MLflow's standard tag.
 */
import { mlflowAuthEnv } from '../../clients/mlflow';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAME } from '../../config/search-attributes';
import { createCanaryActivities } from '../../activities/canary';
import { ONNX_ARTIFACT_PATH } from '../../activities/registry';
import { tagsToRecord } from '../../clients/mlflow';
import type { TrainingPipelineResult } from '../../workflows/training-pipeline';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { VENV_BIN, pyfuncPredict } from './helpers/mlflow-python';

/** Iris rows: one of each species and one between two. */
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.7, 3.1, 4.4, 1.4],
  [6.3, 3.3, 6.0, 2.5],
  [6.0, 2.7, 5.1, 1.6],
];

interface Outputs {
  probabilities: number[][];
  label: number[];
}

let env: TestEnv;
let model: string;
let trained: TrainingPipelineResult;
let expected: Outputs;
let experimentId: string | undefined;

beforeAll(async () => {
  env = await openTestEnv('flavour');
  model = uniqueModelName('flavour');
  trained = await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}`,
      args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 30, learningRate: 0.1 }, taskQueues: { cpu: env.taskQueues.cpu } }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    return (await handle.result()) as TrainingPipelineResult;
  });
  experimentId = (await env.mlflow.getExperimentByName(model))?.experiment_id;
  // Champion the way Flywheel makes one: the canary's promotion activity.
  await createCanaryActivities(env.config).promoteChampion({ model, version: trained.version, reason: 'mlflow flavour test', workflowId: `train-${model}` });

  // The reference: the registered ONNX run in TypeScript by onnxruntime-node.
  const run = await env.mlflow.getRun(trained.mlflowRunId);
  const session = await ort.InferenceSession.create(await env.mlflow.downloadArtifact(run.info.artifact_uri, ONNX_ARTIFACT_PATH));
  const out = await session.run({ features: new ort.Tensor('float32', Float32Array.from(ROWS.flat()), [ROWS.length, 4]) });
  const probs = Array.from(out.probabilities!.data as Float32Array);
  expected = {
    probabilities: ROWS.map((_, i) => probs.slice(i * 3, i * 3 + 3)),
    label: Array.from(out.label!.data as BigInt64Array, Number),
  };
}, 300_000);

afterAll(async () => {
  if (model) await env?.mlflow.deleteRegisteredModel(model);
  if (experimentId) await env?.mlflow.deleteExperiment(experimentId);
  await env?.close();
});

function expectSameOutputs(got: Outputs): void {
  expect(got.label).toEqual(expected.label);
  expect(got.probabilities.length).toBe(ROWS.length);
  got.probabilities.forEach((row, i) => row.forEach((p, j) => expect(p).toBeCloseTo(expected.probabilities[i]![j]!, 6)));
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  await once(server, 'close');
  return port;
}

describe('Flywheel versions are MLflow models', () => {
  it('registers the version from a folder with MLmodel (onnx + python_function flavours, a signature) beside model.onnx', async () => {
    const mv = await env.mlflow.getModelVersion(model, trained.version);
    const run = await env.mlflow.getRun(trained.mlflowRunId);
    expect(mv!.source).toBe(`${run.info.artifact_uri}/model`);
    const text = new TextDecoder().decode(await env.mlflow.downloadArtifact(run.info.artifact_uri, 'model/MLmodel'));
    const mlmodel = parse(text) as Record<string, any>;
    expect(mlmodel.run_id).toBe(trained.mlflowRunId);
    expect(mlmodel.flavors.python_function.loader_module).toBe('mlflow.onnx');
    expect(mlmodel.flavors.onnx.data).toBe('model.onnx');
    expect(JSON.parse(mlmodel.signature.inputs)).toEqual([{ name: 'features', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 4] } }]);
    for (const f of ['requirements.txt', 'python_env.yaml', 'conda.yaml']) {
      expect((await env.mlflow.downloadArtifact(run.info.artifact_uri, `model/${f}`)).byteLength).toBeGreaterThan(0);
    }
  });

  it('records the build commit under MLflow’s standard tag on the run and the version, beside Flywheel’s', async () => {
    const runTags = tagsToRecord((await env.mlflow.getRun(trained.mlflowRunId)).data.tags);
    expect(runTags['mlflow.source.git.commit']).toBe('test-commit');
    expect(runTags['flywheel.git_commit']).toBe('test-commit');
    const versionTags = tagsToRecord((await env.mlflow.getModelVersion(model, trained.version))!.tags);
    expect(versionTags['mlflow.source.git.commit']).toBe('test-commit');
  });

  it('mlflow.pyfunc.load_model("models:/<model>@champion") predicts what the ONNX predicts in TypeScript', async () => {
    expectSameOutputs((await pyfuncPredict(env.config.mlflow, `models:/${model}@champion`, ROWS)) as unknown as Outputs);
  }, 180_000);

  it('mlflow models serve -m models:/<model>@champion answers /invocations with the same outputs', async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(path.join(VENV_BIN, 'mlflow'), ['models', 'serve', '-m', `models:/${model}@champion`, '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(port)], {
      // As with the venv activated: the scoring server is the venv's `uvicorn`, found on PATH.
      env: { ...process.env, PATH: `${VENV_BIN}${path.delimiter}${process.env.PATH ?? ''}`, MLFLOW_TRACKING_URI: env.config.mlflow.trackingUri, ...mlflowAuthEnv(env.config.mlflow.auth) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so stopping it stops the server it starts
    });
    let log = '';
    child.stdout!.on('data', (b) => (log += b));
    child.stderr!.on('data', (b) => (log += b));
    const exited = once(child, 'exit');
    try {
      // Generous polling: the first start downloads the model and imports MLflow's server.
      let up = false;
      for (let i = 0; i < 600 && !up && child.exitCode === null; i++) {
        up = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
        if (!up) await new Promise((r) => setTimeout(r, 250));
      }
      expect(up, `mlflow models serve did not answer /ping:\n${log}`).toBe(true);
      const res = await fetch(`http://127.0.0.1:${port}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: ROWS }),
      });
      const body = (await res.json()) as { predictions: Outputs };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expectSameOutputs(body.predictions);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
    }
  }, 240_000);
});
