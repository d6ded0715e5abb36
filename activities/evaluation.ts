/**
 * Evaluation activity: scores the exported ONNX file itself (not the in-memory model) on the
 * holdout with onnxruntime-node, so what gets registered is exactly what was measured.
 */
import * as ort from 'onnxruntime-node';
import type { FlywheelConfig } from '../config/index';
import { selectRows } from '../lib/data/table';
import { classificationMetrics, type ClassificationMetrics } from '../lib/metrics/classification';
import { localDataset, readDataset, readIndices } from '../datasets/store';
import { getFileStore } from '../datasets/file-store';
import { invalidInput } from './errors';

export interface EvaluateInput {
  onnxUri: string;
  datasetUri: string;
  holdoutUri: string;
}

export interface EvaluationResult extends ClassificationMetrics {
  holdoutRows: number;
}

/** Rows per inference call: bounds the float32 copy and the output tensors for large holdouts. */
const EVAL_BATCH_ROWS = 16_384;

export function createEvaluationActivities(config: FlywheelConfig) {
  const files = getFileStore(config);
  return {
    async evaluateOnnx(input: EvaluateInput): Promise<EvaluationResult> {
      // Each input may have been written on another host (the ONNX by the PyTorch pool): this host's copies.
      const { dataset } = await readDataset(await localDataset(files, input.datasetUri));
      const holdout = selectRows(dataset, await readIndices(await files.local(input.holdoutUri)));
      const session = await ort.InferenceSession.create(await files.local(input.onnxUri), { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
      try {
        const [inputName] = session.inputNames;
        const nClasses = holdout.classes.length;
        const proba = new Float32Array(holdout.nRows * nClasses);
        for (let start = 0; start < holdout.nRows; start += EVAL_BATCH_ROWS) {
          const rows = Math.min(EVAL_BATCH_ROWS, holdout.nRows - start);
          const x = Float32Array.from(holdout.x.subarray(start * holdout.nFeatures, (start + rows) * holdout.nFeatures));
          const out = await session.run({ [inputName!]: new ort.Tensor('float32', x, [rows, holdout.nFeatures]) });
          const p = out.probabilities;
          if (!p || p.dims[1] !== nClasses) {
            throw invalidInput(`ONNX model ${input.onnxUri} does not output probabilities for ${nClasses} classes`);
          }
          proba.set(p.data as Float32Array, start * nClasses);
        }
        return { ...classificationMetrics(holdout.y, proba, nClasses), holdoutRows: holdout.nRows };
      } finally {
        await session.release();
      }
    },
  };
}
