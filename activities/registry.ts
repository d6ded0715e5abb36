/**
 * MLflow activities: one tracking run per pipeline run and one registered model version per
 * tracking run. Both are found again by key before anything is created, under a PostgreSQL
 * advisory lock, so a retried or duplicated attempt never makes a second run or version.
 */
import { readFile } from 'node:fs/promises';
import { getFileStore } from '../datasets/file-store';
import { Context } from '@temporalio/activity';
import type { FlywheelConfig } from '../config/index';
import { currentWorkflow } from './artifacts';
import { MODEL_ARTIFACT_DIR, gitCommitTags, uploadOnnxModel } from './mlflow-model';
import { getPool, withAdvisoryLock } from '../clients/db';
import { MlflowClient, mlflowQuote, type MlflowMetric, type MlflowModelVersion, type MlflowTag } from '../clients/mlflow';
import type { DatasetRef, SplitRef } from './data';
import type { EvaluationResult } from './evaluation';
import type { ExportResult } from './export';
import type { EpochRecord } from './training';
import { datasetSourceType } from '../lib/data/source-type';

export const IDEMPOTENCY_TAG = 'flywheel.idempotency_key';
export const ONNX_ARTIFACT_PATH = `${MODEL_ARTIFACT_DIR}/model.onnx`;

export interface LogRunInput {
  model: string;
  family: string;
  hyperparameters: Record<string, number | string>;
  dataset: DatasetRef;
  split: SplitRef & { holdoutFraction: number; seed: number };
  training: { epochs: EpochRecord[]; trainSeconds: number; samplesPerSecond: number; trainRows: number; resumedFromEpoch: number };
  evaluation: EvaluationResult;
  onnx: ExportResult;
  /** Workflow start time (ms): a deterministic timestamp, so retried metric writes are identical. */
  startedAtMs: number;
}

export interface LoggedRun {
  mlflowRunId: string;
  experimentId: string;
  artifactUri: string;
}

export interface RegisterInput {
  model: string;
  mlflowRunId: string;
  artifactUri: string;
  family: string;
  dataset: DatasetRef;
  onnxSha256: string;
  metrics: Record<string, number>;
}

export interface RegisteredVersion {
  model: string;
  version: string;
  source: string;
  created: boolean;
}

export function createRegistryActivities(config: FlywheelConfig, gitCommit: string) {
  const mlflow = new MlflowClient(config.mlflow);
  const files = getFileStore(config);
  const pool = () => getPool(config.postgres.url);

  return {
    async logTrainingRun(input: LogRunInput): Promise<LoggedRun> {
      const { workflowId, runId } = currentWorkflow();
      const key = `${workflowId}/${runId}`;
      return withAdvisoryLock(pool(), `mlflow-run:${key}`, async () => {
        const experimentId = await mlflow.ensureExperiment(input.model, [{ key: 'flywheel.model', value: input.model }]);
        const found = await mlflow.searchRuns([experimentId], `tags.\`${IDEMPOTENCY_TAG}\` = ${mlflowQuote(key)}`, 2);
        const run =
          found[0] ??
          (await mlflow.createRun(experimentId, `train-${input.dataset.digest.slice(0, 8)}`, lineageTags(key, workflowId, runId, gitCommit, input.dataset), input.startedAtMs));
        const mlflowRunId = run.info.run_id;
        if (run.info.status === 'FINISHED') return { mlflowRunId, experimentId, artifactUri: run.info.artifact_uri };

        const ts = input.startedAtMs;
        const metrics: MlflowMetric[] = [
          ...input.training.epochs.map((e) => ({ key: 'train_loss', value: e.loss, step: e.epoch, timestamp: ts + e.epoch })),
          ...Object.entries(evaluationMetrics(input.evaluation)).map(([k, value]) => ({ key: k, value, step: 0, timestamp: ts })),
          { key: 'train_seconds', value: input.training.trainSeconds, step: 0, timestamp: ts },
          { key: 'train_samples_per_second', value: input.training.samplesPerSecond, step: 0, timestamp: ts },
        ];
        const params = [
          { key: 'family', value: input.family },
          ...Object.entries(input.hyperparameters).map(([k, v]) => ({ key: k, value: String(v) })),
          { key: 'holdout_fraction', value: String(input.split.holdoutFraction) },
          { key: 'split_seed', value: String(input.split.seed) },
          { key: 'train_rows', value: String(input.split.trainRows) },
          { key: 'holdout_rows', value: String(input.split.holdoutRows) },
        ];
        await mlflow.logBatch(mlflowRunId, { metrics, params });
        await mlflow.logInputs(mlflowRunId, [
          {
            name: input.dataset.name,
            digest: input.dataset.digest.slice(0, 36),
            sourceType: datasetSourceType(input.dataset.source),
            source: JSON.stringify({ uri: input.dataset.source }),
            schema: JSON.stringify({ features: input.dataset.featureNames, label: input.dataset.labelName, classes: input.dataset.classes }),
            profile: JSON.stringify({ num_rows: input.dataset.nRows, num_features: input.dataset.nFeatures }),
            context: 'training',
          },
        ]);
        await uploadOnnxModel(mlflow, { runId: mlflowRunId, artifactUri: run.info.artifact_uri }, await readFile(await files.local(input.onnx.onnxUri)));
        await mlflow.finishRun(mlflowRunId, 'FINISHED', Date.now());
        return { mlflowRunId, experimentId, artifactUri: run.info.artifact_uri };
      });
    },

    async registerModelVersion(input: RegisterInput): Promise<RegisteredVersion> {
      return withAdvisoryLock(pool(), `mlflow-version:${input.model}:${input.mlflowRunId}`, async () => {
        await mlflow.ensureRegisteredModel(input.model, `Flywheel model ${input.model} (${input.family})`, [{ key: 'flywheel.family', value: input.family }]);
        const source = `${input.artifactUri}/${MODEL_ARTIFACT_DIR}`;
        const existing = await mlflow.searchModelVersions(`name=${mlflowQuote(input.model)} and run_id=${mlflowQuote(input.mlflowRunId)}`, 10);
        if (existing[0]) return { model: input.model, version: existing[0].version, source, created: false };
        const { workflowId, runId } = currentWorkflow();
        const tags: MlflowTag[] = [
          ...lineageTags(`${workflowId}/${runId}`, workflowId, runId, gitCommit, input.dataset),
          { key: 'flywheel.family', value: input.family },
          { key: 'flywheel.onnx_sha256', value: input.onnxSha256 },
          ...Object.entries(input.metrics).map(([k, v]) => ({ key: `metric.${k}`, value: String(v) })),
        ];
        const mv = await mlflow.createModelVersion(input.model, source, input.mlflowRunId, tags, `Trained by ${workflowId} on ${input.dataset.source}`);
        await waitUntilReady(mlflow, mv);
        await mlflow.setRunTag(input.mlflowRunId, 'flywheel.model_version', mv.version);
        return { model: input.model, version: mv.version, source, created: true };
      });
    },
  };
}

function lineageTags(key: string, workflowId: string, runId: string, gitCommit: string, dataset: DatasetRef): MlflowTag[] {
  return [
    { key: IDEMPOTENCY_TAG, value: key },
    { key: 'flywheel.workflow_id', value: workflowId },
    { key: 'flywheel.workflow_run_id', value: runId },
    ...gitCommitTags(gitCommit),
    { key: 'flywheel.dataset_digest', value: dataset.digest },
    { key: 'flywheel.dataset_source', value: dataset.source },
  ];
}

export function evaluationMetrics(e: EvaluationResult): Record<string, number> {
  const out: Record<string, number> = { accuracy: e.accuracy, log_loss: e.logLoss, f1: e.f1 };
  if (Number.isFinite(e.auc)) out.auc = e.auc;
  return out;
}

async function waitUntilReady(mlflow: MlflowClient, mv: MlflowModelVersion): Promise<void> {
  for (let i = 0; i < 60 && mv.status && mv.status !== 'READY'; i++) {
    if (mv.status === 'FAILED_REGISTRATION') throw new Error(`MLflow failed to register ${mv.name} v${mv.version}`);
    Context.current().heartbeat();
    await new Promise((r) => setTimeout(r, 500));
    mv = (await mlflow.getModelVersion(mv.name, mv.version)) ?? mv;
  }
}

