export { take, type DataStream, type Sample, type StreamBatch } from './types';
export { Sea, SEA_THRESHOLDS, type SeaOptions } from './sea';
export { Stagger, type StaggerFunction, type StaggerOptions } from './stagger';
export { Hyperplane, type HyperplaneOptions } from './hyperplane';
export { Agrawal, type AgrawalFunction, type AgrawalOptions } from './agrawal';
export { ConceptDriftStream, type ConceptDriftOptions } from './concept-drift';
export { CovariateShiftStream, type CovariateShiftOptions } from './covariate-shift';
