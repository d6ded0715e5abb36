/**
 * The CPU training activity: SGD softmax regression on the training split, computed in a worker
 * thread. Every epoch it heartbeats (a killed worker is noticed within the heartbeat timeout),
 * checkpoints (a retry resumes from the last epoch and reaches the same weights), and reports
 * progress to its workflow so `flywheel train --wait` can render it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Context } from '@temporalio/activity';
import type { FlywheelConfig } from '../config/index';
import type { SoftmaxRegressionHyperparameters } from '../lib/models/softmax-regression';
import type { SoftmaxRegressionParams } from '../lib/models/types';
import { currentWorkflow, runArtifactDir, runCheckpointDir } from './artifacts';
import { invalidInput } from './errors';
import type { TrainThreadInput, TrainThreadMessage } from './threads/train-thread';

export interface TrainInput {
  datasetUri: string;
  trainUri: string;
  family: 'softmax-regression';
  hyperparameters: SoftmaxRegressionHyperparameters;
  /** Workflow signal that receives `TrainingProgress`; omitted when nobody listens. */
  progressSignal?: string;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
}

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  loss: number;
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

interface Checkpoint {
  epoch: number;
  params: SoftmaxRegressionParams;
  history: EpochRecord[];
}

const PROGRESS_INTERVAL_MS = 1000;
const THREAD_SHIM = new URL('./threads/ts-thread.mjs', import.meta.url);
const THREAD_ENTRY = new URL('./threads/train-thread.ts', import.meta.url).href;

export function createTrainingActivities(config: FlywheelConfig) {
  return {
    async trainModel(input: TrainInput): Promise<TrainResult> {
      const ctx = Context.current();
      const checkpointFile = path.join(runCheckpointDir(config), 'checkpoint.json');
      const checkpoint = await readCheckpoint(checkpointFile);
      const resumedFromEpoch = checkpoint?.epoch ?? 0;
      const history: EpochRecord[] = checkpoint?.history ?? [];
      const totalEpochs = input.hyperparameters.epochs;
      const { workflowId, runId } = currentWorkflow();
      const workflow = input.progressSignal ? ctx.client.workflow.getHandle(workflowId, runId) : undefined;

      const threadInput: TrainThreadInput = {
        entry: THREAD_ENTRY,
        datasetUri: input.datasetUri,
        trainUri: input.trainUri,
        hyperparameters: input.hyperparameters,
        startEpoch: resumedFromEpoch + 1,
        initial: checkpoint?.params,
      };
      let trainRows = 0;
      let lastProgress = 0;
      let started = performance.now();
      let checkpointWrite: Promise<void> = Promise.resolve();
      const thread = new Worker(THREAD_SHIM, { workerData: threadInput });
      const abort = () => void thread.terminate();
      ctx.cancellationSignal.addEventListener('abort', abort);

      const params = await new Promise<SoftmaxRegressionParams>((resolve, reject) => {
        thread.on('error', reject);
        thread.on('exit', (code) => reject(ctx.cancellationSignal.aborted ? ctx.cancellationSignal.reason : new Error(`training thread exited with code ${code}`)));
        thread.on('message', (m: TrainThreadMessage) => {
          switch (m.type) {
            case 'ready':
              trainRows = m.trainRows;
              started = performance.now();
              ctx.heartbeat({ epoch: resumedFromEpoch });
              break;
            case 'epoch': {
              history.push({ epoch: m.epoch, loss: m.loss });
              ctx.heartbeat({ epoch: m.epoch, loss: m.loss });
              const cp: Checkpoint = { epoch: m.epoch, params: m.params, history: [...history] };
              // Chained so checkpoints land in epoch order even if a write is slow.
              checkpointWrite = checkpointWrite.then(() => writeCheckpoint(checkpointFile, cp));
              const now = Date.now();
              if (workflow && input.progressSignal && (now - lastProgress >= PROGRESS_INTERVAL_MS || m.epoch === totalEpochs)) {
                lastProgress = now;
                const progress: TrainingProgress = { epoch: m.epoch, epochs: totalEpochs, loss: m.loss };
                // Progress is best effort: a lost update must never fail training.
                workflow.signal(input.progressSignal, progress).catch(() => undefined);
              }
              break;
            }
            case 'done':
              resolve(m.params);
              break;
            case 'diverged':
              reject(invalidInput(m.message));
              break;
          }
        });
      }).finally(() => {
        ctx.cancellationSignal.removeEventListener('abort', abort);
        void thread.terminate();
      });
      await checkpointWrite;
      const seconds = (performance.now() - started) / 1000;

      const dir = runArtifactDir(config);
      await mkdir(dir, { recursive: true });
      const paramsUri = path.join(dir, 'model-params.json');
      await writeFile(paramsUri, JSON.stringify(params));
      const epochsRun = totalEpochs - resumedFromEpoch;
      return {
        paramsUri,
        epochs: history,
        trainRows,
        trainSeconds: seconds,
        samplesPerSecond: seconds > 0 ? (epochsRun * trainRows) / seconds : 0,
        resumedFromEpoch,
      };
    },
  };
}

async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Checkpoint;
  } catch {
    return undefined;
  }
}

async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(cp));
  await rename(tmp, file);
}
