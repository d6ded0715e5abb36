/**
 * The training pipeline's input, and its validation. The CLI runs the same check at the edge
 * (one clear line, nothing started); the workflow runs it again for starts from elsewhere
 * (a schedule, another workflow) and fails non-retryably with the same message.
 */
import { MODEL_FAMILIES, parseHyperparameters, type ModelFamilyName } from '../models/families';
import type { ActivityTaskQueues } from '../task-queues';

/**
 * Where torch-pool training may run: `auto` waits for a GPU worker, then falls back to the torch
 * pool's CPU queue; `gpu` waits for a GPU worker and fails clearly if none comes; `cpu` goes
 * straight to the CPU queue.
 */
export const TORCH_POOLS = ['auto', 'gpu', 'cpu'] as const;
export type TorchPool = (typeof TORCH_POOLS)[number];

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
  taskQueues: ActivityTaskQueues & { gpu?: string; cpuTorch?: string };
  /** Torch-pool families only (see TORCH_POOLS); default auto. */
  pool?: TorchPool;
  /** Torch-pool families only: seconds to wait for a GPU worker before falling back (auto) or failing (gpu). */
  gpuWaitSeconds?: number;
  /** Torch-pool families only: seconds the CPU torch queue may wait for a free worker before the training fails (default 600). */
  cpuWaitSeconds?: number;
}

export interface NormalisedTrainingInput extends TrainingPipelineInput {
  family: ModelFamilyName;
  hyperparameters: Record<string, number>;
  holdoutFraction: number;
  splitSeed: number;
  /** Present for torch-pool families. */
  torch?: { pool: TorchPool; gpuWaitSeconds: number; cpuWaitSeconds: number; gpuQueue: string; cpuQueue: string };
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
  const value: NormalisedTrainingInput = { ...input, family: hp.family, hyperparameters: hp.hyperparameters as unknown as Record<string, number>, holdoutFraction, splitSeed };
  if (MODEL_FAMILIES[hp.family].pool !== 'torch') {
    if (input.pool !== undefined) return { ok: false, message: `pool "${input.pool}" applies to PyTorch families only; ${hp.family} trains on the TypeScript CPU pool` };
    return { ok: true, value };
  }
  const pool = input.pool ?? 'auto';
  if (!TORCH_POOLS.includes(pool)) return { ok: false, message: `pool must be one of ${TORCH_POOLS.join(', ')} (got ${JSON.stringify(pool)})` };
  const gpuWaitSeconds = input.gpuWaitSeconds ?? 60;
  const cpuWaitSeconds = input.cpuWaitSeconds ?? 600;
  for (const [what, v, raw] of [['GPU', gpuWaitSeconds, input.gpuWaitSeconds], ['CPU', cpuWaitSeconds, input.cpuWaitSeconds]] as const) {
    if (!(Number.isInteger(v) && v >= 1 && v <= 86400)) return { ok: false, message: `${what} wait must be an integer number of seconds between 1 and 86400 (got ${String(raw)})` };
  }
  const { gpu, cpuTorch } = input.taskQueues;
  if (pool !== 'cpu' && !gpu) return { ok: false, message: `taskQueues.gpu is required to train ${hp.family} on pool ${pool}` };
  if (pool !== 'gpu' && !cpuTorch) return { ok: false, message: `taskQueues.cpuTorch is required to train ${hp.family} on pool ${pool}` };
  return { ok: true, value: { ...value, torch: { pool, gpuWaitSeconds, cpuWaitSeconds, gpuQueue: gpu ?? '', cpuQueue: cpuTorch ?? '' } } };
}

/** `train-<model>-<digest12>`: one pipeline per model and dataset content at a time. */
export function trainingWorkflowId(model: string, datasetDigest: string): string {
  return `train-${model}-${datasetDigest.slice(0, 12)}`;
}
