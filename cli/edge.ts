/**
 * Edge checks: what a command can verify before it starts anything, so bad input is refused with
 * one line and exit 2 instead of a workflow that fails a second later. Every command that names a
 * model version or starts a one-per-model workflow goes through these.
 *
 *   versionArg        a version is a positive integer (MLflow's own 400 is not a message)
 *   checkDeployable   the model and every version exist in the registry, are READY, have an ONNX
 *                     artifact that carries Flywheel's metadata, and (for comparisons) agree on
 *                     features and classes
 *   servingStable     the version that serves the model now (what a canary compares against)
 *   assertNotRunning  no workflow with that id is running (one rollout / test per model)
 */
import type { Client } from '@temporalio/client';
import type { FlywheelConfig } from '../config/index';
import { closePools, getPool } from '../clients/db';
import { MlflowClient, MlflowError } from '../clients/mlflow';
import { ONNX_ARTIFACT_PATH } from '../activities/registry';
import { ModelCheckError, modelInfo, type ModelInfo } from '../serving/model-check';
import { readOnnx, UnsupportedOnnxUri } from '../serving/onnx-source';
import { badInput } from './output';

/** A model version argument: a positive integer, as MLflow numbers them. */
export function versionArg(v: string, what = 'version'): string {
  if (!/^[1-9]\d{0,9}$/.test(v.trim())) throw badInput(`${what} must be a registered version number such as 1 or 12 (got "${v}")`);
  return v.trim();
}

export interface DeployableVersion extends ModelInfo {
  version: string;
  onnxUri: string;
}

/**
 * The model and each version exist and could be deployed: READY in MLflow, an ONNX artifact with
 * Flywheel's metadata. With `comparable`, all versions must agree on features and classes, and
 * none may repeat. The full load-and-infer check stays in deployVersion (the workflow's first step).
 */
export async function checkDeployable(config: FlywheelConfig, model: string, versions: string[], opts: { comparable?: boolean } = {}): Promise<DeployableVersion[]> {
  for (const v of versions) versionArg(v);
  if (opts.comparable) {
    const dup = versions.find((v, i) => versions.indexOf(v) !== i);
    if (dup !== undefined) throw badInput(`version ${dup} is named twice: compare different versions of ${model}`);
  }
  const mlflow = new MlflowClient(config.mlflow, 15_000);
  if (!(await mlflow.getRegisteredModel(model))) throw badInput(`no registered model named ${model} (see flywheel models list)`);
  const out: DeployableVersion[] = [];
  for (const version of versions) {
    const what = `model ${model} version ${version}`;
    const mv = await mlflow.getModelVersion(model, version);
    if (!mv) throw badInput(`model ${model} has no version ${version} (see flywheel models show ${model})`);
    if (mv.status && mv.status !== 'READY') throw badInput(`${what} is ${mv.status} in MLflow, not READY`);
    if (!mv.run_id) throw badInput(`${what} has no MLflow run, so no ONNX artifact to deploy`);
    const run = await mlflow.getRun(mv.run_id);
    const onnxUri = `${run.info.artifact_uri.replace(/\/+$/, '')}/${ONNX_ARTIFACT_PATH}`;
    let info: ModelInfo;
    try {
      info = modelInfo(await readOnnx(mlflow, onnxUri));
    } catch (err) {
      if (err instanceof MlflowError && err.notFound) throw badInput(`${what} cannot be deployed: no ONNX artifact at ${onnxUri}`);
      if (err instanceof UnsupportedOnnxUri || err instanceof ModelCheckError) throw badInput(`${what} cannot be deployed: ${err.message}`);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw badInput(`${what} cannot be deployed: no ONNX file at ${onnxUri}`);
      throw err;
    }
    out.push({ version, onnxUri, ...info });
  }
  if (opts.comparable && out.length > 1) {
    const [first, ...rest] = out;
    for (const o of rest) {
      if (o.nFeatures !== first!.nFeatures) throw badInput(`versions ${first!.version} and ${o.version} of ${model} are not comparable: ${first!.nFeatures} vs ${o.nFeatures} features`);
      if (o.classes.join('\u0000') !== first!.classes.join('\u0000')) {
        throw badInput(`versions ${first!.version} and ${o.version} of ${model} are not comparable: classes [${first!.classes.join(', ')}] vs [${o.classes.join(', ')}]`);
      }
    }
  }
  return out;
}

/** The model exists in the registry (exit 2 otherwise). */
export async function checkModelRegistered(config: FlywheelConfig, model: string): Promise<void> {
  if (!(await new MlflowClient(config.mlflow, 15_000).getRegisteredModel(model))) throw badInput(`no registered model named ${model} (see flywheel models list)`);
}

/** The version with most traffic now other than `except`, or undefined when nothing serves the model. */
export async function servingStable(config: FlywheelConfig, model: string, except: string): Promise<string | undefined> {
  try {
    const { rows } = await getPool(config.postgres.url).query<{ version: string }>(
      'SELECT version FROM traffic_weights WHERE model = $1 AND weight > 0 AND version <> $2 ORDER BY weight DESC, version DESC LIMIT 1',
      [model, except],
    );
    return rows[0]?.version;
  } finally {
    await closePools();
  }
}

/** Refuses (exit 2) when a workflow with this id is running now. */
export async function assertNotRunning(client: Client, workflowId: string, message: string): Promise<void> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    if (d.status.name === 'RUNNING') throw badInput(message);
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return;
    throw err;
  }
}

/** `canary start`: no rollout running, the candidate (and an explicit stable) deployable and comparable, something serving to compare with. */
export async function checkCanaryStart(config: FlywheelConfig, client: Client, workflowId: string, model: string, candidate: string, stable: string | undefined): Promise<void> {
  await assertNotRunning(client, workflowId, `a rollout of model ${model} is already running (${workflowId}): see flywheel canary status ${model}, or abort it first`);
  if (stable !== undefined && versionArg(stable, '--stable') === versionArg(candidate)) throw badInput(`--stable ${stable} is the candidate itself: roll out a different version`);
  await checkDeployable(config, model, stable === undefined ? [candidate] : [candidate, stable], { comparable: true });
  if (stable === undefined && !(await servingStable(config, model, candidate))) {
    throw badInput(`model ${model} has no stable version serving traffic to compare v${candidate} with: deploy one first (flywheel deploy ${model} <version>) or pass --stable`);
  }
}

/** `ab start`: no test running, at least two distinct versions, every arm deployable and comparable. */
export async function checkABStart(config: FlywheelConfig, client: Client, workflowId: string, model: string, versions: string[]): Promise<void> {
  await assertNotRunning(client, workflowId, `an A/B test of model ${model} is already running (${workflowId}): see flywheel ab status ${model}, or stop it first`);
  await checkDeployable(config, model, versions, { comparable: true });
}
