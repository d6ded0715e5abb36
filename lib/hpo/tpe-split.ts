/**
 * TPE's split of the history into the "good" trials that shape l(x) and the rest that shape g(x),
 * as Optuna does it: complete trials ranked by value fill the good group first; pruned trials fill
 * what is left, the ones that got further (then had the better last value) first; running trials
 * always land in the bad group, the constant liar that keeps parallel proposals apart.
 */
import type { Direction, Trial } from './trial';
import { byNumber, hasValue, lastIntermediate } from './trial';

/** Optuna's default gamma: 10% of the finished trials, at most 25. */
export function defaultGamma(nFinished: number): number {
  return Math.min(Math.ceil(0.1 * nFinished), 25);
}

export function splitTrials(
  trials: readonly Trial[],
  nBelow: number,
  direction: Direction,
): { below: Trial[]; above: Trial[] } {
  const sign = direction === 'minimize' ? 1 : -1;
  const complete = trials.filter(hasValue);
  const pruned = trials.filter((t) => t.state === 'pruned');
  const running = trials.filter((t) => t.state === 'running');

  // Ties broken by trial number, so the split never depends on the caller's ordering.
  const rankedComplete = [...complete].sort((a, b) => sign * (a.value - b.value) || a.number - b.number);
  const takeComplete = Math.min(nBelow, rankedComplete.length);
  const rankedPruned = [...pruned].sort((a, b) => comparePruned(a, b, sign) || a.number - b.number);
  const takePruned = Math.min(Math.max(0, nBelow - takeComplete), rankedPruned.length);

  const below = [...rankedComplete.slice(0, takeComplete), ...rankedPruned.slice(0, takePruned)];
  const above = [...rankedComplete.slice(takeComplete), ...rankedPruned.slice(takePruned), ...running];
  return { below: byNumber(below), above: byNumber(above) };
}

/** Optuna's pruned-trial score: further steps first, then better last value; NaN and "never reported" last. */
function comparePruned(a: Trial, b: Trial, sign: number): number {
  const ka = prunedKey(a, sign);
  const kb = prunedKey(b, sign);
  return ka[0] - kb[0] || compareNumbers(ka[1], kb[1]);
}

function prunedKey(t: Trial, sign: number): [number, number] {
  const last = lastIntermediate(t);
  if (!last) return [1, 0];
  const [step, value] = last;
  return [-step, Number.isNaN(value) ? Infinity : sign * value];
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
