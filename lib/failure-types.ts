/** Failure types no retry can fix; shared by activities (which throw them) and workflows (which list them). */
export const INVALID_DATASET = 'InvalidDataset';
export const INVALID_INPUT = 'InvalidInput';
export const INVALID_DEPLOYMENT = 'InvalidDeployment';
export const NON_RETRYABLE_TYPES: string[] = [INVALID_DATASET, INVALID_INPUT, INVALID_DEPLOYMENT];
