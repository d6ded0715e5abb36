/** Hyperparameter search: spaces, samplers and pruners, pure and deterministic (workflow-safe). */
export * from './space';
export * from './trial';
export * from './sampler';
export * from './pruner';
export { gridSize, gridValues, buildGrid, MAX_GRID_SIZE, MAX_CONDITIONAL_GRID_SIZE } from './grid';
export type { Grid, GridPoints } from './grid';
export { GridSampler } from './grid-sampler';
export { RandomSampler, randomParams, randomValue } from './random-sampler';
export { TpeSampler } from './tpe-sampler';
export type { TpeConfig } from './tpe-sampler';
export { GpSampler } from './gp-sampler';
export type { GpConfig } from './gp-sampler';
export { MedianPruner } from './median-pruner';
export { SuccessiveHalvingPruner } from './successive-halving-pruner';
