/**
 * Domain counters and gauges that activities emit through the Temporal SDK's metric meter, so they
 * appear on the worker's own Prometheus endpoint (workers/runtime.ts) beside the SDK's metrics,
 * without a prefix, tagged by the SDK with namespace, task_queue and activity_type. Alert rules
 * (config/prometheus/rules/) read them. Outside an activity (a unit test calling the function
 * directly) they do nothing.
 *
 * Counted once the side effect they describe has succeeded; an activity retried after that success
 * (its completion lost) may count twice, which the rules tolerate (they ask "any in the window").
 */
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';

type Tags = Record<string, string>;

function meter(): MetricMeter | undefined {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined;
  }
}

function count(name: string, description: string, tags: Tags, value = 1): void {
  if (value <= 0) return;
  meter()?.createCounter(name, undefined, description).add(value, tags);
}

function gauge(name: string, description: string, tags: Tags, value: number): void {
  if (!Number.isFinite(value)) return;
  meter()?.createGauge(name, 'float', undefined, description).set(value, tags);
}

export const domainMetrics = {
  /** A canary's candidate rejected (traffic back to the stable version). */
  canaryRollback(model: string, version: string): void {
    count('flywheel_canary_rollbacks_total', 'Canary rollouts that rejected their candidate and rolled traffic back', { model, version });
  },
  /** A canary's candidate promoted to champion. */
  canaryPromotion(model: string, version: string): void {
    count('flywheel_canary_promotions_total', 'Canary rollouts that promoted their candidate to champion', { model, version });
  },
  /** A drift event newly recorded by a model's drift monitor. */
  driftEvent(model: string): void {
    count('flywheel_drift_events_total', 'Drift events detected in a model\'s error stream', { model });
  },
  /** A feature drift check: each judged feature's PSI, and an event when one moved (served inputs, no labels). */
  featureDrift(model: string, psis: Array<{ name: string; psi: number }>, moved: number): void {
    for (const p of psis) gauge('flywheel_feature_drift_psi', 'PSI of a feature of served traffic against the champion\'s training data, at the last check', { model, feature: p.name }, p.psi);
    if (moved > 0) count('flywheel_feature_drift_events_total', 'Feature drift events: checks that flagged at least one feature', { model });
  },
  /** A retraining run that finished (completed or failed). */
  retrainingFinished(model: string, status: 'completed' | 'failed'): void {
    count('flywheel_retrainings_total', 'Retraining runs that finished, by status', { model, status });
  },
  /** A training pipeline run that finished (completed or failed). */
  trainingFinished(model: string, status: 'completed' | 'failed'): void {
    count('flywheel_training_pipelines_total', 'Training pipeline runs that finished, by status', { model, status });
  },
  /** Labelled predictions read by the drift monitor: served label right or wrong, per version. */
  labelledOutcomes(model: string, version: string, correct: number, wrong: number): void {
    const description = 'Labelled predictions (first label per prediction) by whether the served label was right';
    count('flywheel_model_labelled_predictions_total', description, { model, version, outcome: 'correct' }, correct);
    count('flywheel_model_labelled_predictions_total', description, { model, version, outcome: 'wrong' }, wrong);
  },
  /** The offline (holdout) accuracy a version was registered with: the baseline live accuracy is held to. */
  baselineAccuracy(model: string, version: string, accuracy: number): void {
    gauge('flywheel_model_baseline_accuracy_ratio', 'Holdout accuracy of a model version at its evaluation (0-1)', { model, version }, accuracy);
  },
};
