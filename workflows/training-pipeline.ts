/**
 * TrainingPipeline: validate → split → train → export ONNX → evaluate the ONNX → MLflow run →
 * register a model version. Data moves by reference (dataset digest and file URIs); every step is
 * an idempotent activity on the CPU pool, so a crash anywhere resumes to the same single version.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { createActivities } from '../activities/index';
import { DATASET_DIGEST, MODEL_NAME, PIPELINE_STAGE } from '../config/search-attributes';
import { NON_RETRYABLE_TYPES, INVALID_INPUT } from '../lib/failure-types';
import { proxyControlActivities } from './control-activities';
import { checkTrainingInput, type TrainingPipelineInput } from '../lib/pipeline/training-input';
import type { TrainingProgress, TrainResult } from '../activities/training';
import type { EvaluationResult } from '../activities/evaluation';
import type { ExportResult } from '../activities/export';
import { trainOnTorchPool, type TorchPlacement, type TorchTrainResult } from './torch-training';

type Activities = ReturnType<typeof createActivities>;

export const STAGES = ['validate', 'split', 'train', 'export', 'evaluate', 'log', 'register'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageStatus {
  name: Stage;
  state: 'pending' | 'running' | 'done' | 'failed';
  startedAt?: string;
  finishedAt?: string;
}

export interface TrainingStatus {
  workflowId: string;
  model: string;
  family: string;
  dataset: string;
  state: 'running' | 'completed' | 'failed';
  stage: Stage | 'done';
  stages: StageStatus[];
  progress?: TrainingProgress;
  /** Torch-pool families: where the training is (waiting for a GPU worker, on the GPU, on the CPU). */
  placement?: { state: TorchPlacement; note: string; device?: string };
  datasetDigest?: string;
  metrics?: EvaluationResult;
  version?: string;
  mlflowRunId?: string;
  error?: string;
}

export interface TrainingPipelineResult {
  workflowId: string;
  model: string;
  version: string;
  mlflowRunId: string;
  metrics: EvaluationResult;
  datasetDigest: string;
  onnxUri: string;
  artifactUri: string;
  training: { epochs: number; finalLoss: number; trainSeconds: number; samplesPerSecond: number; resumedFromEpoch: number; device?: string };
}

export const statusQuery = wf.defineQuery<TrainingStatus>('status');
export const trainingProgressSignal = wf.defineSignal<[TrainingProgress]>('trainingProgress');

export async function TrainingPipeline(input: TrainingPipelineInput): Promise<TrainingPipelineResult> {
  const info = wf.workflowInfo();
  const status: TrainingStatus = {
    workflowId: info.workflowId,
    model: input.model,
    family: input.family,
    dataset: input.dataset,
    state: 'running',
    stage: 'validate',
    stages: STAGES.map((name) => ({ name, state: 'pending' })),
  };
  wf.setHandler(statusQuery, () => status);
  wf.setHandler(trainingProgressSignal, (p) => {
    // Signals can arrive out of order after a retry; keep the furthest epoch.
    if (!status.progress || p.epoch >= status.progress.epoch) status.progress = p;
    if (p.device) status.placement = { state: p.device === 'cpu' ? 'cpu' : 'gpu', note: `training on ${p.device}`, device: p.device };
  });

  const checked = checkTrainingInput(input);
  if (!checked.ok) {
    status.state = 'failed';
    status.error = checked.message;
    throw ApplicationFailure.create({ type: INVALID_INPUT, message: checked.message, nonRetryable: true });
  }
  const cfg = checked.value;
  const retry = { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_TYPES };
  const quick = wf.proxyActivities<Activities>({ taskQueue: cfg.taskQueues.cpu, startToCloseTimeout: '5 minutes', retry });
  // One row in PostgreSQL: a worker that dies holding it is noticed in seconds, not minutes; on
  // the control queue, so the record of a run never waits behind other trainings for a slot.
  const bookkeeping = proxyControlActivities<Activities>(cfg.taskQueues, { startToCloseTimeout: '30 seconds', retry });
  const long = wf.proxyActivities<Activities>({
    taskQueue: cfg.taskQueues.cpu,
    startToCloseTimeout: '4 hours',
    // A killed worker is noticed within this, and the retry resumes from the last checkpoint.
    heartbeatTimeout: '10 seconds',
    retry,
  });

  const stage = async <T>(name: Stage, run: () => Promise<T>): Promise<T> => {
    const s = status.stages.find((x) => x.name === name)!;
    status.stage = name;
    s.state = 'running';
    s.startedAt = new Date().toISOString();
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: name }]);
    wf.setCurrentDetails(`**${cfg.model}**: ${name} (${STAGES.indexOf(name) + 1}/${STAGES.length})`);
    try {
      const out = await run();
      s.state = 'done';
      s.finishedAt = new Date().toISOString();
      return out;
    } catch (err) {
      s.state = 'failed';
      throw err;
    }
  };

  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: cfg.model }]);
  const record = { workflowId: info.workflowId, runId: info.runId, model: cfg.model, family: cfg.family, hyperparameters: cfg.hyperparameters };
  let datasetDigest: string | undefined;
  try {
    const dataset = await stage('validate', () => quick.validateDataset({ dataset: cfg.dataset, labelColumn: cfg.labelColumn }));
    datasetDigest = status.datasetDigest = dataset.digest;
    wf.upsertSearchAttributes([{ key: DATASET_DIGEST, value: dataset.digest }]);
    await bookkeeping.recordPipelineRun({ ...record, datasetDigest, status: 'running', stage: 'split' });

    const split = await stage('split', () => quick.splitDataset({ datasetUri: dataset.uri, holdoutFraction: cfg.holdoutFraction, seed: cfg.splitSeed }));
    const onnxMetadata = { 'flywheel.model': cfg.model, 'flywheel.dataset_digest': dataset.digest, 'flywheel.workflow_id': info.workflowId };
    let training: TrainResult | TorchTrainResult;
    let onnx: ExportResult;
    if (cfg.torch) {
      // The Python pool trains and exports in one activity (the weights never leave its process).
      const torch = cfg.torch;
      const trained = await stage('train', () =>
        trainOnTorchPool(
          { datasetUri: dataset.uri, trainUri: split.trainUri, family: cfg.family, hyperparameters: cfg.hyperparameters, metadata: onnxMetadata, progressSignal: trainingProgressSignal.name },
          { ...torch, onPlacement: (state, note) => void (status.placement = { state, note }) },
        ),
      );
      status.placement = { state: trained.device === 'cpu' ? 'cpu' : 'gpu', note: `trained on ${trained.device} (${trained.precision}${trained.cudaGraphs ? ', CUDA graphs' : ''})`, device: trained.device };
      training = trained;
      onnx = await stage('export', async () => ({ onnxUri: trained.onnxUri, sha256: trained.sha256, sizeBytes: trained.sizeBytes }));
    } else {
      const trained = await stage('train', () =>
        long.trainModel({
          datasetUri: dataset.uri,
          trainUri: split.trainUri,
          family: 'softmax-regression',
          hyperparameters: cfg.hyperparameters as never,
          progressSignal: trainingProgressSignal.name,
        }),
      );
      training = trained;
      onnx = await stage('export', () => quick.exportOnnx({ paramsUri: trained.paramsUri, metadata: onnxMetadata }));
    }
    const metrics = await stage('evaluate', () => quick.evaluateOnnx({ onnxUri: onnx.onnxUri, datasetUri: dataset.uri, holdoutUri: split.holdoutUri }));
    status.metrics = metrics;
    const run = await stage('log', () =>
      quick.logTrainingRun({
        model: cfg.model,
        family: cfg.family,
        hyperparameters: cfg.hyperparameters,
        dataset,
        split: { ...split, holdoutFraction: cfg.holdoutFraction, seed: cfg.splitSeed },
        training,
        evaluation: metrics,
        onnx,
        startedAtMs: info.startTime.getTime(),
      }),
    );
    status.mlflowRunId = run.mlflowRunId;
    const headline = { accuracy: metrics.accuracy, log_loss: metrics.logLoss, f1: metrics.f1, ...(Number.isFinite(metrics.auc) ? { auc: metrics.auc } : {}) };
    const registered = await stage('register', () =>
      quick.registerModelVersion({
        model: cfg.model,
        mlflowRunId: run.mlflowRunId,
        artifactUri: run.artifactUri,
        family: cfg.family,
        dataset,
        onnxSha256: onnx.sha256,
        metrics: headline,
      }),
    );
    status.version = registered.version;
    await bookkeeping.recordPipelineRun({ ...record, datasetDigest, status: 'completed', stage: 'done', modelVersion: registered.version, mlflowRunId: run.mlflowRunId, metrics: headline });

    status.state = 'completed';
    status.stage = 'done';
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'done' }]);
    wf.setCurrentDetails(`**${cfg.model}** v${registered.version}: accuracy ${metrics.accuracy.toFixed(4)}`);
    const last = training.epochs[training.epochs.length - 1];
    return {
      workflowId: info.workflowId,
      model: cfg.model,
      version: registered.version,
      mlflowRunId: run.mlflowRunId,
      metrics,
      datasetDigest: dataset.digest,
      onnxUri: onnx.onnxUri,
      artifactUri: `${run.artifactUri}/model`,
      training: {
        epochs: training.epochs.length,
        finalLoss: last?.loss ?? NaN,
        trainSeconds: training.trainSeconds,
        samplesPerSecond: training.samplesPerSecond,
        resumedFromEpoch: training.resumedFromEpoch,
        ...('device' in training ? { device: training.device } : {}),
      },
    };
  } catch (err) {
    status.state = 'failed';
    status.error = failureMessage(err);
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'failed' }]);
    if (datasetDigest) {
      await bookkeeping.recordPipelineRun({ ...record, datasetDigest, status: 'failed', stage: status.stage, error: status.error });
    }
    throw err;
  }
}

/** The innermost cause is the message a person can act on (e.g. the bad column and row). */
function failureMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
