export { Adwin, ADWIN_DEFAULTS, type AdwinOptions, type AdwinSnapshot, type DriftResult } from './adwin';
export { psi, psiReference, PSI_EPSILON, type PsiOptions, type PsiReference, type PsiResult } from './psi';
export { kolmogorovSf, ksTwoSample, type KsResult } from './ks';
export { FEATURE_DRIFT_DEFAULTS, FeatureReference, type FeatureDriftOptions, type FeatureDriftResult, type FeatureScore } from './feature-drift';
