/**
 * A three-class, two-feature softmax-regression ONNX for the session tests (inline-sessions,
 * adaptive-sessions): rows (3, 0) and (1, 2) get different labels, so a mix-up cannot pass.
 */
import { softmaxRegressionToOnnx } from '../lib/onnx/softmax-regression-graph';

export const TINY_MODEL_BYTES = softmaxRegressionToOnnx({
  family: 'softmax-regression',
  nFeatures: 2,
  classes: ['a', 'b', 'c'],
  mean: [0, 0],
  scale: [1, 1],
  weights: [1, -1, 0.5, -0.5, 2, 0],
  bias: [0, 0.1, -0.1],
});
