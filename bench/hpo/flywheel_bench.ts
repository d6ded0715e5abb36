/**
 * Flywheel side of the HPO benchmark (driven by run.ts): runs one sampler on one function for the
 * given seeds and prints one JSON line per study, the same shape optuna_bench.py prints. Each
 * sampler runs in its own process so the peak RSS reported is that sampler's alone.
 *
 *   npx tsx bench/hpo/flywheel_bench.ts run --sampler tpe --function branin --seeds 0,1 --trials 100
 *   npx tsx bench/hpo/flywheel_bench.ts check --function branin --points '[{"x1":0.5,"x2":2}]'
 */
import { createSampler, type SamplerName, type Trial } from '../../lib/hpo/index';
import { benchFunction } from './functions';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing --${name}`);
  return process.argv[i + 1];
}

function runStudy(samplerName: SamplerName, fnName: string, seed: number, nTrials: number, warmStartSampler?: SamplerName, warmStartTrials = 0) {
  const fn = benchFunction(fnName);
  const sampler = createSampler(samplerName);
  const warm = warmStartSampler ? createSampler(warmStartSampler) : undefined;
  const trials: Trial[] = [];
  const best: number[] = [];
  const sampleSeconds: number[] = [];
  let bestSoFar = Infinity;
  for (let i = 0; i < nTrials; i++) {
    const s = warm && i < warmStartTrials ? warm : sampler;
    const t0 = process.hrtime.bigint();
    // The same per-trial seed rule the HyperparameterSearch workflow uses.
    const params = s.sample({ space: fn.space, trials, direction: 'minimize', seed: seed * 1_000_003 + i });
    sampleSeconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const value = fn.f(params);
    trials.push({ number: i, params, state: 'complete', value, intermediate: [] });
    bestSoFar = Math.min(bestSoFar, value);
    best.push(bestSoFar);
  }
  return { best, sampleSeconds };
}

function main(): void {
  const cmd = process.argv[2];
  if (cmd === 'check') {
    const fn = benchFunction(arg('function'));
    console.log(JSON.stringify((JSON.parse(arg('points')) as Record<string, number | string>[]).map((p) => fn.f(p))));
    return;
  }
  if (cmd !== 'run') throw new Error('usage: flywheel_bench.ts run|check ...');
  const sampler = arg('sampler') as SamplerName;
  const fnName = arg('function');
  const nTrials = Number(arg('trials'));
  const warmIdx = process.argv.indexOf('--warm-start');
  const warmTrials = warmIdx > 0 ? Number(process.argv[warmIdx + 1]) : 0;
  for (const seed of arg('seeds').split(',').map(Number)) {
    const out = runStudy(sampler, fnName, seed, nTrials, warmTrials ? 'random' : undefined, warmTrials);
    console.log(JSON.stringify({ side: 'flywheel', sampler, function: fnName, seed, ...out }));
  }
  console.log(JSON.stringify({ peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

main();
