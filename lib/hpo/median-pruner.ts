/**
 * Optuna's median stopping rule: stop a trial whose best value so far is worse than the median of
 * the completed trials' values at the same step. Defaults as Optuna: 5 startup trials, no warm-up,
 * a check at every step.
 */
import type { OptionSpec } from './options';
import { optionOr } from './options';
import type { PruneArgs, Pruner } from './pruner';
import { reportedSoFar } from './pruner';

export const MEDIAN_OPTIONS: Record<string, OptionSpec> = {
  nStartupTrials: { kind: 'integer', min: 0 },
  nWarmupSteps: { kind: 'integer', min: 0 },
  intervalSteps: { kind: 'integer', min: 1 },
  nMinTrials: { kind: 'integer', min: 1 },
};

export class MedianPruner implements Pruner {
  readonly name = 'median';
  private readonly nStartupTrials: number;
  private readonly nWarmupSteps: number;
  private readonly intervalSteps: number;
  private readonly nMinTrials: number;

  constructor(options: Record<string, unknown> = {}) {
    this.nStartupTrials = optionOr(options, 'nStartupTrials', 5);
    this.nWarmupSteps = optionOr(options, 'nWarmupSteps', 0);
    this.intervalSteps = optionOr(options, 'intervalSteps', 1);
    this.nMinTrials = optionOr(options, 'nMinTrials', 1);
  }

  shouldPrune(args: PruneArgs): boolean {
    const completed = args.trials.filter((t) => t.state === 'complete' && t.number !== args.trialNumber);
    if (completed.length === 0 || completed.length < this.nStartupTrials) return false;
    const { step } = args;
    if (step < this.nWarmupSteps) return false;
    const reported = reportedSoFar(args);
    if (!isFirstInInterval(step, reported.map(([s]) => s), this.nWarmupSteps, this.intervalSteps)) return false;

    const maximize = args.direction === 'maximize';
    const own = reported.map(([, v]) => v).filter((v) => !Number.isNaN(v));
    // Nothing but NaN reported: the trial is broken, stop it (Optuna does the same).
    if (own.length === 0) return true;
    const best = maximize ? Math.max(...own) : Math.min(...own);

    const atStep: number[] = [];
    for (const t of completed) for (const [s, v] of t.intermediate) if (s === step) atStep.push(v);
    if (atStep.length < this.nMinTrials) return false;
    const median = nanPercentile(atStep, 50);
    if (Number.isNaN(median)) return false;
    return maximize ? best < median : best > median;
  }
}

/**
 * Whether this report is the first at or after the latest check point, so a trial reporting
 * several times inside one interval is judged once per interval.
 */
export function isFirstInInterval(step: number, steps: number[], warmup: number, interval: number): boolean {
  const checkpoint = Math.floor((step - warmup) / interval) * interval + warmup;
  let previous = -1;
  for (const s of steps) if (s > previous && s !== step) previous = s;
  return previous < checkpoint;
}

/** numpy.nanpercentile with linear interpolation. */
export function nanPercentile(values: number[], q: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const rank = (q / 100) * (v.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  if (lo === hi) return v[lo];
  return v[lo] + (v[hi] - v[lo]) * (rank - lo);
}
