/** Non-retryable failures carry the one clear message the user should see, unchanged. */
import { ApplicationFailure } from '@temporalio/common';
import { INVALID_DATASET, INVALID_INPUT } from '../lib/failure-types';

export function invalidDataset(message: string, details?: { column?: string; row?: number; code?: string }): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_DATASET, message, nonRetryable: true, details: details ? [details] : [] });
}

export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_INPUT, message, nonRetryable: true });
}
