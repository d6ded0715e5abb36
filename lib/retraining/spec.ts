/**
 * Inputs of the Retraining and DriftMonitor workflows, checked with one line naming the field, for
 * the CLI edge and the workflows alike (a schedule or a drift monitor starts them without the CLI).
 */
import { checkRollout, type AnalysisSpec, type RolloutStep } from '../rollout/spec';
import { checkTrainingInput, MODEL_NAME_PATTERN, type Checked } from '../pipeline/training-input';
import type { ActivityTaskQueues } from '../task-queues';

export type ComparisonMetric = 'logLoss' | 'accuracy';

export type RetrainingTrigger =
  | { kind: 'manual' }
  | { kind: 'schedule'; scheduleId: string }
  | { kind: 'drift'; monitorId: string; event: number };

export interface RetrainingInput {
  model: string;
  /** The fresh data window, by reference (builtin:…, synthetic:…, file:…). */
  dataset: string;
  labelColumn?: string;
  family?: string;
  hyperparameters?: Record<string, unknown>;
  holdoutFraction?: number;
  splitSeed?: number;
  /** The challenger must beat the champion by this much on `metric` before it is canaried. */
  margin?: number;
  metric?: ComparisonMetric;
  /** Steps and analysis of the canary the winner gets; the defaults are CanaryRollout's. */
  canary?: { steps?: RolloutStep[]; analysis?: Partial<AnalysisSpec> };
  trigger?: RetrainingTrigger;
  taskQueues: ActivityTaskQueues;
}

export interface NormalisedRetraining extends RetrainingInput {
  family: string;
  hyperparameters: Record<string, unknown>;
  holdoutFraction: number;
  splitSeed: number;
  margin: number;
  metric: ComparisonMetric;
  trigger: RetrainingTrigger;
}

export const DEFAULT_MARGIN = 0.01;
export const DEFAULT_METRIC: ComparisonMetric = 'logLoss';

export function checkRetraining(input: RetrainingInput): Checked<NormalisedRetraining> {
  const n: NormalisedRetraining = {
    ...input,
    family: input.family ?? 'softmax-regression',
    hyperparameters: input.hyperparameters ?? {},
    holdoutFraction: input.holdoutFraction ?? 0.2,
    splitSeed: input.splitSeed ?? 42,
    margin: input.margin ?? DEFAULT_MARGIN,
    metric: input.metric ?? DEFAULT_METRIC,
    trigger: input.trigger ?? { kind: 'manual' },
  };
  const training = checkTrainingInput({ ...n, taskQueues: n.taskQueues });
  if (!training.ok) return training;
  if (!(Number.isFinite(n.margin) && n.margin >= 0 && n.margin < 1)) return { ok: false, message: `margin must be a number >= 0 and < 1 (got ${String(input.margin)})` };
  if (n.metric !== 'logLoss' && n.metric !== 'accuracy') return { ok: false, message: `metric must be logLoss or accuracy (got ${String(input.metric)})` };
  if (n.canary?.steps || n.canary?.analysis) {
    // Checked now, not when the canary would start: a bad spec must not cost a training run.
    const rollout = checkRollout({ model: n.model, candidateVersion: '2', stableVersion: '1', steps: n.canary.steps ?? [{ weight: 100, pauseSeconds: 0 }], analysis: n.canary.analysis, taskQueues: n.taskQueues });
    if (!rollout.ok) return { ok: false, message: `canary: ${rollout.message}` };
  }
  return { ok: true, value: { ...n, family: training.value.family, hyperparameters: training.value.hyperparameters } };
}

export interface DriftMonitorInput {
  model: string;
  /** What a drift-triggered retraining trains on (predictions carry no features to build one from). */
  retraining: Omit<RetrainingInput, 'model' | 'trigger' | 'taskQueues'>;
  /** ADWIN's significance level (River's default 0.002). */
  delta?: number;
  pollSeconds?: number;
  /** Labels younger than this are not read yet: a row committed late behind a higher id is not skipped. */
  settleSeconds?: number;
  /** Labelled outcomes read per poll at most. */
  batchSize?: number;
  /** Polls per workflow run before continue-as-new (bounds the history; small in tests to exercise it). */
  pollsPerRun?: number;
  /**
   * When the retraining learns production data: labelled outcomes to wait for after a rise before
   * it starts, and it then learns only what was served after the rise. A window taken at the moment
   * of detection holds mostly the old concept, so its challenger is not better and the loop stalls
   * (bench/decisions/concept-recovery.ts: 0 of 20 recovered that way; 20 of 20 waiting for 2,000). Ignored for other datasets.
   */
  minNewLabels?: number;
  taskQueues: ActivityTaskQueues;
}

export const DEFAULT_MIN_NEW_LABELS = 2000;

export function checkDriftMonitor(input: DriftMonitorInput): Checked<Required<Omit<DriftMonitorInput, 'retraining'>> & { retraining: DriftMonitorInput['retraining'] }> {
  if (typeof input.model !== 'string' || !MODEL_NAME_PATTERN.test(input.model)) return { ok: false, message: `model name "${String(input.model)}" is not a valid model name` };
  const v = { delta: 0.002, pollSeconds: 30, settleSeconds: 2, batchSize: 2000, pollsPerRun: 500, minNewLabels: DEFAULT_MIN_NEW_LABELS, ...input };
  if (!(v.delta > 0 && v.delta < 1)) return { ok: false, message: `delta must be > 0 and < 1 (got ${v.delta})` };
  if (!(v.pollSeconds >= 0.1 && v.pollSeconds <= 86400)) return { ok: false, message: `poll interval must be between 0.1 and 86400 seconds (got ${v.pollSeconds})` };
  if (!(v.settleSeconds >= 0 && v.settleSeconds <= 3600)) return { ok: false, message: `settle time must be between 0 and 3600 seconds (got ${v.settleSeconds})` };
  if (!(Number.isInteger(v.batchSize) && v.batchSize >= 1 && v.batchSize <= 20000)) return { ok: false, message: `batch size must be an integer between 1 and 20000 (got ${v.batchSize})` };
  if (!(Number.isInteger(v.pollsPerRun) && v.pollsPerRun >= 1 && v.pollsPerRun <= 5000)) return { ok: false, message: `polls per run must be an integer between 1 and 5000 (got ${v.pollsPerRun})` };
  if (!(Number.isInteger(v.minNewLabels) && v.minNewLabels >= 0 && v.minNewLabels <= 1_000_000)) return { ok: false, message: `min new labels must be an integer between 0 and 1000000 (got ${v.minNewLabels})` };
  const retraining = checkRetraining({ ...input.retraining, model: input.model, taskQueues: input.taskQueues });
  if (!retraining.ok) return { ok: false, message: `retraining: ${retraining.message}` };
  return { ok: true, value: v };
}

export const driftMonitorId = (model: string) => `drift-${model}`;
/** One retraining per drift event, whatever retries or replays happen: the id is the idempotency key. */
export const driftRetrainingId = (model: string, event: number) => `retrain-${model}-drift-${event}`;
export const retrainingScheduleId = (model: string) => `retrain-${model}`;
