/**
 * Input of the HyperparameterSearch workflow and its validation, shared by the CLI (edge) and the
 * workflow (non-retryable failure with the same message).
 */
import { createPruner, createSampler, parseSearchSpace, type SamplerName, type SearchSpace } from '../hpo/index';
import { MODEL_FAMILIES, parseHyperparameters } from '../models/families';
import { MODEL_NAME_PATTERN, type Checked } from './training-input';
import type { ActivityTaskQueues } from '../task-queues';

export const SEARCH_METRICS = { logLoss: 'minimize', accuracy: 'maximize', f1: 'maximize', auc: 'maximize' } as const;
export type SearchMetric = keyof typeof SEARCH_METRICS;
export type PrunerName = 'none' | 'median' | 'successive-halving';

export interface HyperparameterSearchInput {
  model: string;
  dataset: string;
  labelColumn?: string;
  family: string;
  /** Raw search space (JSON/YAML-shaped); validated by parseSearchSpace. */
  space: unknown;
  /** Hyperparameters held fixed for every trial (e.g. epochs). */
  fixed?: Record<string, unknown>;
  sampler: SamplerName;
  samplerOptions?: Record<string, unknown>;
  pruner?: PrunerName;
  trials: number;
  parallel: number;
  metric?: SearchMetric;
  seed?: number;
  holdoutFraction?: number;
  validationFraction?: number;
  splitSeed?: number;
  /** Train, export, evaluate and register the best configuration (a child TrainingPipeline). Default true. */
  trainBest?: boolean;
  /** `control` is optional: inputs from before the control queue run their quick calls on `cpu`. */
  taskQueues: ActivityTaskQueues;
}

export interface NormalisedSearchInput extends HyperparameterSearchInput {
  space: SearchSpace;
  fixed: Record<string, number>;
  pruner: PrunerName;
  metric: SearchMetric;
  seed: number;
  holdoutFraction: number;
  validationFraction: number;
  splitSeed: number;
  trainBest: boolean;
}

export const MAX_TRIALS = 10_000;
export const MAX_PARALLEL = 64;
/**
 * The GP sampler runs inside workflow code and costs O(n³): near 250 trials one proposal takes
 * over a second, close to Temporal's 2 s deadlock detector. Longer studies belong to TPE.
 */
export const MAX_GP_TRIALS = 200;

/** The default space for a family when the user gives none. */
export const DEFAULT_SPACES: Record<string, unknown> = {
  'softmax-regression': {
    learningRate: { type: 'float', low: 0.001, high: 1, log: true },
    l2: { type: 'float', low: 1e-6, high: 0.01, log: true },
    batchSize: { type: 'categorical', choices: [16, 32, 64, 128] },
  },
};

export function checkSearchInput(input: HyperparameterSearchInput): Checked<NormalisedSearchInput> {
  if (typeof input.model !== 'string' || !MODEL_NAME_PATTERN.test(input.model)) {
    return { ok: false, message: `model name "${String(input.model)}" must be 1-63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit` };
  }
  const space = parseSearchSpace(input.space);
  if (!space.ok) return { ok: false, message: `search space: ${space.message}` };
  const fixedRaw = input.fixed ?? {};
  // Every combination the sampler may produce must be a valid set of hyperparameters for the family.
  const family = parseHyperparameters(input.family, fixedRaw);
  if (!family.ok) return { ok: false, message: family.message };
  if (MODEL_FAMILIES[family.family].pool !== 'cpu') {
    return { ok: false, message: `hyperparameter search runs its trials on the TypeScript CPU pool: ${family.family} (PyTorch pool) cannot be searched yet; train it with fixed --param values` };
  }
  const known = Object.keys(MODEL_FAMILIES[family.family].params);
  for (const [name, spec] of Object.entries(space.space)) {
    if (!known.includes(name)) return { ok: false, message: `search space: parameter "${name}" is not a hyperparameter of ${family.family} (known: ${known.join(', ')})` };
    if (name in fixedRaw) return { ok: false, message: `search space: parameter "${name}" is also fixed (--param); search it or fix it, not both` };
    for (const probe of probeValues(spec)) {
      const hp = parseHyperparameters(family.family, { ...fixedRaw, [name]: probe });
      if (!hp.ok) return { ok: false, message: `search space: parameter "${name}" allows ${probe}: ${hp.message}` };
    }
  }
  if (!Number.isInteger(input.trials) || input.trials < 1 || input.trials > MAX_TRIALS) return { ok: false, message: `trials must be an integer between 1 and ${MAX_TRIALS} (got ${input.trials})` };
  if (input.sampler === 'gp' && input.trials > MAX_GP_TRIALS) return { ok: false, message: `the gp sampler supports at most ${MAX_GP_TRIALS} trials (got ${input.trials}): use tpe for longer studies` };
  if (input.seed !== undefined && !(Number.isInteger(input.seed) && input.seed >= 0 && input.seed < 2 ** 31)) return { ok: false, message: `seed must be an integer in [0, 2147483647] (got ${input.seed})` };
  if (!Number.isInteger(input.parallel) || input.parallel < 1 || input.parallel > MAX_PARALLEL) return { ok: false, message: `parallel must be an integer between 1 and ${MAX_PARALLEL} (got ${input.parallel})` };
  const metric = input.metric ?? 'logLoss';
  if (!(metric in SEARCH_METRICS)) return { ok: false, message: `metric must be one of ${Object.keys(SEARCH_METRICS).join(', ')} (got ${String(metric)})` };
  const pruner = input.pruner ?? 'median';
  try {
    createSampler(input.sampler, input.samplerOptions);
    createPruner(pruner, {});
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  for (const [key, v] of [['holdout fraction', input.holdoutFraction ?? 0.2], ['validation fraction', input.validationFraction ?? 0.25]] as const) {
    if (!(typeof v === 'number' && v > 0 && v < 1)) return { ok: false, message: `${key} must be > 0 and < 1 (got ${v})` };
  }
  if (!input.taskQueues?.cpu) return { ok: false, message: 'taskQueues.cpu is required' };
  return {
    ok: true,
    value: {
      ...input,
      family: family.family,
      space: space.space,
      // Everything not searched is fixed: the user's values, else the family's defaults.
      fixed: Object.fromEntries(Object.entries(family.hyperparameters as unknown as Record<string, number>).filter(([k]) => !(k in space.space))),
      pruner,
      metric,
      seed: input.seed ?? 1,
      holdoutFraction: input.holdoutFraction ?? 0.2,
      validationFraction: input.validationFraction ?? 0.25,
      splitSeed: input.splitSeed ?? 42,
      trainBest: input.trainBest ?? true,
    },
  };
}

function probeValues(spec: SearchSpace[string]): Array<number | string | boolean> {
  return spec.type === 'categorical' ? spec.choices : [spec.low, spec.high];
}

/** `hpo-<model>-<digest12>`. */
export function searchWorkflowId(model: string, datasetDigest: string): string {
  return `hpo-${model}-${datasetDigest.slice(0, 12)}`;
}
