/**
 * `flywheel train`: checks everything it can at the edge (family, hyperparameters, the dataset's
 * rows, the stack), so bad input costs one clear line and starts nothing; then starts the
 * TrainingPipeline and, with --wait, renders its `status` query live.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { FlywheelConfig } from '../../config/index';
import { datasetAtEdge } from '../dataset-edge';
import { queuedRunAttributes } from '../../config/search-attributes';
import { MlflowClient } from '../../clients/mlflow';
import { connectTemporal } from '../../clients/temporal';
import { datasetDigest } from '../../lib/data/digest';
import { checkTrainingInput, trainingWorkflowId, type TrainingPipelineInput } from '../../lib/pipeline/training-input';
import { MODEL_FAMILIES, resolveModelFamily } from '../../lib/models/families';
import { statusQuery, type TrainingPipelineResult, type TrainingStatus } from '../../workflows/training-pipeline';
import { CliError, printFields, printJson } from '../output';
import { renderTrainingStatus } from '../render-status';
import { watchWorkflow } from '../watch';

export interface TrainOptions {
  dataset: string;
  model?: string;
  family: string;
  label?: string;
  param: string[];
  holdout?: string;
  splitSeed?: string;
  pool?: string;
  gpuWait?: string;
  cpuWait?: string;
  wait?: boolean;
  json?: boolean;
}

export function parseParams(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new CliError(`--param "${pair}" must be key=value (e.g. --param learningRate=0.05)`, 2);
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

export async function trainCommand(config: FlywheelConfig, opts: TrainOptions): Promise<void> {
  const holdout = opts.holdout === undefined ? undefined : Number(opts.holdout);
  const splitSeed = opts.splitSeed === undefined ? undefined : Number(opts.splitSeed);
  const input: TrainingPipelineInput = {
    model: opts.model ?? defaultModelName(opts.dataset),
    dataset: opts.dataset,
    labelColumn: opts.label,
    family: opts.family,
    hyperparameters: parseParams(opts.param),
    holdoutFraction: holdout,
    splitSeed,
    taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control, gpu: config.taskQueues.gpu, cpuTorch: config.taskQueues.cpuTorch },
    pool: opts.pool as TrainingPipelineInput['pool'],
    gpuWaitSeconds: opts.gpuWait === undefined ? undefined : Number(opts.gpuWait),
    cpuWaitSeconds: opts.cpuWait === undefined ? undefined : Number(opts.cpuWait),
  };
  // Only torch families take a pool and a wait; the default wait comes from FLYWHEEL_GPU_WAIT_SECONDS.
  if (input.gpuWaitSeconds === undefined && MODEL_FAMILIES[resolveModelFamily(opts.family) ?? 'softmax-regression'].pool === 'torch') {
    input.gpuWaitSeconds = config.gpuWaitSeconds;
  }
  const checked = checkTrainingInput(input);
  if (!checked.ok) throw new CliError(checked.message, 2);

  // production:7d is snapshotted now: the workflow trains on that stored:<digest>.
  const edge = await datasetAtEdge(config, opts.dataset, { model: checked.value.model, label: opts.label, snapshot: true });
  const loaded = edge.loaded!;
  const digest = edge.digest!;
  // The workflow re-reads the data by reference; a relative path must mean the same file there.
  const normalised = { ...checked.value, dataset: edge.reference };

  const { client, connection } = await connectTemporal(config);
  try {
    if (!(await new MlflowClient(config.mlflow).health())) {
      throw new CliError(`MLflow is not reachable at ${config.mlflow.trackingUri}: start the stack with \`flywheel up\``, 3);
    }
    const workflowId = trainingWorkflowId(normalised.model, digest);
    let handle;
    try {
      handle = await client.workflow.start('TrainingPipeline', {
        taskQueue: config.taskQueues.workflows,
        workflowId,
        args: [normalised],
        typedSearchAttributes: queuedRunAttributes(normalised.model, digest),
        staticSummary: `Train ${normalised.model} (${normalised.family}) on ${loaded.name}`,
        staticDetails: `dataset ${loaded.source}, digest ${digest}, hyperparameters ${JSON.stringify(normalised.hyperparameters)}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new CliError(`a pipeline for model ${normalised.model} on this dataset is already running: flywheel workflows show ${workflowId}`, 2);
      }
      throw err;
    }

    if (!opts.wait) {
      const started = { workflowId, runId: handle.firstExecutionRunId, model: normalised.model, datasetDigest: digest };
      if (opts.json) printJson(started);
      else printFields({ started: workflowId, model: normalised.model, dataset: `${loaded.source} (${digest.slice(0, 12)})`, watch: `flywheel workflows show ${workflowId}` });
      return;
    }
    const result = await watchWorkflow<TrainingPipelineResult, TrainingStatus>(client, workflowId, { query: statusQuery, render: renderTrainingStatus, show: !opts.json, what: 'training' });
    if (opts.json) printJson(result);
    else
      printFields({
        workflow: result.workflowId,
        model: `${result.model} v${result.version}`,
        accuracy: result.metrics.accuracy,
        logLoss: result.metrics.logLoss,
        f1: result.metrics.f1,
        auc: Number.isFinite(result.metrics.auc) ? result.metrics.auc : undefined,
        mlflowRunId: result.mlflowRunId,
        registry: `${config.mlflow.trackingUri}/#/models/${result.model}/versions/${result.version}`,
        device: result.training.device,
        onnx: result.artifactUri,
      });
  } finally {
    await connection.close();
  }
}

/** A registered-model name from a dataset reference: `./data/churn.csv` → `churn`. */
export function defaultModelName(dataset: string): string {
  const base = dataset.replace(/^(builtin|file):/, '').replace(/^.*\//, '').replace(/\.(csv|json)$/i, '').replace(/^synthetic:.*/, 'synthetic');
  return base.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63) || 'model';
}
