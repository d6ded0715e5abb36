/**
 * HyperparameterSearch: validate and split the data once, then run trials — K at a time — each a
 * training activity that reports its validation metric every epoch. The sampler proposes each
 * trial from the trials so far (running ones included, so TPE's constant liar spreads parallel
 * proposals); the pruner stops hopeless trials by cancelling them. Every finished trial is in the
 * workflow history, so a crash loses none and repeats none; long studies continue-as-new carrying
 * their trials. The best configuration is then trained, exported, evaluated and registered by a
 * child TrainingPipeline.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { createActivities } from '../activities/index';
import type { DatasetRef, SplitRef } from '../activities/data';
import type { TrialReport } from '../activities/hpo';
import { MODEL_NAME, PIPELINE_STAGE, DATASET_DIGEST } from '../config/search-attributes';
import { INVALID_INPUT, NON_RETRYABLE_TYPES } from '../lib/failure-types';
import { proxyControlActivities } from './control-activities';
import { createPruner, createSampler, type Params, type Trial } from '../lib/hpo/index';
import { checkSearchInput, SEARCH_METRICS, type HyperparameterSearchInput } from '../lib/pipeline/search-input';
import type { TrainingPipelineResult } from './training-pipeline';

type Activities = ReturnType<typeof createActivities>;

export interface SearchCarry {
  trials: Trial[];
  errors: Record<number, string>;
  dataset: DatasetRef;
  split: SplitRef;
  searchSplit: SplitRef;
  study: { mlflowRunId: string; experimentId: string };
}

export interface SearchStatus {
  workflowId: string;
  model: string;
  sampler: string;
  pruner: string;
  metric: string;
  direction: 'minimize' | 'maximize';
  state: 'running' | 'completed' | 'failed';
  stage: 'prepare' | 'search' | 'train-best' | 'done';
  trials: { total: number; complete: number; running: number; pruned: number; failed: number };
  best?: { number: number; value: number; params: Params };
  recent: Array<{ number: number; state: Trial['state']; value?: number; steps: number; params: Params }>;
  final?: { workflowId: string; version?: string };
  error?: string;
}

export interface SearchResult {
  workflowId: string;
  model: string;
  metric: string;
  direction: 'minimize' | 'maximize';
  trials: { total: number; complete: number; pruned: number; failed: number };
  best: { number: number; value: number; params: Params };
  hyperparameters: Record<string, unknown>;
  mlflowRunId: string;
  final?: TrainingPipelineResult;
}

export const searchStatusQuery = wf.defineQuery<SearchStatus>('status');
export const trialReportSignal = wf.defineSignal<[TrialReport]>('trialReport');

/** Continue-as-new before the history gets heavy even if the server does not suggest it yet. */
const MAX_EVENTS_PER_RUN = 20_000;

export async function HyperparameterSearch(input: HyperparameterSearchInput, carry?: SearchCarry): Promise<SearchResult> {
  const info = wf.workflowInfo();
  const checked = checkSearchInput(input);
  const trials: Trial[] = carry?.trials ?? [];
  const errors: Record<number, string> = carry?.errors ?? {};
  const direction = checked.ok ? SEARCH_METRICS[checked.value.metric] : 'minimize';
  const status: SearchStatus = {
    workflowId: info.workflowId,
    model: input.model,
    sampler: input.sampler,
    pruner: input.pruner ?? 'median',
    metric: input.metric ?? 'logLoss',
    direction,
    state: 'running',
    stage: carry ? 'search' : 'prepare',
    trials: { total: input.trials, complete: 0, running: 0, pruned: 0, failed: 0 },
    recent: [],
  };
  const refresh = () => {
    const count = (s: Trial['state']) => trials.filter((t) => t.state === s).length;
    status.trials = { total: input.trials, complete: count('complete'), running: count('running'), pruned: count('pruned'), failed: count('failed') };
    status.best = bestTrial(trials, direction);
    status.recent = trials.slice(-10).map((t) => ({ number: t.number, state: t.state, value: t.value, steps: t.intermediate.length, params: t.params }));
  };
  refresh();
  wf.setHandler(searchStatusQuery, () => status);

  if (!checked.ok) {
    status.state = 'failed';
    status.error = checked.message;
    throw ApplicationFailure.create({ type: INVALID_INPUT, message: checked.message, nonRetryable: true });
  }
  const cfg = checked.value;
  const sampler = createSampler(cfg.sampler, cfg.samplerOptions);
  const pruner = createPruner(cfg.pruner, {});

  const pruneRequested = new Set<number>();
  const scopes = new Map<number, CancellationScope>();
  wf.setHandler(trialReportSignal, (r) => {
    const trial = trials[r.trialNumber];
    if (!trial || trial.state !== 'running') return;
    // A retried attempt re-reports epochs it resumed past; keep one value per step.
    if (trial.intermediate.some(([step]) => step === r.step)) return;
    trial.intermediate.push([r.step, r.value]);
    if (!pruneRequested.has(r.trialNumber) && pruner.shouldPrune({ trials, trialNumber: r.trialNumber, step: r.step, value: r.value, direction })) {
      pruneRequested.add(r.trialNumber);
      scopes.get(r.trialNumber)?.cancel();
    }
  });
  const retry = { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes: NON_RETRYABLE_TYPES };
  const quick = wf.proxyActivities<Activities>({ taskQueue: cfg.taskQueues.cpu, startToCloseTimeout: '5 minutes', retry });
  // A few database rows and MLflow calls: a worker that dies holding one is noticed in seconds,
  // not after the 5 minutes a dataset may take to materialise. On the control queue: trials
  // (running with --parallel N) hold the CPU slots, and a trial's record must not wait behind them.
  const bookkeeping = proxyControlActivities<Activities>(cfg.taskQueues, { startToCloseTimeout: '30 seconds', retry });
  const trialActivities = wf.proxyActivities<Activities>({
    taskQueue: cfg.taskQueues.cpu,
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '10 seconds',
    retry: { ...retry, maximumAttempts: 3 },
  });
  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: cfg.model }, { key: PIPELINE_STAGE, value: 'search' }]);

  let prepared = carry;
  if (!prepared) {
    const dataset = await quick.validateDataset({ dataset: cfg.dataset, labelColumn: cfg.labelColumn });
    wf.upsertSearchAttributes([{ key: DATASET_DIGEST, value: dataset.digest }]);
    // The final holdout is split off first and never seen by the search: trials are scored on a
    // validation set carved from the training part only.
    const split = await quick.splitDataset({ datasetUri: dataset.uri, holdoutFraction: cfg.holdoutFraction, seed: cfg.splitSeed });
    const searchSplit = await quick.splitDataset({ datasetUri: dataset.uri, holdoutFraction: cfg.validationFraction, seed: cfg.splitSeed, withinUri: split.trainUri });
    const study = await bookkeeping.startStudy({
      model: cfg.model, datasetDigest: dataset.digest, family: cfg.family, sampler: cfg.sampler, pruner: cfg.pruner,
      metric: cfg.metric, direction, space: cfg.space, nTrials: cfg.trials, parallel: cfg.parallel,
    });
    prepared = { trials, errors, dataset, split, searchSplit, study };
  }
  const { dataset, searchSplit, study } = prepared;
  status.stage = 'search';

  const record = (t: Trial) =>
    CancellationScope.nonCancellable(() =>
      bookkeeping.recordTrial({ mlflowParentRunId: study.mlflowRunId, experimentId: study.experimentId, metric: cfg.metric, trial: { ...t, error: errors[t.number] } }),
    );

  const launch = (trial: Trial): Promise<void> => {
    const scope = new CancellationScope();
    scopes.set(trial.number, scope);
    return scope
      .run(() =>
        trialActivities.runTrial({
          trialNumber: trial.number,
          datasetUri: dataset.uri,
          trainUri: searchSplit.trainUri,
          validUri: searchSplit.holdoutUri,
          hyperparameters: { ...cfg.fixed, ...trial.params } as never,
          metric: cfg.metric,
          reportSignal: trialReportSignal.name,
        }),
      )
      .then(
        (r) => {
          trial.state = 'complete';
          trial.value = r.value;
          trial.intermediate = r.intermediate;
        },
        (err) => {
          if (isCancellation(err) && pruneRequested.has(trial.number)) {
            trial.state = 'pruned';
            trial.value = trial.intermediate[trial.intermediate.length - 1]?.[1];
          } else {
            trial.state = 'failed';
            errors[trial.number] = innermost(err);
          }
        },
      )
      .then(async () => {
        scopes.delete(trial.number);
        refresh();
        await record(trial);
      });
  };

  // Trials a previous run left running cannot be: continue-as-new only happens once all finished.
  const inFlight = new Set<Promise<void>>();
  let stopForContinue = false;
  while (trials.length < cfg.trials || inFlight.size > 0) {
    while (!stopForContinue && inFlight.size < cfg.parallel && trials.length < cfg.trials) {
      const number = trials.length;
      const params = sampler.sample({ space: cfg.space, trials, direction, seed: cfg.seed * 1_000_003 + number });
      const trial: Trial = { number, params, state: 'running', intermediate: [] };
      trials.push(trial);
      refresh();
      const p = launch(trial).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
    if (!stopForContinue && (wf.workflowInfo().continueAsNewSuggested || wf.workflowInfo().historyLength > MAX_EVENTS_PER_RUN)) stopForContinue = true;
    if (stopForContinue && inFlight.size === 0 && trials.length < cfg.trials) {
      await wf.continueAsNew<typeof HyperparameterSearch>(input, { ...prepared, trials, errors });
    }
  }

  const best = bestTrial(trials, direction);
  if (!best) {
    const message = `no trial completed (${status.trials.failed} failed, ${status.trials.pruned} pruned); first error: ${Object.values(errors)[0] ?? 'none'}`;
    await bookkeeping.finishStudy({ mlflowRunId: study.mlflowRunId, status: 'failed' });
    status.state = 'failed';
    status.error = message;
    throw ApplicationFailure.create({ type: 'SearchFailed', message, nonRetryable: true });
  }
  await bookkeeping.finishStudy({ mlflowRunId: study.mlflowRunId, status: 'completed', best });
  const hyperparameters = { ...cfg.fixed, ...best.params };
  const result: SearchResult = {
    workflowId: info.workflowId,
    model: cfg.model,
    metric: cfg.metric,
    direction,
    trials: { total: trials.length, complete: status.trials.complete, pruned: status.trials.pruned, failed: status.trials.failed },
    best,
    hyperparameters,
    mlflowRunId: study.mlflowRunId,
  };

  if (cfg.trainBest) {
    status.stage = 'train-best';
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'train-best' }]);
    const childId = `${info.workflowId}-best`;
    status.final = { workflowId: childId };
    const final: TrainingPipelineResult = await wf.executeChild('TrainingPipeline', {
      workflowId: childId,
      taskQueue: info.taskQueue,
      args: [{ model: cfg.model, dataset: cfg.dataset, labelColumn: cfg.labelColumn, family: cfg.family, hyperparameters, holdoutFraction: cfg.holdoutFraction, splitSeed: cfg.splitSeed, taskQueues: cfg.taskQueues }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: cfg.model }],
      staticSummary: `Train ${cfg.model} with the best of ${trials.length} trials (${cfg.sampler})`,
    });
    result.final = final;
    status.final.version = final.version;
  }
  status.stage = 'done';
  status.state = 'completed';
  wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'done' }]);
  return result;
}

function bestTrial(trials: readonly Trial[], direction: 'minimize' | 'maximize') {
  let best: { number: number; value: number; params: Params } | undefined;
  for (const t of trials) {
    if (t.state !== 'complete' || t.value === undefined || !Number.isFinite(t.value)) continue;
    if (!best || (direction === 'minimize' ? t.value < best.value : t.value > best.value)) best = { number: t.number, value: t.value, params: t.params };
  }
  return best;
}

function innermost(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
