/**
 * Training on the PyTorch pool (gpu-worker/, Python): the activity is called by name on the GPU
 * queue; if no GPU worker picks it up within the wait, it moves to the torch pool's CPU queue
 * (pool auto) or fails saying what to start (pool gpu). Each queue gets a schedule-to-start
 * timeout, so a missing worker is a clear failure, never a silent hang.
 *
 * Both queues resume from the same checkpoint (the Python worker keys it by workflow run, not by
 * activity), so a GPU attempt that dies and is finished on the CPU does not start over.
 */
import * as wf from '@temporalio/workflow';
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { EpochRecord } from '../activities/training';
import type { ExportResult } from '../activities/export';
import { NON_RETRYABLE_TYPES } from '../lib/failure-types';
import type { TorchPool } from '../lib/pipeline/training-input';

/** The Python activity's input (gpu-worker/flywheel_gpu_worker/activities.py). */
export interface TorchTrainInput {
  datasetUri: string;
  trainUri: string;
  validUri?: string;
  family: string;
  hyperparameters: Record<string, number>;
  metadata: Record<string, string>;
  progressSignal?: string;
  checkpointName?: string;
}

export interface TorchTrainResult extends ExportResult {
  epochs: EpochRecord[];
  trainRows: number;
  trainSeconds: number;
  samplesPerSecond: number;
  resumedFromEpoch: number;
  device: string;
  precision: 'bf16' | 'fp32';
  cudaGraphs: boolean;
  parity: { maxAbsDiff: number; tolerance: number; rows: number };
}

interface TorchActivities {
  trainNeuralModel(input: TorchTrainInput): Promise<TorchTrainResult>;
}

export const NO_TORCH_WORKER = 'NoTorchWorker';
export const EXPORT_PARITY_ERROR = 'ExportParityError';

export type TorchPlacement = 'waiting-for-gpu' | 'gpu' | 'waiting-for-cpu' | 'cpu';

export interface TorchTrainingOptions {
  pool: TorchPool;
  gpuWaitSeconds: number;
  /** Longer than the GPU wait: here the question is a free worker, not whether one exists. */
  cpuWaitSeconds: number;
  gpuQueue: string;
  cpuQueue: string;
  /** Told where the training is now, for the workflow's status query. */
  onPlacement?(placement: TorchPlacement, note: string): void;
}

export async function trainOnTorchPool(input: TorchTrainInput, opts: TorchTrainingOptions): Promise<TorchTrainResult> {
  const report = (p: TorchPlacement, note: string) => opts.onPlacement?.(p, note);
  if (opts.pool !== 'cpu') {
    report('waiting-for-gpu', `waiting up to ${opts.gpuWaitSeconds} s for a GPU worker on ${opts.gpuQueue}`);
    try {
      return await torchActivities(opts.gpuQueue, opts.gpuWaitSeconds).trainNeuralModel(input);
    } catch (err) {
      if (!isScheduleToStartTimeout(err)) throw err;
      if (opts.pool === 'gpu') {
        throw ApplicationFailure.create({
          type: NO_TORCH_WORKER,
          nonRetryable: true,
          message: `no GPU worker picked up the training on task queue ${opts.gpuQueue} within ${opts.gpuWaitSeconds} s: start one (flywheel up --gpu, or the gpu-worker compose service) or train with --pool auto or cpu`,
        });
      }
    }
  }
  report('waiting-for-cpu', `${opts.pool === 'auto' ? `no GPU worker within ${opts.gpuWaitSeconds} s; ` : ''}waiting up to ${opts.cpuWaitSeconds} s for a CPU torch worker on ${opts.cpuQueue}`);
  try {
    return await torchActivities(opts.cpuQueue, opts.cpuWaitSeconds).trainNeuralModel(input);
  } catch (err) {
    if (!isScheduleToStartTimeout(err)) throw err;
    const where =
      opts.pool === 'auto'
        ? `, neither on task queue ${opts.gpuQueue} within ${opts.gpuWaitSeconds} s nor on ${opts.cpuQueue} within ${opts.cpuWaitSeconds} s`
        : ` on task queue ${opts.cpuQueue} within ${opts.cpuWaitSeconds} s`;
    throw ApplicationFailure.create({
      type: NO_TORCH_WORKER,
      nonRetryable: true,
      message: `no PyTorch worker picked up the training${where}: start one (flywheel up starts it on the CPU; flywheel up --gpu on a GPU machine)`,
    });
  }
}

function torchActivities(taskQueue: string, waitSeconds: number) {
  return wf.proxyActivities<TorchActivities>({
    taskQueue,
    // Per attempt: a retry after a killed worker also fails clearly if no worker comes back.
    scheduleToStartTimeout: `${waitSeconds} seconds`,
    startToCloseTimeout: '24 hours',
    // The worker heartbeats every epoch and at least every ~2 s inside one; a killed worker is
    // noticed within this and the retry resumes from its checkpoint.
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES, EXPORT_PARITY_ERROR] },
  });
}

function isScheduleToStartTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}
