/**
 * Domain counters and gauges that activities emit through the Temporal SDK's metric meter, so they
 * appear on the worker's own Prometheus endpoint (workers/runtime.ts) beside the SDK's metrics,
 * without a prefix, tagged by the SDK with namespace, task_queue and activity_type. Alert rules
 * (config/prometheus/rules/) read them. Outside an activity (a unit test calling the function
 * directly) they do nothing.
 *
 * Names are given without `_total` and without their unit: the workers' exporter appends both
 * (workers/runtime.ts PROMETHEUS_NAMING), so `flywheel_canary_rollouts_finished` with no unit is
 * scraped as `flywheel_canary_rollouts_finished_total` and a histogram in `seconds` as `…_seconds`.
 *
 * Counted once the side effect they describe has succeeded; an activity retried after that success
 * (its completion lost) may count twice, which the rules tolerate (they ask "any in the window").
 */
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';

type Tags = Record<string, string>;
export type Outcome = 'completed' | 'failed';

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

function seconds(name: string, description: string, tags: Tags, value: number): void {
  if (!Number.isFinite(value) || value < 0) return;
  meter()?.createHistogram(name, 'float', 'seconds', description).record(value, tags);
}

/** Bucket bounds for the duration histograms (workers/runtime.ts): trainings take seconds to hours. */
export const DURATION_BUCKETS: Record<string, number[]> = {
  flywheel_training_pipeline_duration: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400],
};

export const domainMetrics = {
  /** A canary rollout that finished: its candidate promoted to champion or rolled back. */
  canaryFinished(model: string, version: string, outcome: 'promoted' | 'rolled_back'): void {
    count('flywheel_canary_rollouts_finished', 'Canary rollouts that finished, by outcome (promoted, rolled_back)', { model, version, outcome });
  },
  /** A drift event newly recorded by a model's drift monitor. */
  driftEvent(model: string): void {
    count('flywheel_drift_events', 'Drift events detected in a model\'s error stream', { model });
  },
  /** A feature drift check: each judged feature's PSI, and an event when one moved (served inputs, no labels). */
  featureDrift(model: string, psis: Array<{ name: string; psi: number }>, moved: number): void {
    for (const p of psis) gauge('flywheel_feature_drift_psi', 'PSI of a feature of served traffic against the champion\'s training data, at the last check', { model, feature: p.name }, p.psi);
    if (moved > 0) count('flywheel_feature_drift_events', 'Feature drift events: checks that flagged at least one feature', { model });
  },
  /** A retraining run that finished. */
  retrainingFinished(model: string, outcome: Outcome): void {
    count('flywheel_retrainings_finished', 'Retraining runs that finished, by outcome', { model, outcome });
  },
  /** A training pipeline run that finished, with its wall time from start to finish. */
  trainingFinished(model: string, outcome: Outcome, durationSeconds?: number): void {
    count('flywheel_training_pipelines_finished', 'Training pipeline runs that finished, by outcome', { model, outcome });
    if (durationSeconds !== undefined) seconds('flywheel_training_pipeline_duration', 'Wall time of training pipeline runs from start to finish, by outcome', { model, outcome }, durationSeconds);
  },
  /** A hyperparameter-search trial that ended (complete, pruned or failed). */
  trialFinished(model: string, state: 'complete' | 'pruned' | 'failed'): void {
    count('flywheel_hpo_trials_finished', 'Hyperparameter-search trials that ended, by state (complete, pruned, failed)', { model, state });
  },
  /** Labelled predictions read by the drift monitor: served label right or wrong, per version. */
  labelledOutcomes(model: string, version: string, correct: number, wrong: number): void {
    const description = 'Labelled predictions (first label per prediction) by whether the served label was right';
    count('flywheel_model_labelled_predictions', description, { model, version, outcome: 'correct' }, correct);
    count('flywheel_model_labelled_predictions', description, { model, version, outcome: 'wrong' }, wrong);
  },
  /** A traffic table's partitions after a maintenance run, and the rows its retention removed (planner estimates for dropped partitions). */
  trafficPartitions(table: string, partitions: number, rowsDropped: number): void {
    gauge('flywheel_traffic_partitions', 'Partitions of a traffic table (predictions, feedback, online_predictions, shadow_predictions) after the last maintenance', { table }, partitions);
    count('flywheel_traffic_rows_dropped', 'Rows of a traffic table removed past its retention (dropped partitions, estimated, plus default-partition rows)', { table }, rowsDropped);
  },
  /** The offline (holdout) accuracy a version was registered with: the baseline live accuracy is held to. */
  baselineAccuracy(model: string, version: string, accuracy: number): void {
    gauge('flywheel_model_baseline_accuracy_ratio', 'Holdout accuracy of a model version at its evaluation (0-1)', { model, version }, accuracy);
  },
};
