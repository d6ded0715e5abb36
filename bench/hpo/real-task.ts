/**
 * Flywheel's TPE against Optuna's on a real Flywheel training task: tuning the softmax regression
 * on the breast-cancer dataset (validation log loss of the model Flywheel trains). Both samplers
 * are driven by this script and scored by the same TypeScript objective; Optuna proposes through
 * an ask/tell line protocol (bench/hpo/optuna_ask_tell.py), so only the sampler differs.
 *
 *   npx tsx bench/hpo/real-task.ts [--seeds 20] [--trials 50]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../config/index';
import { loadDataset } from '../../datasets/load';
import { stratifiedSplit } from '../../lib/data/split';
import { selectRows } from '../../lib/data/table';
import { createSampler, parseSearchSpace, type Params, type Trial } from '../../lib/hpo/index';
import { classificationMetrics } from '../../lib/metrics/classification';
import { SoftmaxRegression, trainSoftmaxRegression } from '../../lib/models/softmax-regression';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '20' }, trials: { type: 'string', default: '50' } } });
const seeds = Number(values.seeds);
const budget = Number(values.trials);
const checkpoints = [10, 25, 50, 100].filter((c) => c <= budget);

const rawSpace = {
  learningRate: { type: 'float', low: 1e-4, high: 2, log: true },
  l2: { type: 'float', low: 1e-7, high: 1e-1, log: true },
  batchSize: { type: 'categorical', choices: [8, 16, 32, 64, 128] },
  epochs: { type: 'int', low: 5, high: 60 },
} as const;
const parsed = parseSearchSpace(rawSpace);
if (!parsed.ok) throw new Error(parsed.message);

const loaded = await loadDataset('builtin:breast-cancer');
if (!loaded.ok) throw new Error(loaded.error.message);
const ds = loaded.value.dataset;
const { train, holdout } = stratifiedSplit(ds.y, ds.classes.length, 0.3, 42);
const trainSet = selectRows(ds, train);
const validSet = selectRows(ds, holdout);

/** The objective both samplers are scored by: validation log loss; a diverged run scores ln 2 · 10. */
function objective(p: Params): number {
  const hp = { learningRate: Number(p.learningRate), l2: Number(p.l2), batchSize: Number(p.batchSize), epochs: Number(p.epochs), seed: 7 };
  if (hp.learningRate * hp.l2 >= 1) return 10 * Math.LN2;
  try {
    const { params } = trainSoftmaxRegression(trainSet, hp);
    const proba = SoftmaxRegression.fromParams(params, hp).predictProba(validSet.x, validSet.nRows);
    return classificationMetrics(validSet.y, proba, 2).logLoss;
  } catch {
    return 10 * Math.LN2;
  }
}

function runFlywheel(sampler: 'tpe' | 'random', seed: number): number[] {
  const s = createSampler(sampler);
  const trials: Trial[] = [];
  const best: number[] = [];
  let sampleMs = 0;
  for (let n = 0; n < budget; n++) {
    const t0 = performance.now();
    const params = s.sample({ space: parsed.ok ? parsed.space : {}, trials, direction: 'minimize', seed: seed * 1_000_003 + n });
    sampleMs += performance.now() - t0;
    const value = objective(params);
    trials.push({ number: n, params, state: 'complete', value, intermediate: [] });
    best.push(Math.min(value, best[n - 1] ?? Infinity));
  }
  timing[`flywheel-${sampler}`] = (timing[`flywheel-${sampler}`] ?? 0) + sampleMs / budget;
  return best;
}

async function runOptuna(sampler: 'tpe' | 'random', seed: number): Promise<number[]> {
  const child = spawn(path.join(PROJECT_ROOT, '.venv', 'bin', 'python'), [path.join(PROJECT_ROOT, 'bench', 'hpo', 'optuna_ask_tell.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  child.stdin!.write(`${JSON.stringify({ space: rawSpace, seed, sampler })}\n`);
  const best: number[] = [];
  let sampleMs = 0;
  for (let n = 0; n < budget; n++) {
    const t0 = performance.now();
    child.stdin!.write('ask\n');
    const params = JSON.parse((await lines.next()).value as string) as Params;
    sampleMs += performance.now() - t0; // includes the pipe round trip (~0.1 ms)
    const value = objective(params);
    child.stdin!.write(`tell ${value}\n`);
    best.push(Math.min(value, best[n - 1] ?? Infinity));
  }
  child.stdin!.write('quit\n');
  child.stdin!.end();
  timing[`optuna-${sampler}`] = (timing[`optuna-${sampler}`] ?? 0) + sampleMs / budget;
  return best;
}

const timing: Record<string, number> = {};
const results: Record<string, number[][]> = { 'flywheel-tpe': [], 'optuna-tpe': [], 'flywheel-random': [], 'optuna-random': [] };
for (let seed = 1; seed <= seeds; seed++) {
  results['flywheel-tpe']!.push(runFlywheel('tpe', seed));
  results['optuna-tpe']!.push(await runOptuna('tpe', seed));
  results['flywheel-random']!.push(runFlywheel('random', seed));
  results['optuna-random']!.push(await runOptuna('random', seed));
}

const floor = Math.min(...Object.values(results).flatMap((runs) => runs.map((r) => r[r.length - 1]!)));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log(`Tuning softmax-regression on breast-cancer (validation log loss), ${seeds} seeds, regret against the best value any run found (${floor.toFixed(5)})`);
console.log(`| sampler | ${checkpoints.map((c) => `median regret @${c}`).join(' | ')} | sampler ms/trial |`);
console.log(`| --- | ${checkpoints.map(() => '---').join(' | ')} | --- |`);
for (const [name, runs] of Object.entries(results)) {
  const cells = checkpoints.map((c) => median(runs.map((r) => r[c - 1]! - floor)).toFixed(5));
  console.log(`| ${name} | ${cells.join(' | ')} | ${(timing[name]! / seeds).toFixed(3)} |`);
}
const ratio = checkpoints.map((c) => {
  const f = median(results['flywheel-tpe']!.map((r) => r[c - 1]! - floor));
  const o = median(results['optuna-tpe']!.map((r) => r[c - 1]! - floor));
  return `@${c}: ${(f / o).toFixed(2)}`;
});
console.log(`Flywheel TPE / Optuna TPE median regret: ${ratio.join(', ')}; peak RSS of the driver: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
