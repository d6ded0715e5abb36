/**
 * Asynchronous successive halving (Li et al., ASHA), as Optuna implements it: rung r closes at step
 * minResource · reductionFactor^(minEarlyStoppingRate + r), and a trial passes a rung only if its
 * value there is in the top 1/reductionFactor of every value recorded at that rung so far.
 *
 * Optuna remembers each trial's rung values in storage; here they are read back from the reported
 * intermediate values (the value at the first report at or past the rung's step), which is what
 * Optuna recorded whenever the trial loop consulted the pruner at every report.
 */
import type { OptionSpec } from './options';
import { optionOr } from './options';
import type { PruneArgs, Pruner } from './pruner';
import { reportedSoFar } from './pruner';
import type { Trial } from './trial';

export const SH_OPTIONS: Record<string, OptionSpec> = {
  minResource: { kind: 'integer', min: 1, literals: ['auto'] },
  reductionFactor: { kind: 'integer', min: 2 },
  minEarlyStoppingRate: { kind: 'integer', min: 0 },
  bootstrapCount: { kind: 'integer', min: 0 },
};

export class SuccessiveHalvingPruner implements Pruner {
  readonly name = 'successive-halving';
  private readonly minResource: number | 'auto';
  private readonly reductionFactor: number;
  private readonly minEarlyStoppingRate: number;
  private readonly bootstrapCount: number;

  constructor(options: Record<string, unknown> = {}) {
    this.minResource = optionOr<number | 'auto'>(options, 'minResource', 1);
    this.reductionFactor = optionOr(options, 'reductionFactor', 4);
    this.minEarlyStoppingRate = optionOr(options, 'minEarlyStoppingRate', 0);
    this.bootstrapCount = optionOr(options, 'bootstrapCount', 0);
    if (this.bootstrapCount > 0 && this.minResource === 'auto') {
      throw new Error('pruner "successive-halving": bootstrapCount > 0 needs an explicit minResource');
    }
  }

  shouldPrune(args: PruneArgs): boolean {
    const { step, value } = args;
    const minResource = this.minResource === 'auto' ? estimateMinResource(args.trials) : this.minResource;
    if (minResource === undefined) return false;
    const rungStep = (rung: number) => minResource * this.reductionFactor ** (this.minEarlyStoppingRate + rung);

    // Rungs already passed at earlier reports.
    const earlier = reportedSoFar(args).filter(([s]) => s < step);
    const previousMax = earlier.length ? Math.max(...earlier.map(([s]) => s)) : -Infinity;
    let rung = 0;
    while (rungStep(rung) <= previousMax) rung++;

    const others = args.trials.filter((t) => t.number !== args.trialNumber);
    while (step >= rungStep(rung)) {
      if (Number.isNaN(value)) return true;
      const competing = [...rungValues(others, rungStep(rung)), value];
      if (competing.length <= this.bootstrapCount) return true;
      if (!promotable(value, competing, this.reductionFactor, args.direction === 'maximize')) return true;
      rung++;
    }
    return false;
  }
}

/** Each trial's value at the first report at or past `rungStep`. */
function rungValues(trials: readonly Trial[], rungStep: number): number[] {
  const out: number[] = [];
  for (const t of trials) {
    let first: [number, number] | undefined;
    for (const [s, v] of t.intermediate) if (s >= rungStep && (!first || s < first[0])) first = [s, v];
    if (first && !Number.isNaN(first[1])) out.push(first[1]);
  }
  return out;
}

function promotable(value: number, competing: number[], reductionFactor: number, maximize: boolean): boolean {
  // Before reductionFactor values exist, only the best so far goes on: trials cannot be paused and
  // resumed later, which full successive halving would need.
  const idx = Math.max(0, Math.floor(competing.length / reductionFactor) - 1);
  const sorted = [...competing].sort((a, b) => a - b);
  return maximize ? value >= sorted[sorted.length - 1 - idx] : value <= sorted[idx];
}

/** Optuna's 'auto': a hundredth of the longest completed trial, at least 1. */
function estimateMinResource(trials: readonly Trial[]): number | undefined {
  let last = -Infinity;
  for (const t of trials) {
    if (t.state !== 'complete') continue;
    for (const [s] of t.intermediate) last = Math.max(last, s);
  }
  return last === -Infinity ? undefined : Math.max(Math.floor(last / 100), 1);
}
