/**
 * Whether a freshly trained challenger earns a canary: both models scored on the same holdout,
 * the challenger must beat the champion by a margin stated in advance (absolute, in the metric's
 * own units), so noise between two equally good models never starts a rollout.
 */
import type { ComparisonMetric } from './spec';

export interface HoldoutScores {
  accuracy: number;
  logLoss: number;
}

export type RetrainingDecision =
  | { kind: 'canary'; reason: string; improvement: number }
  | { kind: 'keep-champion'; reason: string; improvement: number }
  | { kind: 'no-champion'; reason: string }
  | { kind: 'not-comparable'; reason: string };

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/** Improvement is positive when the challenger is better: lower log loss, higher accuracy. */
export function improvement(metric: ComparisonMetric, champion: HoldoutScores, challenger: HoldoutScores): number {
  return metric === 'logLoss' ? champion.logLoss - challenger.logLoss : challenger.accuracy - champion.accuracy;
}

export function decide(metric: ComparisonMetric, margin: number, champion: HoldoutScores, challenger: HoldoutScores, versions: { champion: string; challenger: string }): RetrainingDecision {
  const c = champion[metric];
  const n = challenger[metric];
  if (!Number.isFinite(n)) return { kind: 'keep-champion', reason: `challenger v${versions.challenger} has no finite ${metric} on the holdout (${fmt(n)})`, improvement: NaN };
  const gain = Number.isFinite(c) ? improvement(metric, champion, challenger) : Infinity;
  const dir = metric === 'logLoss' ? 'lower' : 'higher';
  const vs = `${metric} ${fmt(n)} vs champion v${versions.champion}'s ${fmt(c)} on the challenger's holdout`;
  // Strictly greater: a margin of 0 still demands some improvement.
  if (gain > margin) return { kind: 'canary', reason: `challenger v${versions.challenger} is better by ${fmt(gain)} (> margin ${margin}): ${vs}`, improvement: gain };
  return {
    kind: 'keep-champion',
    reason: `challenger v${versions.challenger} is not better by the margin: ${metric} must be ${dir} by more than ${margin}, improvement ${fmt(gain)} (${vs})`,
    improvement: gain,
  };
}
