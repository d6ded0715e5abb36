/**
 * Retraining: train a challenger on a fresh data window (child TrainingPipeline), score it and the
 * champion on the challenger's holdout with the same evaluation activity, and roll the challenger
 * out (child CanaryRollout, `canary-<model>`) only when it is better by the stated margin; else say
 * why not, in the status, in `retraining_runs` and on the challenger's MLflow version.
 * Started by a Temporal Schedule, by a DriftMonitor (`retrain-<model>-drift-<n>`) or by hand.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createActivities } from '../activities/index';
import type { EvaluationResult } from '../activities/evaluation';
import type { RetrainingRecord } from '../activities/retraining';
import { MODEL_NAME, PIPELINE_STAGE } from '../config/search-attributes';
import { INVALID_INPUT, NON_RETRYABLE_TYPES } from '../lib/failure-types';
import { proxyControlActivities } from './control-activities';
import { decide, type RetrainingDecision } from '../lib/retraining/decision';
import { checkRetraining, type RetrainingInput } from '../lib/retraining/spec';
import { DEFAULT_STEPS } from '../lib/rollout/spec';
import type { RolloutResult } from './canary-rollout';
import type { TrainingPipelineResult } from './training-pipeline';

type Activities = ReturnType<typeof createActivities>;

export type RetrainingStage = 'train' | 'compare' | 'canary' | 'done' | 'failed';

export interface ModelScore {
  version: string;
  accuracy: number;
  logLoss: number;
}

export interface RetrainingStatus {
  workflowId: string;
  model: string;
  dataset: string;
  trigger: NonNullable<RetrainingInput['trigger']>;
  metric: string;
  margin: number;
  stage: RetrainingStage;
  trainingWorkflowId?: string;
  challenger?: ModelScore;
  champion?: ModelScore & { source: 'alias' | 'traffic' };
  holdoutRows?: number;
  decision?: RetrainingDecision;
  canary?: { workflowId: string; outcome?: string; reason?: string };
  error?: string;
}

export type RetrainingResult = Required<Pick<RetrainingStatus, 'workflowId' | 'model' | 'decision' | 'challenger'>> & Pick<RetrainingStatus, 'champion' | 'canary'>;

export const retrainingStatusQuery = wf.defineQuery<RetrainingStatus>('status');

const score = (version: string, m: EvaluationResult): ModelScore => ({ version, accuracy: m.accuracy, logLoss: m.logLoss });

export async function Retraining(input: RetrainingInput): Promise<RetrainingResult> {
  const info = wf.workflowInfo();
  const status: RetrainingStatus = {
    workflowId: info.workflowId,
    model: input.model,
    dataset: input.dataset,
    trigger: input.trigger ?? { kind: 'manual' },
    metric: input.metric ?? 'logLoss',
    margin: input.margin ?? 0,
    stage: 'train',
  };
  wf.setHandler(retrainingStatusQuery, () => status);

  const checked = checkRetraining(input);
  if (!checked.ok) {
    status.stage = 'failed';
    status.error = checked.message;
    throw ApplicationFailure.create({ type: INVALID_INPUT, message: checked.message, nonRetryable: true });
  }
  const cfg = checked.value;
  Object.assign(status, { metric: cfg.metric, margin: cfg.margin, trigger: cfg.trigger });
  const retry = { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_TYPES };
  // Evaluation and the champion's download stay on the CPU queue (they share local files).
  const acts = wf.proxyActivities<Activities>({ taskQueue: cfg.taskQueues.cpu, startToCloseTimeout: '5 minutes', retry });
  // The record row and the registry tag: the control queue, never behind training.
  const control = proxyControlActivities<Activities>(cfg.taskQueues, { startToCloseTimeout: '5 minutes', retry });
  const t = cfg.trigger;
  const base: RetrainingRecord = {
    workflowId: info.workflowId,
    model: cfg.model,
    trigger: t.kind,
    triggerDetail: t.kind === 'schedule' ? t.scheduleId : t.kind === 'drift' ? `${t.monitorId} event ${t.event}` : undefined,
    dataset: cfg.dataset,
    status: 'running',
    metric: cfg.metric,
    margin: cfg.margin,
  };
  const stage = (s: RetrainingStage, details: string) => {
    status.stage = s;
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: `retrain-${s}` }]);
    wf.setCurrentDetails(`**${cfg.model}** retraining: ${details}`);
  };
  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: cfg.model }]);

  try {
    await control.recordRetraining(base);
    stage('train', `training a challenger on ${cfg.dataset}`);
    status.trainingWorkflowId = `${info.workflowId}-train`;
    const trained: TrainingPipelineResult = await wf.executeChild('TrainingPipeline', {
      workflowId: status.trainingWorkflowId,
      taskQueue: info.taskQueue,
      args: [{ model: cfg.model, dataset: cfg.dataset, labelColumn: cfg.labelColumn, family: cfg.family, hyperparameters: cfg.hyperparameters, holdoutFraction: cfg.holdoutFraction, splitSeed: cfg.splitSeed, taskQueues: cfg.taskQueues }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: cfg.model }],
      staticSummary: `Challenger for ${cfg.model} on ${cfg.dataset}`,
    });

    stage('compare', `challenger v${trained.version} against the champion`);
    const holdout = await acts.locateHoldout({ datasetDigest: trained.datasetDigest, holdoutFraction: cfg.holdoutFraction, splitSeed: cfg.splitSeed });
    status.holdoutRows = holdout.holdoutRows;
    status.challenger = score(trained.version, await acts.evaluateOnnx({ onnxUri: trained.onnxUri, datasetUri: holdout.datasetUri, holdoutUri: holdout.holdoutUri }));
    const champion = await acts.fetchChampion({ model: cfg.model, excludeVersion: trained.version });
    let decision: RetrainingDecision;
    if (!champion) {
      decision = { kind: 'no-champion', reason: `model ${cfg.model} has no champion alias and no other version serving traffic: deploy v${trained.version} yourself (flywheel deploy)` };
    } else if (champion.nFeatures !== holdout.nFeatures || champion.classes.join('\u0000') !== holdout.classes.join('\u0000')) {
      // Same class names in the same order, or the probabilities would be scored against the wrong labels.
      decision = {
        kind: 'not-comparable',
        reason: `champion v${champion.version} (${champion.nFeatures} features, classes ${champion.classes.join('/')}) cannot be scored on the challenger's holdout (${holdout.nFeatures} features, classes ${holdout.classes.join('/')})`,
      };
    } else {
      status.champion = { ...score(champion.version, await acts.evaluateOnnx({ onnxUri: champion.onnxPath, datasetUri: holdout.datasetUri, holdoutUri: holdout.holdoutUri })), source: champion.source };
      decision = decide(cfg.metric, cfg.margin, status.champion, status.challenger, { champion: champion.version, challenger: trained.version });
    }
    status.decision = decision;
    const compared: RetrainingRecord = {
      ...base,
      challengerVersion: trained.version,
      championVersion: status.champion?.version ?? champion?.version,
      championSource: champion?.source,
      challengerMetrics: { accuracy: status.challenger.accuracy, logLoss: status.challenger.logLoss },
      championMetrics: status.champion ? { accuracy: status.champion.accuracy, logLoss: status.champion.logLoss } : undefined,
      decision: decision.kind,
      reason: decision.reason,
    };
    await control.tagChallenger({ model: cfg.model, version: trained.version, decision: decision.kind, reason: decision.reason, workflowId: info.workflowId });

    if (decision.kind === 'canary') {
      stage('canary', `v${trained.version} in a canary: ${decision.reason}`);
      const canaryId = `canary-${cfg.model}`;
      status.canary = { workflowId: canaryId };
      await control.recordRetraining({ ...compared, canaryWorkflowId: canaryId });
      try {
        const rollout: RolloutResult = await wf.executeChild('CanaryRollout', {
          workflowId: canaryId,
          taskQueue: info.taskQueue,
          args: [{ model: cfg.model, candidateVersion: trained.version, stableVersion: status.champion!.version, steps: cfg.canary?.steps ?? DEFAULT_STEPS, analysis: cfg.canary?.analysis, taskQueues: cfg.taskQueues }],
          typedSearchAttributes: [{ key: MODEL_NAME, value: cfg.model }],
          staticSummary: `Canary of retrained ${cfg.model} v${trained.version}`,
          // A rollout owns traffic and rolls itself back: ending the retraining must not cut it off mid-step.
          parentClosePolicy: 'ABANDON',
        });
        Object.assign(status.canary, { outcome: rollout.outcome, reason: rollout.reason });
      } catch (err) {
        // Another rollout of this model holds `canary-<model>`: ours must not fight it for the traffic.
        const blocked = err instanceof WorkflowExecutionAlreadyStartedError;
        Object.assign(status.canary, { outcome: blocked ? 'not-started' : 'failed', reason: blocked ? `another rollout of ${cfg.model} is running (${canaryId})` : innermost(err) });
      }
    } else {
      await control.recordRetraining(compared);
    }
    await control.recordRetraining({ ...compared, status: 'completed', canaryWorkflowId: status.canary?.workflowId, canaryOutcome: status.canary?.outcome });
    stage('done', `${decision.kind}: ${decision.reason}`);
    return { workflowId: info.workflowId, model: cfg.model, decision, challenger: status.challenger, champion: status.champion, canary: status.canary };
  } catch (err) {
    status.error = innermost(err);
    stage('failed', status.error);
    await control.recordRetraining({ ...base, status: 'failed', reason: status.error });
    throw err;
  }
}

function innermost(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
