export * from './types';
export { LogisticRegression, type LogisticRegressionOptions, type LogisticRegressionSnapshot } from './logistic-regression';
export { PaClassifier, type PaClassifierOptions, type PaClassifierSnapshot, type PaMode } from './pa-classifier';
export {
  OnlineSoftmaxRegression,
  fromSoftmaxRegressionParams,
  type SoftmaxRegressionOptions,
  type SoftmaxRegressionSnapshot,
} from './softmax-regression';
export { OneVsRest, type OneVsRestSnapshot } from './one-vs-rest';
export { BaggingClassifier, poisson1, type BaggingOptions, type BaggingSnapshot } from './bagging';
export { learnMany, predictMany, predictProbaMany, progressiveValidation, type ProgressiveResult } from './batch';
export { fromJSON } from './snapshot';
