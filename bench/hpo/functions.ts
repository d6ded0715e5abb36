/**
 * Benchmark objectives, defined exactly as in bench/hpo/optuna_bench.py (run.ts checks that both
 * sides agree on sample points before it measures anything). All are minimised.
 */
import type { Params, SearchSpace } from '../../lib/hpo/index';

export interface BenchFunction {
  name: string;
  space: SearchSpace;
  f: (p: Params) => number;
  /** Known global minimum, for regret. */
  optimum: number;
}

const HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2];
const HARTMANN_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HARTMANN_P = [
  [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
  [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
  [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
  [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

const num = (p: Params, k: string) => p[k] as number;

function branin(p: Params): number {
  const x1 = num(p, 'x1');
  const x2 = num(p, 'x2');
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

function hartmann6(p: Params): number {
  let total = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += HARTMANN_A[i][j] * (num(p, `x${j}`) - HARTMANN_P[i][j]) ** 2;
    total += HARTMANN_ALPHA[i] * Math.exp(-inner);
  }
  return -total;
}

function rosenbrock(p: Params): number {
  const d = Object.keys(p).length;
  let total = 0;
  for (let i = 0; i < d - 1; i++) {
    const xi = num(p, `x${i}`);
    total += 100 * (num(p, `x${i + 1}`) - xi * xi) ** 2 + (1 - xi) ** 2;
  }
  return total;
}

const MIXED_BASE: Record<string, number> = { sgd: 0.0, adam: 0.05, rmsprop: 0.15 };
const MIXED_LR: Record<string, number> = { sgd: -1.5, adam: -3.0, rmsprop: -2.5 };
const MIXED_BATCH: Record<string, number> = { 16: 0.08, 32: 0.02, 64: 0.0, 128: 0.03, 256: 0.1 };

function mixed(p: Params): number {
  const opt = p.optimizer as string;
  let v = MIXED_BASE[opt];
  v += 0.5 * (Math.log10(num(p, 'lr')) - MIXED_LR[opt]) ** 2;
  v += 0.1 * (num(p, 'layers') - 4) ** 2;
  v += 4 * (num(p, 'dropout') - 0.2) ** 2;
  v += MIXED_BATCH[String(p.batch)];
  if (opt === 'sgd') v += 2 * (num(p, 'momentum') - 0.9) ** 2;
  return v;
}

const box = (d: number, low: number, high: number): SearchSpace =>
  Object.fromEntries(Array.from({ length: d }, (_, j) => [`x${j}`, { type: 'float' as const, low, high }]));

export const FUNCTIONS: BenchFunction[] = [
  {
    name: 'branin',
    space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
    f: branin,
    optimum: 0.39788735772973816,
  },
  { name: 'hartmann6', space: box(6, 0, 1), f: hartmann6, optimum: -3.3223680114155147 },
  { name: 'rosenbrock2', space: box(2, -5, 10), f: rosenbrock, optimum: 0 },
  { name: 'rosenbrock5', space: box(5, -5, 10), f: rosenbrock, optimum: 0 },
  {
    name: 'mixed',
    space: {
      optimizer: { type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      layers: { type: 'int', low: 1, high: 8 },
      dropout: { type: 'float', low: 0, high: 0.5, step: 0.05 },
      batch: { type: 'categorical', choices: [16, 32, 64, 128, 256] },
      momentum: { type: 'float', low: 0, high: 0.99, condition: { param: 'optimizer', equals: ['sgd'] } },
    },
    f: mixed,
    // sgd, lr = 10^-1.5, 4 layers, dropout 0.2, batch 64, momentum 0.9.
    optimum: 0,
  },
];

export function benchFunction(name: string): BenchFunction {
  const f = FUNCTIONS.find((x) => x.name === name);
  if (!f) throw new Error(`unknown function "${name}" (known: ${FUNCTIONS.map((x) => x.name).join(', ')})`);
  return f;
}
