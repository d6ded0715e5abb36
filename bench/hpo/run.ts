/**
 * HPO benchmark: Flywheel's TPE, GP and random samplers against Optuna's TPESampler (defaults)
 * and RandomSampler on the same functions (Branin, Hartmann-6, Rosenbrock 2-D and 5-D, and a
 * mixed categorical/conditional function). Prints markdown tables: median [IQR] regret at each
 * budget, sampler time per trial (time inside the sampler only, not the objective), peak RSS.
 *
 *   npx tsx bench/hpo/run.ts [--seeds 20] [--budgets 25,50,100] [--functions branin,...]
 *                            [--timing-trials 500] [--timing-seeds 2] [--gp-timing-functions hartmann6]
 *                            [--samplers flywheel:tpe,optuna:tpe,flywheel:gp,flywheel:random,optuna:random]
 *                            [--jobs 1] [--out results.json] [--no-timing] [--no-regret]
 *                            [--parity-draws 1000] [--no-parity]
 *
 * Flywheel's side is bundled with esbuild and run on plain Node (no TypeScript loader in memory),
 * each (sampler, function) in its own process, so peak RSS is that sampler's. Sampler timings come
 * from a separate, sequential phase (Flywheel and Optuna alternating) so parallel regret runs do
 * not skew them.
 */
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSampler } from '../../lib/hpo/index';
import { FUNCTIONS, benchFunction } from './functions';
import { proposalParity, type ParityRow } from './parity';
import { formatReport, type RegretRow, type TimingRow } from './report';
import { pool, runJsonLines } from './spawn';
import { median } from './stats';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const OPTUNA_BENCH = path.join(HERE, 'optuna_bench.py');

type Side = 'flywheel' | 'optuna';
interface Contender {
  side: Side;
  sampler: string;
  label: string;
}
const CONTENDERS: Contender[] = [
  { side: 'flywheel', sampler: 'tpe', label: 'Flywheel TPE' },
  { side: 'optuna', sampler: 'tpe', label: 'Optuna TPE' },
  { side: 'flywheel', sampler: 'gp', label: 'Flywheel GP' },
  { side: 'flywheel', sampler: 'random', label: 'Flywheel random' },
  { side: 'optuna', sampler: 'random', label: 'Optuna random' },
];

interface StudyResult {
  seed: number;
  best: number[];
  sampleSeconds: number[];
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const intOption = (name: string, fallback: number) => {
  const v = option(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer (got ${v})`);
  return n;
};
const listOption = (name: string, fallback: string[]) => option(name)?.split(',').filter(Boolean) ?? fallback;

async function bundleFlywheel(dir: string): Promise<string> {
  const outfile = path.join(dir, 'flywheel_bench.mjs');
  await build({ entryPoints: [path.join(HERE, 'flywheel_bench.ts')], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'error' });
  return outfile;
}

async function runSide(bundle: string, side: Side, args: string[]): Promise<{ studies: StudyResult[]; peakRssMiB: number }> {
  const lines =
    side === 'flywheel' ? await runJsonLines(process.execPath, [bundle, ...args], ROOT) : await runJsonLines(PYTHON, [OPTUNA_BENCH, ...args], ROOT);
  const studies = lines.filter((l) => 'best' in l) as unknown as StudyResult[];
  const rss = lines.find((l) => 'peakRssMiB' in l);
  return { studies, peakRssMiB: rss ? (rss.peakRssMiB as number) : NaN };
}

/** Both sides must compute the same numbers, or the comparison means nothing. */
async function checkFunctions(bundle: string, functions: string[]): Promise<void> {
  for (const name of functions) {
    const fn = benchFunction(name);
    const sampler = createSampler('random');
    const points = Array.from({ length: 8 }, (_, i) => sampler.sample({ space: fn.space, trials: [], direction: 'minimize', seed: 977 + i }));
    const args = ['check', '--function', name, '--points', JSON.stringify(points)];
    const [fw] = (await runJsonLines(process.execPath, [bundle, ...args], ROOT)) as unknown as number[][];
    const [op] = (await runJsonLines(PYTHON, [OPTUNA_BENCH, ...args], ROOT)) as unknown as number[][];
    fw.forEach((v, i) => {
      if (Math.abs(v - op[i]) > 1e-12 * Math.max(1, Math.abs(v))) {
        throw new Error(`${name}: Flywheel and Optuna sides disagree at ${JSON.stringify(points[i])}: ${v} vs ${op[i]}`);
      }
    });
  }
}

function windowMedian(studies: StudyResult[], from: number, to: number): number {
  // Median over the window, then over seeds: robust to the odd GC pause or a noisy neighbour.
  return median(studies.map((s) => median(s.sampleSeconds.slice(from, to)))) * 1000;
}

async function main(): Promise<void> {
  const seedsN = intOption('seeds', 20);
  const budgets = listOption('budgets', ['25', '50', '100']).map(Number);
  const functions = listOption('functions', FUNCTIONS.map((f) => f.name));
  const timingTrials = intOption('timing-trials', 500);
  const timingSeeds = intOption('timing-seeds', 2);
  const gpTimingFunctions = listOption('gp-timing-functions', ['hartmann6']);
  const jobs = intOption('jobs', 1);
  const only = listOption('samplers', CONTENDERS.map((c) => `${c.side}:${c.sampler}`));
  const contenders = CONTENDERS.filter((c) => only.includes(`${c.side}:${c.sampler}`));
  const maxBudget = Math.max(...budgets);
  const seeds = Array.from({ length: seedsN }, (_, i) => i).join(',');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'flywheel-hpo-bench-'));
  try {
    const bundle = await bundleFlywheel(dir);
    await checkFunctions(bundle, functions);
    const started = Date.now();

    const regret: RegretRow[] = [];
    if (!flag('no-regret')) {
      const tasks = functions.flatMap((fnName) =>
        contenders.map((c) => async () => {
          const args = ['run', '--sampler', c.sampler, '--function', fnName, '--seeds', seeds, '--trials', String(maxBudget)];
          const r = await runSide(bundle, c.side, args);
          process.stderr.write(`regret: ${c.label} on ${fnName} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
          const optimum = benchFunction(fnName).optimum;
          return {
            fn: fnName,
            label: c.label,
            regrets: budgets.map((b) => r.studies.map((s) => s.best[b - 1] - optimum)),
            peakRssMiB: r.peakRssMiB,
            sampleMsAt100: maxBudget >= 100 ? windowMedian(r.studies, 90, 100) : NaN,
          };
        }),
      );
      regret.push(...(await pool(tasks, jobs)));
    }

    const timing: TimingRow[] = [];
    if (!flag('no-timing') && timingTrials > 0) {
      const tSeeds = Array.from({ length: timingSeeds }, (_, i) => 1000 + i).join(',');
      const at = (n: number): [number, number] => [Math.max(0, n - 10), Math.min(timingTrials, n + 10)];
      for (const fnName of functions) {
        for (const c of contenders.filter((x) => x.sampler !== 'gp')) {
          const r = await runSide(bundle, c.side, ['run', '--sampler', c.sampler, '--function', fnName, '--seeds', tSeeds, '--trials', String(timingTrials)]);
          timing.push({
            fn: fnName,
            label: c.label,
            msAt100: windowMedian(r.studies, ...at(100)),
            msAtMax: windowMedian(r.studies, timingTrials - 20, timingTrials),
            peakRssMiB: r.peakRssMiB,
          });
          process.stderr.write(`timing: ${c.label} on ${fnName} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
        }
        if (gpTimingFunctions.includes(fnName) && contenders.some((c) => c.sampler === 'gp')) {
          // A GP fit is O(n³): running it for all 500 trials is the slow part of the whole benchmark,
          // so the history up to the window is random and only the window's proposals are the GP's.
          const gpAt = async (n: number, calls: number) => {
            const r = await runSide(bundle, 'flywheel', ['run', '--sampler', 'gp', '--function', fnName, '--seeds', '1000', '--trials', String(n), '--warm-start', String(n - calls)]);
            return { ms: median(r.studies[0].sampleSeconds.slice(n - calls)) * 1000, rss: r.peakRssMiB };
          };
          const a = await gpAt(100, 10);
          const b = await gpAt(timingTrials, 3);
          timing.push({ fn: fnName, label: 'Flywheel GP', msAt100: a.ms, msAtMax: b.ms, peakRssMiB: b.rss, note: 'random history, GP proposals in the window' });
          process.stderr.write(`timing: Flywheel GP on ${fnName} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
        }
      }
    }

    let parity: ParityRow[] = [];
    if (!flag('no-parity')) {
      const runOptuna = async (args: string[]) => (await runJsonLines(PYTHON, [OPTUNA_BENCH, ...args], ROOT))[0] as unknown as number[];
      parity = await proposalParity(functions, [30, 80], intOption('parity-draws', 1000), dir, runOptuna);
      process.stderr.write(`parity done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    }

    const report = { seeds: seedsN, budgets, timingTrials, regret, timing, parity };
    const out = option('out');
    if (out) writeFileSync(out, JSON.stringify(report, null, 1));
    console.log(formatReport(report));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
