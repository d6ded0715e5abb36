/**
 * The training hot loop, off the activity's event loop: the main thread stays free to heartbeat,
 * write checkpoints, report progress and notice cancellation while this thread computes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectRows } from '../../lib/data/table';
import { trainSoftmaxRegression, TrainingDivergedError, type SoftmaxRegressionHyperparameters } from '../../lib/models/softmax-regression';
import type { SoftmaxRegressionParams } from '../../lib/models/types';
import { readDataset, readIndices } from '../../datasets/store';

export interface TrainThreadInput {
  entry: string;
  datasetUri: string;
  trainUri: string;
  hyperparameters: SoftmaxRegressionHyperparameters;
  startEpoch: number;
  initial?: SoftmaxRegressionParams;
}

export type TrainThreadMessage =
  | { type: 'ready'; trainRows: number }
  | { type: 'epoch'; epoch: number; loss: number; params: SoftmaxRegressionParams }
  | { type: 'done'; params: SoftmaxRegressionParams }
  | { type: 'diverged'; message: string };

const input = workerData as TrainThreadInput;
const post = (m: TrainThreadMessage) => parentPort!.postMessage(m);

const { dataset } = await readDataset(input.datasetUri);
const train = selectRows(dataset, await readIndices(input.trainUri));
post({ type: 'ready', trainRows: train.nRows });
try {
  const result = trainSoftmaxRegression(train, input.hyperparameters, {
    startEpoch: input.startEpoch,
    initial: input.initial,
    onEpoch: (e) => post({ type: 'epoch', epoch: e.epoch, loss: e.loss, params: e.params() }),
  });
  post({ type: 'done', params: result.params });
} catch (err) {
  if (err instanceof TrainingDivergedError) post({ type: 'diverged', message: err.message });
  else throw err;
}
