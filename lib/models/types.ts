/**
 * The parameters of a trained softmax (multinomial logistic) regression, as plain numbers so
 * they survive JSON and can be turned into an ONNX graph without the trainer.
 *
 * Prediction: z = ((x - mean) / scale) · weights + bias, p = softmax(z).
 * Binary problems use two classes (not a single sigmoid) so every exported graph has one shape.
 */
export interface SoftmaxRegressionParams {
  family: 'softmax-regression';
  nFeatures: number;
  /** Class labels in output order; index i of the probability vector is classes[i]. */
  classes: string[];
  /** Per-feature standardisation learnt from the training split. */
  mean: number[];
  scale: number[];
  /** Row-major [nFeatures][nClasses]. */
  weights: number[];
  /** [nClasses]. */
  bias: number[];
}
