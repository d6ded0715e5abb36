/**
 * The model families a user can ask for, and the checking of their hyperparameters at the edge
 * (CLI, workflow input): one line naming the parameter and its range, before anything starts.
 */
import { z } from 'zod';
import type { SoftmaxRegressionHyperparameters } from './softmax-regression';

interface NumericParam {
  kind: 'number' | 'integer';
  min: number;
  /** True when min itself is not allowed. */
  minExclusive?: boolean;
  max: number;
  default: number;
  description: string;
}

const SOFTMAX_REGRESSION_PARAMS = {
  learningRate: { kind: 'number', min: 0, minExclusive: true, max: 10, default: 0.1, description: 'SGD step size' },
  l2: { kind: 'number', min: 0, max: 1, default: 1e-4, description: 'L2 penalty (scikit-learn alpha); bias is not penalised' },
  epochs: { kind: 'integer', min: 1, max: 1000, default: 20, description: 'passes over the training split' },
  batchSize: { kind: 'integer', min: 1, max: 65536, default: 64, description: 'rows per SGD step (gradient averaged)' },
  seed: { kind: 'integer', min: 0, max: 2 ** 32 - 1, default: 42, description: 'seed of the per-epoch shuffles' },
} as const satisfies Record<keyof SoftmaxRegressionHyperparameters, NumericParam>;

/** The Python pool's MLP classifier (gpu-worker/flywheel_gpu_worker/hyperparameters.py holds the same ranges). */
const MLP_PARAMS = {
  hiddenUnits: { kind: 'integer', min: 4, max: 4096, default: 256, description: 'units in each hidden layer' },
  hiddenLayers: { kind: 'integer', min: 1, max: 8, default: 2, description: 'hidden ReLU layers' },
  learningRate: { kind: 'number', min: 0, minExclusive: true, max: 1, default: 0.001, description: 'AdamW step size' },
  weightDecay: { kind: 'number', min: 0, max: 1, default: 0.01, description: 'AdamW decoupled weight decay' },
  epochs: { kind: 'integer', min: 1, max: 10000, default: 20, description: 'passes over the training split' },
  batchSize: { kind: 'integer', min: 1, max: 1048576, default: 1024, description: 'rows per AdamW step' },
  seed: { kind: 'integer', min: 0, max: 2 ** 32 - 1, default: 42, description: 'seed of the initial weights and per-epoch shuffles' },
} as const satisfies Record<string, NumericParam>;

/**
 * Where a family trains: `cpu` is the TypeScript CPU pool; `torch` is the Python PyTorch pool,
 * on a GPU when one polls the GPU queue, else on its CPU queue (see workflows/torch-training.ts).
 */
export type TrainingPool = 'cpu' | 'torch';

export const MODEL_FAMILIES = {
  'softmax-regression': {
    description: 'multinomial logistic regression (binary problems use two classes), trained by minibatch SGD with L2',
    pool: 'cpu',
    params: SOFTMAX_REGRESSION_PARAMS,
    hyperparameters: schemaFor(SOFTMAX_REGRESSION_PARAMS),
  },
  mlp: {
    description: 'multilayer perceptron classifier (ReLU, AdamW, bf16 on CUDA), trained by PyTorch on the GPU pool',
    pool: 'torch',
    params: MLP_PARAMS,
    hyperparameters: schemaFor(MLP_PARAMS),
  },
} as const;

export type ModelFamilyName = keyof typeof MODEL_FAMILIES;

export const MODEL_FAMILY_ALIASES: Readonly<Record<string, ModelFamilyName>> = {
  logreg: 'softmax-regression',
  'mlp-classifier': 'mlp',
  'logistic-regression': 'softmax-regression',
};

export type Hyperparameters = { [F in ModelFamilyName]: z.output<(typeof MODEL_FAMILIES)[F]['hyperparameters']> }[ModelFamilyName];

// The schema must produce exactly what the trainer takes; this fails to compile if they drift.
const _schemaMatchesTrainer: SoftmaxRegressionHyperparameters = {} as z.output<(typeof MODEL_FAMILIES)['softmax-regression']['hyperparameters']>;
void _schemaMatchesTrainer;

export type ParseHyperparametersResult =
  | { ok: true; family: ModelFamilyName; hyperparameters: Hyperparameters }
  | { ok: false; message: string };

export function resolveModelFamily(name: string): ModelFamilyName | undefined {
  if (Object.hasOwn(MODEL_FAMILIES, name)) return name as ModelFamilyName;
  return Object.hasOwn(MODEL_FAMILY_ALIASES, name) ? MODEL_FAMILY_ALIASES[name] : undefined;
}

/** Fills defaults, coerces numeric strings (as the CLI passes them), and checks every range. */
export function parseHyperparameters(family: string, raw: Record<string, unknown>): ParseHyperparametersResult {
  const name = resolveModelFamily(family);
  if (!name) {
    const known = [...Object.keys(MODEL_FAMILIES), ...Object.keys(MODEL_FAMILY_ALIASES)].join(', ');
    return { ok: false, message: `unknown model family "${family}" (known: ${known})` };
  }
  const spec = MODEL_FAMILIES[name];
  const params: Record<string, NumericParam> = spec.params;
  for (const key of Object.keys(raw ?? {})) {
    if (!Object.hasOwn(params, key)) {
      return { ok: false, message: `unknown hyperparameter "${key}" for ${name} (known: ${Object.keys(params).join(', ')})` };
    }
  }
  const parsed = spec.hyperparameters.safeParse(raw ?? {});
  if (!parsed.success) {
    const key = String(parsed.error.issues[0]?.path[0]);
    const value = raw[key];
    const wrongType = typeof coerceNumeric(value) !== 'number';
    return { ok: false, message: `hyperparameter ${key} must be ${wrongType ? 'a number ' : ''}${describeRange(params[key])} (got ${show(value)})` };
  }
  const hp = parsed.data as Hyperparameters;
  if ('l2' in hp && hp.learningRate * hp.l2 >= 1) {
    return {
      ok: false,
      message: `hyperparameters learningRate × l2 must be < 1 (got ${hp.learningRate} × ${hp.l2}): each step would shrink the weights past zero`,
    };
  }
  return { ok: true, family: name, hyperparameters: hp };
}

/** e.g. "> 0 and <= 10", "an integer >= 1 and <= 1000". */
export function describeRange(p: NumericParam): string {
  const range = `${p.minExclusive ? '>' : '>='} ${p.min} and <= ${p.max}`;
  return p.kind === 'integer' ? `an integer ${range}` : range;
}

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

// Only plain decimal strings: z.coerce would turn "" and null into 0 and true into 1.
function coerceNumeric(v: unknown): unknown {
  if (typeof v === 'string' && NUMERIC.test(v.trim())) return Number(v);
  return v;
}

function schemaFor<P extends Record<string, NumericParam>>(params: P) {
  const shape = {} as { [K in keyof P]: z.ZodDefault<z.ZodPipe<z.ZodTransform<unknown, unknown>, z.ZodNumber>> };
  for (const key of Object.keys(params) as (keyof P)[]) {
    const p = params[key];
    let n = z.number();
    if (p.kind === 'integer') n = n.int();
    n = p.minExclusive ? n.gt(p.min) : n.gte(p.min);
    n = n.lte(p.max);
    shape[key] = z.preprocess(coerceNumeric, n).default(p.default) as (typeof shape)[typeof key];
  }
  return z.strictObject(shape);
}

/** Shows a value as the user typed it: CLI numbers arrive as numeric strings and print bare. */
function show(v: unknown): string {
  if (typeof v === 'string') return NUMERIC.test(v.trim()) ? v.trim() : JSON.stringify(v);
  return String(v);
}
