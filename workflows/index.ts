/** Every workflow the workflow worker registers. */
export { TrainingPipeline } from './training-pipeline';
export { HyperparameterSearch } from './hyperparameter-search';
export { CanaryRollout } from './canary-rollout';
export { ABTest } from './ab-test';
export { DriftMonitor } from './drift-monitor';
export { Retraining } from './retraining';
export { KnowledgeValidation } from './knowledge-validation';
export { OnlineSnapshot } from './online-learning';
export { Reconciler } from './reconciler';
export { Backup } from './backup';
export { FeatureDriftMonitor } from './feature-drift-monitor';
