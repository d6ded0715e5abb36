/**
 * The training pipeline's input, and its validation. The CLI runs the same check at the edge
 * (one clear line, nothing started); the workflow runs it again for starts from elsewhere
 * (a schedule, another workflow) and fails non-retryably with the same message.
 */
import { parseHyperparameters, type ModelFamilyName } from '../models/families';

export interface TrainingPipelineInput {
  /** Registered model name in MLflow. */
  model: string;
  /** Dataset reference (builtin:…, synthetic:…, file:…). */
  dataset: string;
  labelColumn?: string;
  family: string;
  hyperparameters: Record<string, unknown>;
  holdoutFraction?: number;
  splitSeed?: number;
  /** Task queues, resolved from config by whoever starts the workflow (workflows cannot read env). */
  taskQueues: { cpu: string };
}

export interface NormalisedTrainingInput extends TrainingPipelineInput {
  family: ModelFamilyName;
  hyperparameters: Record<string, number>;
  holdoutFraction: number;
  splitSeed: number;
}

export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

export function checkTrainingInput(input: TrainingPipelineInput): Checked<NormalisedTrainingInput> {
  if (typeof input.model !== 'string' || !MODEL_NAME_PATTERN.test(input.model)) {
    return { ok: false, message: `model name "${String(input.model)}" must be 1-63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit` };
  }
  if (typeof input.dataset !== 'string' || !input.dataset.trim()) return { ok: false, message: 'dataset is required' };
  const holdoutFraction = input.holdoutFraction ?? 0.2;
  if (!(typeof holdoutFraction === 'number' && holdoutFraction > 0 && holdoutFraction < 1)) {
    return { ok: false, message: `holdout fraction must be > 0 and < 1 (got ${String(input.holdoutFraction)})` };
  }
  const splitSeed = input.splitSeed ?? 42;
  if (!Number.isInteger(splitSeed)) return { ok: false, message: `split seed must be an integer (got ${String(input.splitSeed)})` };
  if (!input.taskQueues?.cpu) return { ok: false, message: 'taskQueues.cpu is required' };
  const hp = parseHyperparameters(input.family, input.hyperparameters ?? {});
  if (!hp.ok) return { ok: false, message: hp.message };
  return {
    ok: true,
    value: { ...input, family: hp.family, hyperparameters: hp.hyperparameters as unknown as Record<string, number>, holdoutFraction, splitSeed },
  };
}

/** `train-<model>-<digest12>`: one pipeline per model and dataset content at a time. */
export function trainingWorkflowId(model: string, datasetDigest: string): string {
  return `train-${model}-${datasetDigest.slice(0, 12)}`;
}
