/**
 * FeatureDriftMonitor's input, checked once at the edge (CLI) and again in the workflow: how often
 * served features are compared with the champion's training data, the judge's thresholds, and
 * optionally what a retraining trains on when a feature moved (e.g. `production:<model>:7d`).
 */
import { MODEL_NAME_PATTERN, type Checked } from '../pipeline/training-input';
import type { ActivityTaskQueues } from '../task-queues';
import { checkRetraining, type RetrainingInput } from './spec';

export interface FeatureDriftMonitorInput {
  model: string;
  /** The newest served rows with features judged per check. */
  windowRows?: number;
  pollSeconds?: number;
  psiThreshold?: number;
  ksAlpha?: number;
  minSample?: number;
  /** When a feature moved: start one Retraining on this (absent: record and alert only). */
  retraining?: Omit<RetrainingInput, 'model' | 'trigger' | 'taskQueues'>;
  /** Checks per workflow run before continue-as-new. */
  pollsPerRun?: number;
  taskQueues: ActivityTaskQueues;
}

export type CheckedFeatureDriftMonitor = Required<Omit<FeatureDriftMonitorInput, 'retraining'>> & Pick<FeatureDriftMonitorInput, 'retraining'>;

export function checkFeatureDriftMonitor(input: FeatureDriftMonitorInput): Checked<CheckedFeatureDriftMonitor> {
  if (typeof input.model !== 'string' || !MODEL_NAME_PATTERN.test(input.model)) return { ok: false, message: `model name "${String(input.model)}" is not a valid model name` };
  const v = { windowRows: 1000, pollSeconds: 60, psiThreshold: 0.1, ksAlpha: 0.001, minSample: 500, pollsPerRun: 500, ...input };
  if (!(Number.isInteger(v.windowRows) && v.windowRows >= 10 && v.windowRows <= 1_000_000)) return { ok: false, message: `window must be a whole number of rows between 10 and 1000000 (got ${v.windowRows})` };
  if (!(v.pollSeconds >= 0.1 && v.pollSeconds <= 86400)) return { ok: false, message: `poll interval must be between 0.1 and 86400 seconds (got ${v.pollSeconds})` };
  if (!(v.psiThreshold > 0)) return { ok: false, message: `PSI threshold must be > 0 (got ${v.psiThreshold})` };
  if (!(v.ksAlpha > 0 && v.ksAlpha < 1)) return { ok: false, message: `KS alpha must be between 0 and 1 (got ${v.ksAlpha})` };
  if (!(Number.isInteger(v.minSample) && v.minSample >= 2 && v.minSample <= v.windowRows)) return { ok: false, message: `minimum sample must be a whole number between 2 and the window (got ${v.minSample})` };
  if (!(Number.isInteger(v.pollsPerRun) && v.pollsPerRun >= 1 && v.pollsPerRun <= 5000)) return { ok: false, message: `polls per run must be an integer between 1 and 5000 (got ${v.pollsPerRun})` };
  if (input.retraining) {
    const r = checkRetraining({ ...input.retraining, model: input.model, taskQueues: input.taskQueues });
    if (!r.ok) return { ok: false, message: `retraining: ${r.message}` };
  }
  return { ok: true, value: v };
}

export const featureDriftMonitorId = (model: string) => `feature-drift-${model}`;
/** One retraining per feature drift event: the event's id is the idempotency key. */
export const featureDriftRetrainingId = (model: string, eventId: string) => `retrain-${model}-feature-drift-${eventId}`;
