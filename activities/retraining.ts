/**
 * Retraining activities: find the champion a challenger must beat and bring its ONNX next to the
 * challenger's (so the evaluation activity scores both on one holdout), locate that holdout by the
 * challenger's dataset digest, and record the run and its decision (PostgreSQL row, MLflow tags).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FlywheelConfig } from '../config/index';
import { dataPaths } from '../config/index';
import { getPool } from '../clients/db';
import { MlflowClient, MlflowError, type MlflowModelVersion } from '../clients/mlflow';
import { datasetDir, localDataset, readDatasetMeta } from '../datasets/store';
import { getFileStore, StoreMiss } from '../datasets/file-store';
import { modelInfo } from '../serving/model-check';
import { readOnnx, sha256 } from '../serving/onnx-source';
import { createDataActivities } from './data';
import { ONNX_ARTIFACT_PATH } from './registry';
import { getTrafficWeights } from './traffic';
import { invalidInput } from './errors';
import { domainLog } from './domain-log';
import { domainMetrics } from './domain-metrics';

export interface ChampionRef {
  version: string;
  /** How it was found: the `champion` alias, or (no alias) the version serving the most traffic. */
  source: 'alias' | 'traffic';
  /** Local copy of its ONNX, named by content digest. */
  onnxPath: string;
  classes: string[];
  nFeatures: number;
}

export interface HoldoutRef {
  datasetUri: string;
  holdoutUri: string;
  holdoutRows: number;
  classes: string[];
  nFeatures: number;
}

export interface RetrainingRecord {
  workflowId: string;
  model: string;
  trigger: 'manual' | 'schedule' | 'drift';
  triggerDetail?: string;
  dataset: string;
  status: 'running' | 'completed' | 'failed';
  metric: string;
  margin: number;
  challengerVersion?: string;
  championVersion?: string;
  championSource?: string;
  challengerMetrics?: Record<string, number>;
  championMetrics?: Record<string, number>;
  decision?: string;
  reason?: string;
  canaryWorkflowId?: string;
  canaryOutcome?: string;
}

export function createRetrainingActivities(config: FlywheelConfig) {
  const pool = () => getPool(config.postgres.url);
  const mlflow = new MlflowClient(config.mlflow);
  const paths = dataPaths(config);
  const data = createDataActivities(config);
  const files = getFileStore(config);

  return {
    /** The same split the child pipeline made: a pure function of content, fraction and seed. */
    async locateHoldout(input: { datasetDigest: string; holdoutFraction: number; splitSeed: number }): Promise<HoldoutRef> {
      // Materialised by the child pipeline, maybe on another host: this host's copy.
      const datasetUri = await localDataset(files, datasetDir(paths.datasets, input.datasetDigest)).catch((err: unknown) => {
        throw err instanceof StoreMiss ? invalidInput(`dataset ${input.datasetDigest} is not in the dataset store (${err.message})`) : err;
      });
      const meta = await readDatasetMeta(datasetUri);
      const split = await data.splitDataset({ datasetUri, holdoutFraction: input.holdoutFraction, seed: input.splitSeed });
      return { datasetUri, holdoutUri: split.holdoutUri, holdoutRows: split.holdoutRows, classes: meta.classes, nFeatures: meta.nFeatures };
    },

    async fetchChampion(input: { model: string; excludeVersion: string }): Promise<ChampionRef | null> {
      let version: string | undefined;
      let source: ChampionRef['source'] = 'alias';
      const aliased = await championByAlias(mlflow, input.model);
      if (aliased && aliased.version !== input.excludeVersion) version = aliased.version;
      if (!version) {
        source = 'traffic';
        const { weights } = await getTrafficWeights(pool(), input.model);
        version = Object.entries(weights)
          .filter(([v, w]) => v !== input.excludeVersion && w > 0)
          .sort((a, b) => b[1] - a[1] || Number(b[0]) - Number(a[0]))[0]?.[0];
      }
      if (!version) return null;
      const mv = await mlflow.getModelVersion(input.model, version);
      if (!mv?.run_id) throw invalidInput(`champion ${input.model} v${version} has no MLflow run, so no ONNX to compare with`);
      const run = await mlflow.getRun(mv.run_id);
      const bytes = await readOnnx(mlflow, `${run.info.artifact_uri.replace(/\/+$/, '')}/${ONNX_ARTIFACT_PATH}`);
      const info = modelInfo(bytes);
      const digest = sha256(bytes);
      // Named by content: a retry, or another retraining, reuses the same file.
      const onnxPath = path.join(paths.artifacts, 'champions', input.model, `v${version}-${digest.slice(0, 16)}.onnx`);
      if (!existsSync(onnxPath)) {
        await mkdir(path.dirname(onnxPath), { recursive: true });
        const tmp = `${onnxPath}.tmp-${randomUUID()}`;
        await writeFile(tmp, bytes);
        await rename(tmp, onnxPath);
      }
      // The evaluation that reads it may run on another host.
      await files.publish(onnxPath);
      return { version, source, onnxPath, classes: info.classes, nFeatures: info.nFeatures };
    },

    /** Upserted by workflow id: each stage of one run rewrites its row, retries included. */
    async recordRetraining(r: RetrainingRecord): Promise<void> {
      // The row's status before this write (the CTE reads the snapshot before the upsert): a run that
      // finishes is counted once, not again when a retry writes the same status.
      const { rows: written } = await pool().query<{ prev: string | null }>(
        `with prev as (select status from retraining_runs where workflow_id = $1)
         insert into retraining_runs (workflow_id, model, trigger, trigger_detail, dataset, status, challenger_version, champion_version, champion_source,
           metric, margin, challenger_metrics, champion_metrics, decision, reason, canary_workflow_id, canary_outcome, finished_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, case when $6 = 'running' then null else now() end)
         on conflict (workflow_id) do update set status = excluded.status,
           challenger_version = coalesce(excluded.challenger_version, retraining_runs.challenger_version),
           champion_version = coalesce(excluded.champion_version, retraining_runs.champion_version),
           champion_source = coalesce(excluded.champion_source, retraining_runs.champion_source),
           challenger_metrics = coalesce(excluded.challenger_metrics, retraining_runs.challenger_metrics),
           champion_metrics = coalesce(excluded.champion_metrics, retraining_runs.champion_metrics),
           decision = coalesce(excluded.decision, retraining_runs.decision),
           reason = coalesce(excluded.reason, retraining_runs.reason),
           canary_workflow_id = coalesce(excluded.canary_workflow_id, retraining_runs.canary_workflow_id),
           canary_outcome = coalesce(excluded.canary_outcome, retraining_runs.canary_outcome),
           finished_at = excluded.finished_at
         returning (select status from prev) as prev`,
        [
          r.workflowId, r.model, r.trigger, r.triggerDetail ?? null, r.dataset, r.status, r.challengerVersion ?? null, r.championVersion ?? null,
          r.championSource ?? null, r.metric, r.margin, r.challengerMetrics ? JSON.stringify(r.challengerMetrics) : null,
          r.championMetrics ? JSON.stringify(r.championMetrics) : null, r.decision ?? null, r.reason ?? null, r.canaryWorkflowId ?? null, r.canaryOutcome ?? null,
        ],
      );
      if (r.status !== 'running' && written[0]?.prev !== r.status) domainMetrics.retrainingFinished(r.model, r.status);
    },

    /** The registry says what became of the challenger and why, next to its lineage tags. */
    async tagChallenger(input: { model: string; version: string; decision: string; reason: string; workflowId: string }): Promise<void> {
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.retraining_decision', input.decision);
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.retraining_reason', input.reason.slice(0, 5000));
      domainLog('info', 'retraining decision', { model: input.model, challengerVersion: input.version, decision: input.decision, reason: input.reason });
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.retraining_workflow', input.workflowId);
    },
  };
}

/** MLflow 3 answers a missing alias with 400 INVALID_PARAMETER_VALUE, not 404: both mean "no champion". */
async function championByAlias(mlflow: MlflowClient, model: string): Promise<MlflowModelVersion | undefined> {
  try {
    return await mlflow.getVersionByAlias(model, 'champion');
  } catch (err) {
    if (err instanceof MlflowError && err.errorCode === 'INVALID_PARAMETER_VALUE' && /alias .* not found/i.test(err.message)) return undefined;
    throw err;
  }
}
