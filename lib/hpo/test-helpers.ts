/** Helpers shared by the hpo tests: building spaces and running sequential studies. */
import type { Sampler } from './sampler';
import type { Params, SearchSpace } from './space';
import { parseSearchSpace } from './space';
import type { Direction, Trial } from './trial';

export function space(raw: unknown): SearchSpace {
  const r = parseSearchSpace(raw);
  if (!r.ok) throw new Error(r.message);
  return r.space;
}

/** A sequential study: each trial completes before the next is sampled. */
export function runStudy(
  sampler: Sampler,
  sp: SearchSpace,
  f: (p: Params) => number,
  nTrials: number,
  studySeed: number,
  direction: Direction = 'minimize',
): Trial[] {
  const trials: Trial[] = [];
  for (let i = 0; i < nTrials; i++) {
    const params = sampler.sample({ space: sp, trials, direction, seed: studySeed * 1_000_003 + i });
    trials.push({ number: i, params, state: 'complete', value: f(params), intermediate: [] });
  }
  return trials;
}

export const bestValue = (trials: Trial[]): number => Math.min(...trials.map((t) => t.value ?? Infinity));

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
