/**
 * Runs the training thread for an activity: heartbeats and checkpoints every epoch, resumes from
 * the last checkpoint on a retry, stops the thread on cancellation. Shared by the pipeline's
 * training activity and the hyperparameter search's trial activity.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Context } from '@temporalio/activity';
import type { ClassificationMetrics } from '../lib/metrics/classification';
import type { SoftmaxRegressionHyperparameters } from '../lib/models/softmax-regression';
import type { SoftmaxRegressionParams } from '../lib/models/types';
import { invalidInput } from './errors';
import type { TrainThreadInput, TrainThreadMessage } from './threads/train-thread';
import { localDataset } from '../datasets/store';
import { StoreMiss, type FileStore } from '../datasets/file-store';

export interface EpochRecord {
  epoch: number;
  loss: number;
  validation?: ClassificationMetrics;
}

export interface ThreadRunInput {
  datasetUri: string;
  trainUri: string;
  validUri?: string;
  hyperparameters: SoftmaxRegressionHyperparameters;
  checkpointFile: string;
  /** The shared store: inputs written on other hosts come from it, checkpoints go to it (a retry on another host resumes). */
  files: FileStore;
  onEpoch?(e: EpochRecord): void;
}

export interface ThreadRunResult {
  params: SoftmaxRegressionParams;
  history: EpochRecord[];
  trainRows: number;
  seconds: number;
  resumedFromEpoch: number;
}

interface Checkpoint {
  epoch: number;
  params: SoftmaxRegressionParams;
  history: EpochRecord[];
}

const THREAD_SHIM = new URL('./threads/ts-thread.mjs', import.meta.url);
const THREAD_ENTRY = new URL('./threads/train-thread.ts', import.meta.url).href;

export async function runTrainingThread(input: ThreadRunInput): Promise<ThreadRunResult> {
  const ctx = Context.current();
  const { files } = input;
  // An earlier attempt on another host may have published one: fetched into place, or none.
  await files.local(input.checkpointFile).catch((err: unknown) => {
    if (!(err instanceof StoreMiss)) throw err;
  });
  const checkpoint = await readCheckpoint(input.checkpointFile);
  const resumedFromEpoch = checkpoint?.epoch ?? 0;
  const history: EpochRecord[] = checkpoint?.history ?? [];
  const threadInput: TrainThreadInput = {
    entry: THREAD_ENTRY,
    datasetUri: await localDataset(files, input.datasetUri),
    trainUri: await files.local(input.trainUri),
    validUri: input.validUri && (await files.local(input.validUri)),
    hyperparameters: input.hyperparameters,
    startEpoch: resumedFromEpoch + 1,
    initial: checkpoint?.params,
  };
  let trainRows = 0;
  let started = performance.now();
  let checkpointWrite: Promise<void> = Promise.resolve();
  // One publish in flight, then the newest checkpoint: current for a resume elsewhere, no backlog when epochs are fast.
  let publishing: Promise<void> | undefined;
  let newer = false;
  const publishLatest = () => {
    if (publishing) {
      newer = true;
      return;
    }
    publishing = (async () => {
      do {
        newer = false;
        // Best effort: a store hiccup costs a resume elsewhere some epochs, never the training.
        await files.publish(input.checkpointFile).catch(() => undefined);
      } while (newer);
    })().finally(() => (publishing = undefined));
  };
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
          const record: EpochRecord = { epoch: m.epoch, loss: m.loss, validation: m.validation };
          history.push(record);
          ctx.heartbeat(record);
          const cp: Checkpoint = { epoch: m.epoch, params: m.params, history: [...history] };
          // Chained so checkpoints land in epoch order even if one write is slow.
          checkpointWrite = checkpointWrite.then(async () => {
            await writeCheckpoint(input.checkpointFile, cp);
            publishLatest();
          });
          input.onEpoch?.(record);
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
  await publishing;
  return { params, history, trainRows, seconds: (performance.now() - started) / 1000, resumedFromEpoch };
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
