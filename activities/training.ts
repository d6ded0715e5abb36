/**
 * The CPU training activity: SGD softmax regression on the training split, computed in a worker
 * thread (see training-thread-runner: heartbeats, checkpoints, resume, cancellation), reporting
 * progress to its workflow so `flywheel train --wait` can render it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { FlywheelConfig } from '../config/index';
import type { SoftmaxRegressionHyperparameters } from '../lib/models/softmax-regression';
import { currentWorkflow, runArtifactDir, runCheckpointDir } from './artifacts';
import { runTrainingThread, type EpochRecord } from './training-thread-runner';
import { getFileStore } from '../datasets/file-store';

export type { EpochRecord } from './training-thread-runner';

export interface TrainInput {
  datasetUri: string;
  trainUri: string;
  family: 'softmax-regression';
  hyperparameters: SoftmaxRegressionHyperparameters;
  /** Workflow signal that receives `TrainingProgress`; omitted when nobody listens. */
  progressSignal?: string;
}

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  loss: number;
  /** Sent by the PyTorch pool: where the training runs ("cpu", "cuda:0 NVIDIA H100 …"). */
  device?: string;
}

export interface TrainResult {
  paramsUri: string;
  epochs: EpochRecord[];
  trainRows: number;
  trainSeconds: number;
  samplesPerSecond: number;
  /** Epochs already done when the final attempt started (0 = from scratch; > 0 = resumed from a checkpoint). */
  resumedFromEpoch: number;
}

const PROGRESS_INTERVAL_MS = 1000;

export function createTrainingActivities(config: FlywheelConfig) {
  const files = getFileStore(config);
  return {
    async trainModel(input: TrainInput): Promise<TrainResult> {
      const ctx = Context.current();
      const { workflowId, runId } = currentWorkflow();
      const workflow = input.progressSignal ? ctx.client.workflow.getHandle(workflowId, runId) : undefined;
      const totalEpochs = input.hyperparameters.epochs;
      let lastProgress = 0;

      const run = await runTrainingThread({
        datasetUri: input.datasetUri,
        trainUri: input.trainUri,
        hyperparameters: input.hyperparameters,
        checkpointFile: path.join(runCheckpointDir(config), 'checkpoint.json'),
        files,
        onEpoch: ({ epoch, loss }) => {
          const now = Date.now();
          if (!workflow || !input.progressSignal || (now - lastProgress < PROGRESS_INTERVAL_MS && epoch !== totalEpochs)) return;
          lastProgress = now;
          const progress: TrainingProgress = { epoch, epochs: totalEpochs, loss };
          // Progress is best effort: a lost update must never fail training.
          workflow.signal(input.progressSignal, progress).catch(() => undefined);
        },
      });

      const dir = runArtifactDir(config);
      await mkdir(dir, { recursive: true });
      const paramsUri = path.join(dir, 'model-params.json');
      await writeFile(paramsUri, JSON.stringify(run.params));
      await files.publish(paramsUri);
      const epochsRun = totalEpochs - run.resumedFromEpoch;
      return {
        paramsUri,
        epochs: run.history.map(({ epoch, loss }) => ({ epoch, loss })),
        trainRows: run.trainRows,
        trainSeconds: run.seconds,
        samplesPerSecond: run.seconds > 0 ? (epochsRun * run.trainRows) / run.seconds : 0,
        resumedFromEpoch: run.resumedFromEpoch,
      };
    },
  };
}
