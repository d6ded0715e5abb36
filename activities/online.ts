/**
 * Online models: start one from a registered version (its ONNX read back into an online learner's
 * first state), stop it, and snapshot what it has learnt as a new registered version of the base
 * model, with the feedback window it learnt from as lineage. The gateway does the learning
 * (serving/online-models.ts); these only touch online_models, online_snapshots and MLflow.
 *
 * A snapshot is idempotent twice over: one request key (the workflow's) makes at most one MLflow
 * run, and one run at most one version (looked up by run id first, under an advisory lock); and
 * a state already registered (no label learnt since) is answered with its version, not a new one.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import type { FlywheelConfig } from '../config/index';
import { getPool, withAdvisoryLock } from '../clients/db';
import { MlflowClient, MlflowError, mlflowQuote, type MlflowTag } from '../clients/mlflow';
import { fromSoftmaxRegressionParams, OnlineSoftmaxRegression, type SoftmaxRegressionSnapshot } from '../lib/online/softmax-regression';
import { softmaxRegressionToOnnx } from '../lib/onnx/softmax-regression-graph';
import { readOnnx } from '../serving/onnx-source';
import type { OnlineModelRow } from '../serving/online-models';
import { softmaxParamsFromOnnx } from './online-params';
import { INVALID_INPUT } from '../lib/failure-types';
import { IDEMPOTENCY_TAG, ONNX_ARTIFACT_PATH } from './registry';
import { MODEL_ARTIFACT_DIR, gitCommitTags, uploadOnnxModel } from './mlflow-model';

export const PARAMS_ARTIFACT_PATH = 'model/model-params.json';

export interface StartOnlineInput {
  /** Routing name: served at /v1/online/<name>/predict. */
  name: string;
  model: string;
  version: string;
  learningRate?: number;
  l2?: number;
  /** Start afresh from the version even if it is already running from it. */
  restart?: boolean;
}

export interface StartOnlineResult {
  name: string;
  model: string;
  version: string;
  generation: number;
  nFeatures: number;
  classes: string[];
  /** False when it was already running from this version (a retried or repeated start). */
  created: boolean;
}

export interface SnapshotInput {
  name: string;
  /** One key per snapshot attempt of the caller (a retry repeats it). */
  requestKey: string;
}

export type SnapshotResult =
  | { snapshotted: false; name: string; reason: string }
  | {
      snapshotted: true;
      name: string;
      model: string;
      version: string;
      generation: number;
      learned: number;
      feedbackFrom: number | null;
      feedbackThrough: number;
      created: boolean;
    };

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_INPUT, message, nonRetryable: true });
}

function beat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    /* called from the CLI, not an activity */
  }
}

async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}


export async function startOnlineModel(pool: pg.Pool, mlflow: MlflowClient, input: StartOnlineInput): Promise<StartOnlineResult> {
  const { name, model, version } = input;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) throw invalid(`name: ${name} must be letters, digits, _ . - (at most 128)`);
  for (const [k, v] of [['learningRate', input.learningRate], ['l2', input.l2]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 10)) throw invalid(`${k}: must be a number in [0, 10], got ${v}`);
  }
  const what = `model ${model} version ${version}`;
  const mv = await mlflow.getModelVersion(model, version);
  if (!mv) throw invalid(`${what} is not in the MLflow registry (see flywheel models show ${model})`);
  if (!mv.run_id) throw invalid(`${what} has no MLflow run, so no ONNX to start from`);
  const run = await mlflow.getRun(mv.run_id);
  const onnxUri = `${run.info.artifact_uri.replace(/\/+$/, '')}/${ONNX_ARTIFACT_PATH}`;
  let bytes: Uint8Array;
  try {
    bytes = await readOnnx(mlflow, onnxUri);
  } catch (err) {
    if (err instanceof MlflowError && err.notFound) throw invalid(`${what}: no ONNX at ${onnxUri}`);
    throw err;
  }
  beat();
  let learner: OnlineSoftmaxRegression;
  try {
    learner = fromSoftmaxRegressionParams(softmaxParamsFromOnnx(bytes), { learningRate: input.learningRate ?? 0.05, interceptLearningRate: input.learningRate ?? 0.05, l2: input.l2 ?? 0 });
  } catch (err) {
    throw invalid(`${what} cannot learn online: ${(err as Error).message}`);
  }
  const options = { learningRate: learner.options.learningRate, l2: learner.options.l2 };
  const state = JSON.stringify(learner.toJSON());
  const classes = learner.classes!;
  return inTransaction(pool, async (c) => {
    const { rows } = await c.query<{ base_model: string; base_version: string; generation: string; active: boolean }>(
      'SELECT base_model, base_version, generation, active FROM online_models WHERE name = $1 FOR UPDATE',
      [name],
    );
    const cur = rows[0];
    const base = { name, model, version, nFeatures: learner.nFeatures, classes };
    if (cur && cur.active && cur.base_model === model && cur.base_version === version && !input.restart) return { ...base, generation: Number(cur.generation), created: false };
    if (!cur) {
      await c.query('INSERT INTO online_models (name, base_model, base_version, options, state) VALUES ($1, $2, $3, $4, $5)', [name, model, version, options, state]);
      return { ...base, generation: 1, created: true };
    }
    const { rows: updated } = await c.query<{ generation: string }>(
      `UPDATE online_models SET base_model = $2, base_version = $3, generation = generation + 1, options = $4, state = $5,
              learned = 0, learned_from = NULL, learned_through = 0, active = true, updated_at = now()
        WHERE name = $1 RETURNING generation`,
      [name, model, version, options, state],
    );
    return { ...base, generation: Number(updated[0]!.generation), created: true };
  });
}

export async function stopOnlineModel(pool: pg.Pool, name: string): Promise<{ name: string; stopped: boolean }> {
  const res = await pool.query('UPDATE online_models SET active = false, updated_at = now() WHERE name = $1 AND active', [name]);
  return { name, stopped: (res.rowCount ?? 0) > 0 };
}

type ModelRow = Omit<OnlineModelRow, 'name'>;

export async function snapshotOnlineModel(pool: pg.Pool, mlflow: MlflowClient, input: SnapshotInput, lineage: MlflowTag[] = []): Promise<SnapshotResult> {
  const { name } = input;
  return withAdvisoryLock(pool, `online-snapshot:${name}`, async () => {
    const { rows } = await pool.query<ModelRow>('SELECT base_model, base_version, generation, state, learned, learned_from, learned_through FROM online_models WHERE name = $1', [name]);
    const row = rows[0];
    if (!row) throw invalid(`online model ${name} does not exist (flywheel online start)`);
    const generation = Number(row.generation);
    const through = Number(row.learned_through);
    const learned = Number(row.learned);
    const from = row.learned_from === null ? null : Number(row.learned_from);
    const base = { name, model: row.base_model, generation, learned, feedbackFrom: from, feedbackThrough: through };

    const key = `online:${name}:${input.requestKey}`;
    const experimentId = await mlflow.ensureExperiment(row.base_model, [{ key: 'flywheel.model', value: row.base_model }]);
    const found = (await mlflow.searchRuns([experimentId], `tags.\`${IDEMPOTENCY_TAG}\` = ${mlflowQuote(key)}`, 2))[0];
    if (!found) {
      // Only a new request is skipped for want of news; a retry finishes what it started.
      if (learned === 0) return { snapshotted: false, name, reason: 'nothing learnt since the warm start' };
      const done = await pool.query<{ version: string }>('SELECT version FROM online_snapshots WHERE name = $1 AND generation = $2 AND learned_through = $3', [name, generation, through]);
      if (done.rows[0]) return { snapshotted: true, ...base, version: done.rows[0].version, created: false };
    }
    const tags: MlflowTag[] = [
      { key: IDEMPOTENCY_TAG, value: key },
      ...lineage,
      { key: 'flywheel.online_model', value: name },
      { key: 'flywheel.base_version', value: row.base_version },
      { key: 'flywheel.online_generation', value: String(generation) },
      { key: 'flywheel.feedback_from_id', value: String(from ?? '') },
      { key: 'flywheel.feedback_through_id', value: String(through) },
      { key: 'flywheel.learned_items', value: String(learned) },
    ];
    const run = found ?? (await mlflow.createRun(experimentId, `online-${name}-${through}`, tags, Date.now()));
    const runId = run.info.run_id;
    // The state this run captures: its own tags once finished, this row's otherwise.
    let onnx: Uint8Array;
    let captured = base;
    if (run.info.status === 'FINISHED') {
      onnx = await mlflow.downloadArtifact(run.info.artifact_uri, ONNX_ARTIFACT_PATH);
      const t = Object.fromEntries((run.data?.tags ?? []).map((x) => [x.key, x.value]));
      captured = { ...base, generation: Number(t['flywheel.online_generation']), learned: Number(t['flywheel.learned_items']), feedbackFrom: t['flywheel.feedback_from_id'] ? Number(t['flywheel.feedback_from_id']) : null, feedbackThrough: Number(t['flywheel.feedback_through_id']) };
    } else {
      if (found) for (const t of tags.slice(1)) await mlflow.setRunTag(runId, t.key, t.value);
      const params = OnlineSoftmaxRegression.fromJSON(row.state).toParams();
      onnx = softmaxRegressionToOnnx(params, { 'flywheel.online_model': name });
      await uploadOnnxModel(mlflow, { runId, artifactUri: run.info.artifact_uri }, onnx);
      await mlflow.uploadArtifact(run.info.artifact_uri, PARAMS_ARTIFACT_PATH, new TextEncoder().encode(JSON.stringify(params)), 'application/json');
      await mlflow.finishRun(runId, 'FINISHED', Date.now());
    }
    beat();
    const sha = createHash('sha256').update(onnx).digest('hex');
    await mlflow.ensureRegisteredModel(row.base_model, `Flywheel model ${row.base_model}`, []);
    let version = (await mlflow.searchModelVersions(`name=${mlflowQuote(row.base_model)} and run_id=${mlflowQuote(runId)}`, 10))[0]?.version;
    const created = version === undefined;
    if (version === undefined) {
      const mv = await mlflow.createModelVersion(
        row.base_model,
        `${run.info.artifact_uri}/${MODEL_ARTIFACT_DIR}`,
        runId,
        [...tags, { key: 'flywheel.family', value: 'softmax-regression' }, { key: 'flywheel.onnx_sha256', value: sha }],
        `Online model ${name} (from v${row.base_version}) after ${captured.learned} labels, feedback ids ${captured.feedbackFrom ?? '-'}…${captured.feedbackThrough}`,
      );
      version = mv.version;
      await mlflow.setRunTag(runId, 'flywheel.model_version', version);
    }
    await pool.query(
      `INSERT INTO online_snapshots (name, generation, learned_through, learned_from, learned, registered_model, version, mlflow_run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [name, captured.generation, captured.feedbackThrough, captured.feedbackFrom, captured.learned, row.base_model, version, runId],
    );
    return { snapshotted: true, ...captured, version, created };
  });
}

export function createOnlineActivities(config: FlywheelConfig, gitCommit: string) {
  const mlflow = new MlflowClient(config.mlflow);
  const pool = () => getPool(config.postgres.url);
  return {
    startOnlineModel: (input: StartOnlineInput) => startOnlineModel(pool(), mlflow, input),
    stopOnlineModel: (input: { name: string }) => stopOnlineModel(pool(), input.name),
    snapshotOnlineModel(input: SnapshotInput): Promise<SnapshotResult> {
      const { workflowId, runId } = Context.current().info.workflowExecution ?? { workflowId: '', runId: '' };
      return snapshotOnlineModel(pool(), mlflow, input, [
        { key: 'flywheel.workflow_id', value: workflowId },
        { key: 'flywheel.workflow_run_id', value: runId },
        ...gitCommitTags(gitCommit),
      ]);
    },
  };
}
