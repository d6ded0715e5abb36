/**
 * CanaryRollout: moves traffic to a candidate version step by step (Argo Rollouts' steps), and
 * after every analysis interval judges the candidate against the stable version on the traffic
 * each served in this step (the analysis decides, the workflow only executes the decision).
 * A failed analysis beyond the failure limit, or an abort, rolls back: candidate to 0%, stable to
 * 100%, the candidate rejected in serving and in the registry with the reason. Success makes the
 * candidate the `champion`. One rollout per model: the workflow id is `canary-<model>`.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { createActivities } from '../activities/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../config/search-attributes';
import { INVALID_INPUT, NON_RETRYABLE_TYPES } from '../lib/failure-types';
import { analyse, type AnalysisResult } from '../lib/rollout/analyse';
import { checkRollout, type CanaryRolloutInput } from '../lib/rollout/spec';
import { proxyControlActivities } from './control-activities';

type Activities = ReturnType<typeof createActivities>;

export type RolloutState = 'progressing' | 'paused' | 'promoted' | 'rolled-back' | 'failed';

export interface RolloutDecision {
  at: string;
  action: 'deploy' | 'step' | 'pause' | 'resume' | 'promote' | 'rollback' | 'complete';
  reason: string;
}

export interface RolloutAnalysisRecord extends AnalysisResult {
  at: string;
  step: number;
}

export interface RolloutStatus {
  workflowId: string;
  model: string;
  candidateVersion: string;
  stableVersion?: string;
  state: RolloutState;
  /** 1-based; 0 before the first step. */
  step: number;
  steps: CanaryRolloutInput['steps'];
  weights: Record<string, number>;
  failures: number;
  analyses: RolloutAnalysisRecord[];
  decisions: RolloutDecision[];
  error?: string;
}

export interface RolloutResult {
  workflowId: string;
  model: string;
  candidateVersion: string;
  stableVersion: string;
  outcome: 'promoted' | 'rolled-back';
  reason: string;
  analyses: number;
}

export const rolloutStatusQuery = wf.defineQuery<RolloutStatus>('status');
export const promoteUpdate = wf.defineUpdate<RolloutStatus, [string]>('promote');
export const pauseUpdate = wf.defineUpdate<RolloutStatus, [string]>('pause');
export const resumeUpdate = wf.defineUpdate<RolloutStatus, []>('resume');
export const abortUpdate = wf.defineUpdate<RolloutStatus, [string]>('abort');

/** The status keeps the newest analyses only: queries and histories stay small on long rollouts. */
const MAX_ANALYSES_KEPT = 50;

export async function CanaryRollout(input: CanaryRolloutInput): Promise<RolloutResult> {
  const info = wf.workflowInfo();
  const status: RolloutStatus = {
    workflowId: info.workflowId,
    model: input.model,
    candidateVersion: String(input.candidateVersion),
    state: 'progressing',
    step: 0,
    steps: input.steps,
    weights: {},
    failures: 0,
    analyses: [],
    decisions: [],
  };
  wf.setHandler(rolloutStatusQuery, () => status);
  const decide = (action: RolloutDecision['action'], reason: string) => {
    status.decisions.push({ at: new Date().toISOString(), action, reason });
    wf.setCurrentDetails(`**${input.model}** v${input.candidateVersion}: ${action} — ${reason}`);
  };

  const checked = checkRollout(input);
  if (!checked.ok) {
    status.state = 'failed';
    status.error = checked.message;
    throw ApplicationFailure.create({ type: INVALID_INPUT, message: checked.message, nonRetryable: true });
  }
  const cfg = checked.value;
  const spec = cfg.analysis;
  const retry = { initialInterval: '1s', maximumInterval: '20s', nonRetryableErrorTypes: NON_RETRYABLE_TYPES };
  // Reads and weight changes take milliseconds: a short timeout makes a crashed worker's task retry
  // soon (a rollback must not wait minutes). Deploying downloads and loads a model: longer.
  // Control queue: looks, weights and tags never wait behind training for a slot.
  const acts = proxyControlActivities<Activities>(cfg.taskQueues, { startToCloseTimeout: '15 seconds', retry });
  const deploy = proxyControlActivities<Activities>(cfg.taskQueues, { startToCloseTimeout: '2 minutes', retry });

  // Steering: updates validate against the current state so a caller hears "no" at once.
  let abortReason: string | undefined;
  let promoteReason: string | undefined;
  const finished = () => status.state === 'promoted' || status.state === 'rolled-back' || status.state === 'failed';
  const mustBeRunning = () => {
    if (finished()) throw new Error(`rollout of ${cfg.model} v${cfg.candidateVersion} already ended (${status.state})`);
    if (abortReason !== undefined || promoteReason !== undefined) throw new Error('a promote or abort is already in progress');
  };
  wf.setHandler(promoteUpdate, (reason: string) => ((promoteReason = reason || 'promoted by user'), status), { validator: (_reason: string) => mustBeRunning() });
  wf.setHandler(abortUpdate, (reason: string) => ((abortReason = reason || 'aborted by user'), status), { validator: (_reason: string) => mustBeRunning() });
  wf.setHandler(
    pauseUpdate,
    (reason: string) => {
      status.state = 'paused';
      decide('pause', reason || 'paused by user');
      return status;
    },
    {
      validator: (_reason: string) => {
        mustBeRunning();
        if (status.state === 'paused') throw new Error('rollout is already paused');
      },
    },
  );
  wf.setHandler(
    resumeUpdate,
    () => {
      status.state = 'progressing';
      decide('resume', 'resumed by user');
      return status;
    },
    {
      validator: () => {
        mustBeRunning();
        if (status.state !== 'paused') throw new Error('rollout is not paused');
      },
    },
  );
  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: cfg.model }, { key: PIPELINE_STAGE, value: 'canary' }]);

  // Refuse a candidate that cannot serve before any traffic moves.
  const deployed = await deploy.deployVersion({ model: cfg.model, version: cfg.candidateVersion });
  decide('deploy', `v${cfg.candidateVersion} loaded and checked (${deployed.nFeatures} features, ${deployed.classes.length} classes)`);
  const current = await acts.getTrafficWeights({ model: cfg.model });
  const stable =
    cfg.stableVersion ??
    Object.entries(current.weights)
      .filter(([v, w]) => v !== cfg.candidateVersion && w > 0)
      .sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!stable) {
    const message = `model ${cfg.model} has no stable version serving traffic to compare v${cfg.candidateVersion} with: deploy one first (flywheel deploy)`;
    status.state = 'failed';
    status.error = message;
    throw ApplicationFailure.create({ type: INVALID_INPUT, message, nonRetryable: true });
  }
  status.stableVersion = stable;

  const setCandidateWeight = async (percent: number) => {
    const bp = Math.round(percent * 100);
    const r = await acts.setTrafficWeights({ model: cfg.model, weights: { [cfg.candidateVersion]: bp, [stable]: 10_000 - bp } });
    status.weights = r.weights;
  };

  const rollback = async (reason: string): Promise<RolloutResult> => {
    await setCandidateWeight(0);
    await acts.rejectCandidate({ model: cfg.model, version: cfg.candidateVersion, reason, workflowId: info.workflowId });
    status.state = 'rolled-back';
    decide('rollback', reason);
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'rolled-back' }]);
    return { workflowId: info.workflowId, model: cfg.model, candidateVersion: cfg.candidateVersion, stableVersion: stable, outcome: 'rolled-back', reason, analyses: status.analyses.length };
  };

  const intervalMs = spec.intervalSeconds * 1000;
  for (const [i, step] of cfg.steps.entries()) {
    if (promoteReason !== undefined) break;
    if (abortReason !== undefined) return rollback(abortReason);
    status.step = i + 1;
    await setCandidateWeight(step.weight);
    decide('step', `step ${i + 1}/${cfg.steps.length}: v${cfg.candidateVersion} at ${step.weight}% (v${stable} at ${100 - step.weight}%) for at least ${step.pauseSeconds}s`);
    const stepStart = Date.now();
    const lastStepAtFull = step.weight === 100 && step.pauseSeconds === 0;

    while (!lastStepAtFull) {
      await wf.condition(() => abortReason !== undefined || promoteReason !== undefined, intervalMs);
      if (abortReason !== undefined) return rollback(abortReason);
      if (promoteReason !== undefined) break;

      const window = await acts.collectRolloutMetrics({ model: cfg.model, stableVersion: stable, candidateVersion: cfg.candidateVersion, sinceMs: stepStart });
      const result = analyse(spec, window.stable, window.candidate);
      status.analyses.push({ ...result, at: new Date().toISOString(), step: i + 1 });
      if (status.analyses.length > MAX_ANALYSES_KEPT) status.analyses.shift();
      if (result.verdict === 'fail') {
        status.failures++;
        if (status.failures > spec.failureLimit) return rollback(`analysis failed at step ${i + 1} (${step.weight}%): ${result.reason}`);
      }
      if (status.state === 'paused') continue; // analyses go on (and can still roll back) while paused
      const elapsed = Date.now() - stepStart;
      if (elapsed >= step.pauseSeconds * 1000 && result.verdict === 'pass') break;
      if (result.verdict === 'inconclusive' && elapsed >= step.pauseSeconds * 1000 + spec.inconclusiveLimit * intervalMs) {
        status.state = 'paused';
        decide('pause', `step ${i + 1}: still inconclusive after ${spec.inconclusiveLimit} extra intervals (${result.reason}); resume, promote or abort`);
      }
    }
  }

  await setCandidateWeight(100);
  const reason = promoteReason ?? `passed ${status.analyses.length} analyses over ${cfg.steps.length} steps`;
  await acts.promoteChampion({ model: cfg.model, version: cfg.candidateVersion, reason, workflowId: info.workflowId });
  status.state = 'promoted';
  decide(promoteReason !== undefined ? 'promote' : 'complete', `v${cfg.candidateVersion} is champion at 100%: ${reason}`);
  wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'promoted' }]);
  return { workflowId: info.workflowId, model: cfg.model, candidateVersion: cfg.candidateVersion, stableVersion: stable, outcome: 'promoted', reason, analyses: status.analyses.length };
}
