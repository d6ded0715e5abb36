/**
 * The training hot loop, off the activity's event loop: the main thread stays free to heartbeat,
 * write checkpoints, report progress and notice cancellation while this thread computes.
 * With a validation split it also scores the model after every epoch (the intermediate values a
 * hyperparameter search prunes on).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectRows, type Dataset } from '../../lib/data/table';
import { classificationMetrics, type ClassificationMetrics } from '../../lib/metrics/classification';
import { SoftmaxRegression, trainSoftmaxRegression, TrainingDivergedError, type SoftmaxRegressionHyperparameters } from '../../lib/models/softmax-regression';
import type { SoftmaxRegressionParams } from '../../lib/models/types';
import { readDataset, readIndices } from '../../datasets/store';

export interface TrainThreadInput {
  entry: string;
  datasetUri: string;
  trainUri: string;
  validUri?: string;
  hyperparameters: SoftmaxRegressionHyperparameters;
  startEpoch: number;
  initial?: SoftmaxRegressionParams;
}

export type TrainThreadMessage =
  | { type: 'ready'; trainRows: number }
  | { type: 'epoch'; epoch: number; loss: number; params: SoftmaxRegressionParams; validation?: ClassificationMetrics }
  | { type: 'done'; params: SoftmaxRegressionParams }
  | { type: 'diverged'; message: string };

const input = workerData as TrainThreadInput;
const post = (m: TrainThreadMessage) => parentPort!.postMessage(m);

const { dataset } = await readDataset(input.datasetUri);
const train = selectRows(dataset, await readIndices(input.trainUri));
const valid = input.validUri ? selectRows(dataset, await readIndices(input.validUri)) : undefined;
post({ type: 'ready', trainRows: train.nRows });
try {
  const result = trainSoftmaxRegression(train, input.hyperparameters, {
    startEpoch: input.startEpoch,
    initial: input.initial,
    onEpoch: (e) => {
      const params = e.params();
      post({ type: 'epoch', epoch: e.epoch, loss: e.loss, params, validation: valid && score(params, valid) });
    },
  });
  post({ type: 'done', params: result.params });
} catch (err) {
  if (err instanceof TrainingDivergedError) post({ type: 'diverged', message: err.message });
  else throw err;
}

function score(params: SoftmaxRegressionParams, ds: Dataset): ClassificationMetrics {
  const model = SoftmaxRegression.fromParams(params, input.hyperparameters);
  return classificationMetrics(ds.y, model.predictProba(ds.x, ds.nRows), ds.classes.length);
}
