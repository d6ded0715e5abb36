/**
 * Deploying a registered model version to the gateway: fetch its ONNX from MLflow, prove that
 * onnxruntime-node loads it, that its input is [batch, n_features] as its metadata says, and that
 * a dummy inference returns probabilities; only then record it as an active deployment. A model's
 * first deployment gets all its traffic; later ones start at weight 0 (a rollout raises it).
 *
 * A version that fails a check is refused with a non-retryable InvalidDeployment failure: no retry
 * makes a broken ONNX load. MLflow or PostgreSQL being unreachable stays retryable.
 */
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import * as ort from 'onnxruntime-node';
import type pg from 'pg';
import type { FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { MlflowClient, MlflowError, tagsToRecord } from '../clients/mlflow';
import { checkDummyOutput, checkSignature, ModelCheckError, modelInfo, PROBABILITIES, type ModelInfo } from '../serving/model-check';
import { readOnnx, sha256, UnsupportedOnnxUri } from '../serving/onnx-source';
import { BUCKETS } from '../serving/routing';
import { ONNX_ARTIFACT_PATH } from './registry';
import { bumpRevision, createTrafficActivities, inTransaction, lockModel, writeWeights } from './traffic';
import { domainLog } from './domain-log';

export const INVALID_DEPLOYMENT = 'InvalidDeployment';

export interface DeployVersionInput {
  model: string;
  version: string;
}

export interface DeployVersionResult {
  model: string;
  version: string;
  onnxUri: string;
  onnxSha256: string;
  nFeatures: number;
  classes: string[];
  state: 'active';
  /** Basis points it serves right after this call. */
  weight: number;
  /** True when it was the model's first version with traffic, so it got all of it. */
  firstDeployment: boolean;
  /** False when it was already active with the same ONNX (a retried or repeated call). */
  created: boolean;
}

export function invalidDeployment(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_DEPLOYMENT, message, nonRetryable: true });
}

/** Heartbeats when running as an activity; a no-op when the CLI calls us directly. */
function beat(): void {
  try {
    heartbeat();
  } catch {
    /* not in an activity context */
  }
}

/** Loads the bytes in onnxruntime-node and runs two dummy rows; throws ModelCheckError on any defect. */
export async function checkOnnx(bytes: Uint8Array): Promise<ModelInfo> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (err) {
    throw new ModelCheckError(`onnxruntime cannot load it: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    const info = modelInfo(bytes);
    checkSignature(info, session.inputMetadata, session.outputMetadata);
    const rows = 2;
    const data = new Float32Array(rows * info.nFeatures).fill(1, info.nFeatures);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, [rows, info.nFeatures]) });
    } catch (err) {
      throw new ModelCheckError(`dummy inference failed: ${(err as Error).message.split('\n')[0]}`);
    }
    const label = out.label?.data as BigInt64Array | undefined;
    checkDummyOutput(info, rows, out[PROBABILITIES]!.data as Float32Array, label ? Array.from(label, Number) : undefined);
    return info;
  } finally {
    await session.release().catch(() => undefined);
  }
}

export async function deployVersion(pool: pg.Pool, mlflow: MlflowClient, input: DeployVersionInput): Promise<DeployVersionResult> {
  const { model, version } = input;
  const what = `model ${model} version ${version}`;
  const mv = await mlflow.getModelVersion(model, version);
  if (!mv) throw invalidDeployment(`${what} is not in the MLflow registry (see flywheel models show ${model})`);
  if (mv.status && mv.status !== 'READY') throw invalidDeployment(`${what} is ${mv.status} in MLflow, not READY`);
  if (!mv.run_id) throw invalidDeployment(`${what} has no MLflow run, so no ONNX artifact to serve`);
  const run = await mlflow.getRun(mv.run_id);
  const onnxUri = `${run.info.artifact_uri.replace(/\/+$/, '')}/${ONNX_ARTIFACT_PATH}`;
  beat();

  let bytes: Uint8Array;
  try {
    bytes = await readOnnx(mlflow, onnxUri);
  } catch (err) {
    if (err instanceof MlflowError && err.notFound) throw invalidDeployment(`${what}: no ONNX at ${onnxUri}`);
    if ((err instanceof MlflowError && err.errorCode === 'UNSUPPORTED_ARTIFACT_STORE') || err instanceof UnsupportedOnnxUri) throw invalidDeployment(`${what}: ${err.message}`);
    throw err;
  }
  beat();
  const digest = sha256(bytes);
  const tagged = tagsToRecord(mv.tags)['flywheel.onnx_sha256'];
  if (tagged && tagged !== digest) throw invalidDeployment(`${what}: the ONNX at ${onnxUri} has sha256 ${digest}, but the version is tagged flywheel.onnx_sha256=${tagged}`);

  let info: ModelInfo;
  try {
    info = await checkOnnx(bytes);
  } catch (err) {
    if (err instanceof ModelCheckError) throw invalidDeployment(`${what} refused: ${err.message}`);
    throw err;
  }
  beat();

  return inTransaction(pool, async (client) => {
    await lockModel(client, model);
    const { rows: existing } = await client.query<{ state: string; onnx_sha256: string }>(
      'SELECT state, onnx_sha256 FROM deployments WHERE model = $1 AND version = $2',
      [model, version],
    );
    const { rows: weighted } = await client.query<{ version: string; weight: number; ranges: [number, number][] }>(
      'SELECT version, weight, ranges FROM traffic_weights WHERE model = $1 AND weight > 0',
      [model],
    );
    const created = !(existing[0]?.state === 'active' && existing[0].onnx_sha256 === digest);
    await client.query(
      `INSERT INTO deployments (model, version, onnx_uri, onnx_sha256, n_features, classes, state, reason)
       VALUES ($1, $2, $3, $4, $5, $6, 'active', NULL)
       ON CONFLICT (model, version) DO UPDATE SET onnx_uri = EXCLUDED.onnx_uri, onnx_sha256 = EXCLUDED.onnx_sha256,
         n_features = EXCLUDED.n_features, classes = EXCLUDED.classes, state = 'active', reason = NULL, updated_at = now()`,
      [model, version, onnxUri, digest, info.nFeatures, JSON.stringify(info.classes)],
    );
    const firstDeployment = weighted.length === 0;
    const current = weighted.find((w) => w.version === version)?.weight ?? 0;
    if (firstDeployment) {
      const { rows: all } = await client.query<{ version: string }>('SELECT version FROM deployments WHERE model = $1', [model]);
      const weights = Object.fromEntries(all.map((r) => [r.version, r.version === version ? BUCKETS : 0]));
      await writeWeights(client, model, {}, weights);
      await bumpRevision(client, model, Object.fromEntries(all.map((r) => [r.version, 0])));
    } else {
      await client.query(
        'INSERT INTO traffic_weights (model, version, weight, ranges) VALUES ($1, $2, 0, $3) ON CONFLICT (model, version) DO NOTHING',
        [model, version, '[]'],
      );
    }
    return {
      model,
      version,
      onnxUri,
      onnxSha256: digest,
      nFeatures: info.nFeatures,
      classes: info.classes,
      state: 'active' as const,
      weight: firstDeployment ? BUCKETS : current,
      firstDeployment,
      created,
    };
  });
}

/**
 * Every serving activity, bound to one configuration: deployVersion, setTrafficWeights,
 * getTrafficWeights, markDeployment, setFaultInjection.
 */
export function createServingActivities(config: FlywheelConfig) {
  const mlflow = new MlflowClient(config.mlflow);
  return {
    deployVersion: async (input: DeployVersionInput) => {
      const deployed = await deployVersion(getPool(config.postgres.url), mlflow, input);
      domainLog('info', 'model version deployed', { model: input.model, version: input.version, nFeatures: deployed.nFeatures });
      return deployed;
    },
    ...createTrafficActivities(config),
  };
}
