/**
 * Same history, same proposals? Builds a history on each function with Flywheel's TPE, then draws
 * many one-off proposals from that exact history with Flywheel's TPE and with Optuna's (a fresh
 * seed per draw) and compares the objective values proposed. Study-level regret mixes in the luck
 * of every earlier proposal; this isolates the sampler's step, where the two should agree.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createSampler, type Trial } from '../../lib/hpo/index';
import { benchFunction } from './functions';
import { mannWhitneyP, median } from './stats';

export interface ParityRow {
  fn: string;
  historySize: number;
  flywheelMedian: number;
  optunaMedian: number;
  p: number;
}

export async function proposalParity(
  functions: string[],
  historySizes: number[],
  draws: number,
  dir: string,
  runOptuna: (args: string[]) => Promise<number[]>,
): Promise<ParityRow[]> {
  const rows: ParityRow[] = [];
  for (const fnName of functions) {
    const fn = benchFunction(fnName);
    for (const n of historySizes) {
      const builder = createSampler('tpe');
      const trials: Trial[] = [];
      for (let i = 0; i < n; i++) {
        const params = builder.sample({ space: fn.space, trials, direction: 'minimize', seed: 4242 * 1_000_003 + i });
        trials.push({ number: i, params, state: 'complete', value: fn.f(params), intermediate: [] });
      }
      const file = path.join(dir, `history-${fnName}-${n}.json`);
      writeFileSync(file, JSON.stringify(trials.map((t) => ({ params: t.params, value: t.value }))));
      const tpe = createSampler('tpe');
      const ours = Array.from({ length: draws }, (_, s) => fn.f(tpe.sample({ space: fn.space, trials, direction: 'minimize', seed: 90_000 + s })));
      const theirs = await runOptuna(['propose', '--function', fnName, '--history', file, '--draws', String(draws)]);
      rows.push({ fn: fnName, historySize: n, flywheelMedian: median(ours), optunaMedian: median(theirs), p: mannWhitneyP(ours, theirs) });
    }
  }
  return rows;
}
