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
import { initialJudgeState, judgeWindow, windowThresholds, type JudgeState } from '../lib/rollout/sequential-judge';
import { checkRollout, type AnalysisSpec, type CanaryRolloutInput, type RolloutJudge } from '../lib/rollout/spec';
import { isUnanalysedFinalStep, stepAction } from '../lib/rollout/step-controller';
import { initialShadowState, judgeShadowWindow, shadowSpecOf, type ShadowVerdict } from '../lib/shadow/judge';
import { proxyControlActivities } from './control-activities';

type Activities = ReturnType<typeof createActivities>;

export type RolloutState = 'progressing' | 'paused' | 'promoted' | 'rolled-back' | 'cancelled' | 'failed';

export interface RolloutDecision {
  at: string;
  action: 'deploy' | 'shadow' | 'step' | 'pause' | 'resume' | 'promote' | 'rollback' | 'complete' | 'cancel' | 'continue';
  reason: string;
}

export interface RolloutAnalysisRecord extends AnalysisResult {
  at: string;
  step: number;
  /** The candidate's weight (%) at this look. */
  weight?: number;
  /** A look of the shadow step: the candidate against stable on the same requests (lib/shadow/judge.ts). */
  shadow?: ShadowVerdict;
}

export interface RolloutStatus {
  workflowId: string;
  model: string;
  candidateVersion: string;
  stableVersion?: string;
  state: RolloutState;
  /** Which judge decides (absent on rollouts started before the sequential judge: fixed-horizon). */
  judge?: RolloutJudge;
  /** 1-based; 0 before the first step. */
  step: number;
  steps: CanaryRolloutInput['steps'];
  weights: Record<string, number>;
  failures: number;
  analyses: RolloutAnalysisRecord[];
  decisions: RolloutDecision[];
  /** Runs of this rollout so far: it continues as new when its history grows long (a paused rollout can wait for weeks). */
  runs?: number;
  error?: string;
}

/** What a rollout hands to its next run when it continues as new: one continuous story in status. */
export interface RolloutCarry {
  status: RolloutStatus;
  stable: string;
  /** 0-based step the next run resumes at, and when that step began. */
  step: number;
  stepStartMs: number;
  resumedAt?: number;
  judge: RolloutJudge;
  looks?: SequentialLooksState;
}

export type CanaryRolloutRun = CanaryRolloutInput & { carried?: RolloutCarry };

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

/** The status keeps the newest analyses and decisions only: queries, histories and carried state stay small on long rollouts. */
const MAX_ANALYSES_KEPT = 50;
const MAX_DECISIONS_KEPT = 200;
/** Stable traffic before the rollout that seeds the sequential judge's latency and rate references. */
const BASELINE_MS = 5 * 60_000;
/**
 * A window closes this long before the look: the gateway writes predictions in batches (every
 * 200 ms by default) and feedback in group commits, so rows of the last instant may still be on
 * their way. Each window starts where the previous one ended: nothing is counted twice or skipped.
 */
const SETTLE_MS = 2_000;
/** Looks per run before continuing as new even if Temporal has not suggested it yet (each look is ~6 events). */
const MAX_LOOKS_PER_RUN = 1_000;

export async function CanaryRollout(input: CanaryRolloutRun): Promise<RolloutResult> {
  const info = wf.workflowInfo();
  const carried = input.carried;
  const status: RolloutStatus = carried ? { ...carried.status, runs: (carried.status.runs ?? 1) + 1 } : {
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
    if (status.decisions.length > MAX_DECISIONS_KEPT) status.decisions.splice(1, 1); // the first (deploy) stays
    wf.setCurrentDetails(`**${input.model}** v${input.candidateVersion}: ${action} — ${reason}`);
    // The SDK's workflow logger adds workflow id, run id and type, and stays quiet during replay.
    wf.log[action === 'rollback' ? 'warn' : 'info']('canary decision', { event: `canary ${action}`, model: input.model, candidateVersion: input.candidateVersion, action, reason });
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
  const finished = () => ['promoted', 'rolled-back', 'cancelled', 'failed'].includes(status.state);
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
  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: cfg.model }, { key: PIPELINE_STAGE, value: 'canary' }]);

  // Refuse a candidate that cannot serve before any traffic moves (a continued run has done this).
  let stable = carried?.stable;
  if (!carried) {
    const deployed = await deploy.deployVersion({ model: cfg.model, version: cfg.candidateVersion });
    decide('deploy', `v${cfg.candidateVersion} loaded and checked (${deployed.nFeatures} features, ${deployed.classes.length} classes)`);
    const current = await acts.getTrafficWeights({ model: cfg.model });
    stable =
      cfg.stableVersion ??
      Object.entries(current.weights)
        .filter(([v, w]) => v !== cfg.candidateVersion && w > 0)
        .sort((a, b) => b[1] - a[1])[0]?.[0];
  }
  if (!stable) {
    const message = `model ${cfg.model} has no stable version serving traffic to compare v${cfg.candidateVersion} with: deploy one first (flywheel deploy)`;
    status.state = 'failed';
    status.error = message;
    throw ApplicationFailure.create({ type: INVALID_INPUT, message, nonRetryable: true });
  }
  const stableVersion = stable;
  status.stableVersion = stableVersion;

  const setCandidateWeight = async (percent: number) => {
    const bp = Math.round(percent * 100);
    const r = await acts.setTrafficWeights({ model: cfg.model, weights: { [cfg.candidateVersion]: bp, [stableVersion]: 10_000 - bp } });
    status.weights = r.weights;
  };

  const rollback = async (reason: string): Promise<RolloutResult> => {
    await setCandidateWeight(0);
    await acts.rejectCandidate({ model: cfg.model, version: cfg.candidateVersion, reason, workflowId: info.workflowId });
    status.state = 'rolled-back';
    decide('rollback', reason);
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'rolled-back' }]);
    return { workflowId: info.workflowId, model: cfg.model, candidateVersion: cfg.candidateVersion, stableVersion, outcome: 'rolled-back', reason, analyses: status.analyses.length };
  };

  // True from the shadow step's start until its shadow is stopped: every way out stops it.
  let shadowRunning = false;
  const stopShadow = async (reason: string) => {
    await acts.stopRolloutShadow({ model: cfg.model, version: cfg.candidateVersion, workflowId: info.workflowId, reason });
    shadowRunning = false;
  };

  try {
    return await runSteps();
  } catch (err) {
    // Cancelled (UI, CLI, `temporal workflow cancel`): the stable version gets its traffic back and
    // the candidate is recorded as aborted, in a scope the cancellation cannot interrupt.
    if (wf.isCancellation(err) && wf.patched('canary-cancel-cleanup')) {
      await wf.CancellationScope.nonCancellable(async () => {
        const reason = 'aborted: the rollout workflow was cancelled';
        if (shadowRunning) await stopShadow(reason);
        await setCandidateWeight(0);
        await acts.rejectCandidate({ model: cfg.model, version: cfg.candidateVersion, reason, workflowId: info.workflowId });
        status.state = 'cancelled';
        decide('cancel', `${reason}; v${stableVersion} takes all traffic again`);
        wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'cancelled' }]);
      });
    }
    throw err;
  }

  async function runSteps(): Promise<RolloutResult> {
    const intervalMs = spec.intervalSeconds * 1000;
    // Rollouts started before the sequential judge replay the fixed-horizon path they ran.
    const judge: RolloutJudge = carried?.judge ?? (wf.patched('sequential-canary-judge') ? spec.judge : 'fixed-horizon');
    status.judge = judge;
    // Segment guardrails (a rollout that names none runs as before, without the marker). A rollout
    // begun before them replays without: it judged its whole traffic only, whatever its spec said.
    const judged: AnalysisSpec = spec.segmentGuardrails?.length && !wf.patched('canary-segment-guardrails') ? { ...spec, segmentGuardrails: [] } : spec;
    const look = judge === 'sequential' ? await sequentialLooks(acts, cfg.model, stableVersion, cfg.candidateVersion, judged, carried?.looks) : undefined;
    let resumedAt = carried?.resumedAt;
    wf.setHandler(resumeUpdate, () => {
      status.state = 'progressing';
      resumedAt = Date.now();
      decide('resume', 'resumed by user');
      return status;
    }, { validator: () => { mustBeRunning(); if (status.state !== 'paused') throw new Error('rollout is not paused'); } });

    let looksThisRun = 0;
    if (!carried && cfg.steps[0]!.shadow) {
      const rejected = await shadowStep();
      if (rejected) return rejected;
    }
    for (let i = carried?.step ?? 0; i < cfg.steps.length; i++) {
      const step = cfg.steps[i]!;
      if (step.shadow) continue;
      if (promoteReason !== undefined) break;
      if (abortReason !== undefined) return rollback(abortReason);
      const resuming = carried !== undefined && i === carried.step;
      if (!resuming) {
        status.step = i + 1;
        await setCandidateWeight(step.weight);
        decide('step', `step ${i + 1}/${cfg.steps.length}: v${cfg.candidateVersion} at ${step.weight}% (v${stableVersion} at ${100 - step.weight}%) for at least ${step.pauseSeconds}s`);
      }
      // The step's clock starts once its weight is set (replay depends on this exact moment).
      const stepStart = resuming ? carried.stepStartMs : Date.now();
      if (!resuming) look?.start(stepStart);

      while (!isUnanalysedFinalStep(cfg.steps, i)) {
        await wf.condition(() => abortReason !== undefined || promoteReason !== undefined, intervalMs);
        if (abortReason !== undefined) return rollback(abortReason);
        if (promoteReason !== undefined) break;

        const result: AnalysisResult = look
          ? await look.next()
          : analyse(spec, ...(await acts.collectRolloutMetrics({ model: cfg.model, stableVersion, candidateVersion: cfg.candidateVersion, sinceMs: stepStart }).then((w) => [w.stable, w.candidate] as const)));
        status.analyses.push({ ...result, at: new Date().toISOString(), step: i + 1, weight: step.weight });
        if (status.analyses.length > MAX_ANALYSES_KEPT) status.analyses.shift();
        if (result.verdict === 'fail') status.failures++;
        // A resume restarts the wait for evidence: the step's pause counts as served.
        const clock = resumedAt !== undefined && resumedAt > stepStart ? Math.max(stepStart, resumedAt - step.pauseSeconds * 1000) : stepStart;
        const action = stepAction({ spec, steps: cfg.steps, step: i, elapsedMs: Date.now() - clock, verdict: result.verdict, failures: status.failures });
        if (action === 'rollback') return rollback(`analysis failed at step ${i + 1} (${step.weight}%): ${result.reason}`);
        if (status.state !== 'paused' && action === 'advance') break;
        if (status.state !== 'paused' && action === 'pause') {
          status.state = 'paused';
          const waited = judge === 'sequential' ? `no evidence of no regression ${spec.maxEvidenceWaitSeconds}s after the pause` : `still inconclusive after ${spec.inconclusiveLimit} extra intervals`;
          decide('pause', `step ${i + 1}: ${waited} (${result.reason}); resume, promote or abort`);
        }
        // Analyses go on (and can still roll back) while paused, for as long as a person takes:
        // the history stays bounded by continuing as new with everything the status shows.
        if (++looksThisRun >= MAX_LOOKS_PER_RUN || wf.workflowInfo().continueAsNewSuggested) {
          if (wf.patched('canary-continue-as-new')) {
            await wf.condition(wf.allHandlersFinished);
            if (abortReason === undefined && promoteReason === undefined) {
              decide('continue', `continuing as new after ${looksThisRun} looks in run ${status.runs ?? 1} (history ${wf.workflowInfo().historyLength} events)`);
              const next: RolloutCarry = { status, stable: stableVersion, step: i, stepStartMs: stepStart, resumedAt, judge, looks: look?.snapshot() };
              await wf.continueAsNew<typeof CanaryRollout>({ ...input, carried: next });
            }
          }
        }
      }
    }

    await setCandidateWeight(100);
    const reason = promoteReason ?? `passed ${status.analyses.length} analyses over ${cfg.steps.length} steps`;
    await acts.promoteChampion({ model: cfg.model, version: cfg.candidateVersion, reason, workflowId: info.workflowId });
    status.state = 'promoted';
    decide(promoteReason !== undefined ? 'promote' : 'complete', `v${cfg.candidateVersion} is champion at 100%: ${reason}`);
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'promoted' }]);
    return { workflowId: info.workflowId, model: cfg.model, candidateVersion: cfg.candidateVersion, stableVersion, outcome: 'promoted', reason, analyses: status.analyses.length };
  }

  /**
   * The shadow step (only ever the first step, never resumed by a continued run: its looks are
   * bounded by checkRollout): the candidate answers every request beside stable, after the reply, and
   * no user sees its answers. Each look adds the window's discordant requests to anytime-valid
   * evidence (lib/shadow/judge.ts, the canary's α and margins); a candidate found worse is rolled back
   * before any exposure. Returns the rollback's result, or undefined to go on to the traffic steps.
   */
  async function shadowStep(): Promise<RolloutResult | undefined> {
    wf.patched('canary-shadow-step');
    const step = cfg.steps[0]!;
    const shadowSpec = shadowSpecOf(spec);
    const intervalMs = spec.intervalSeconds * 1000;
    status.step = 1;
    await acts.startRolloutShadow({ model: cfg.model, version: cfg.candidateVersion, workflowId: info.workflowId });
    shadowRunning = true;
    decide('shadow', `step 1/${cfg.steps.length}: v${cfg.candidateVersion} answers every request in shadow beside v${stableVersion} for at least ${step.pauseSeconds}s; no user sees its answers (0%)`);
    const stepStart = Date.now();
    let state = initialShadowState(shadowSpec);
    let from = stepStart;
    for (;;) {
      await wf.condition(() => abortReason !== undefined || promoteReason !== undefined, intervalMs);
      if (abortReason !== undefined) {
        await stopShadow(abortReason);
        return rollback(abortReason);
      }
      if (promoteReason !== undefined) break;
      const to = Math.max(from, Date.now() - SETTLE_MS);
      const w = await acts.collectShadowWindow({ model: cfg.model, version: cfg.candidateVersion, fromMs: from, toMs: to, sinceMs: stepStart });
      const judged = judgeShadowWindow(shadowSpec, state, w);
      state = judged.state;
      from = to;
      const v = judged.verdict;
      status.analyses.push({
        at: new Date().toISOString(),
        step: 1,
        weight: 0,
        verdict: v.verdict === 'worse' ? 'fail' : v.verdict === 'not-worse' ? 'pass' : 'inconclusive',
        reason: v.reason,
        candidateRequests: w.shadowed,
        stableRequests: w.shadowed,
        checks: v.checks.map((c) => ({
          metric: c.metric,
          verdict: c.verdict === 'worse' ? 'fail' : c.verdict === 'not-worse' ? 'pass' : 'inconclusive',
          candidate: c.shadowOnly + c.servedOnly > 0 ? c.shadowOnly / (c.shadowOnly + c.servedOnly) : null,
          stable: c.shadowOnly + c.servedOnly > 0 ? c.servedOnly / (c.shadowOnly + c.servedOnly) : null,
          pValue: Math.min(1, 1 / c.harmE),
          reason: c.reason,
          // As the sequential judge's checks carry it: canary status and the report show it per look.
          evidence: { harmE: c.harmE, harmThreshold: c.harmThreshold, safetyE: c.safetyE, safetyThreshold: c.safetyThreshold },
        })),
        shadow: v,
      });
      if (status.analyses.length > MAX_ANALYSES_KEPT) status.analyses.shift();
      if (v.verdict === 'worse') {
        status.failures++;
        const reason = `shadow step failed before any user saw v${cfg.candidateVersion}: ${v.reason}`;
        await stopShadow(reason);
        return rollback(reason);
      }
      if (Date.now() - stepStart >= step.pauseSeconds * 1000) {
        if (status.state !== 'paused') break;
        // Paused by a person at the step's end: wait for them without looking (the history stays
        // bounded); still no user sees the candidate. An abort or promote is handled at the loop's top.
        await wf.condition(() => status.state !== 'paused' || abortReason !== undefined || promoteReason !== undefined);
        if (abortReason === undefined && promoteReason === undefined) break;
      }
    }
    await stopShadow(promoteReason !== undefined ? `promoted: ${promoteReason}` : 'shadow step passed');
    decide('step', `shadow step passed: no evidence that v${cfg.candidateVersion} is worse than v${stableVersion} on ${state.checks.map((c) => `${c.shadowOnly + c.servedOnly} discordant (${c.metric})`).join(', ')} requests`);
    return undefined;
  }
}

/**
 * The sequential judge's looks: each one counts the traffic of the window since the previous look
 * (closed SETTLE_MS before now) and adds it to evidence kept since the rollout began, across steps.
 * The judge's state lives here, in the workflow: every decision replays from history.
 */
export interface SequentialLooksState {
  judge: JudgeState;
  /** Start of the next window (ms); undefined before the first step. */
  from?: number;
  /** Labels count for predictions served since this (the first step's start). */
  since: number;
}

async function sequentialLooks(
  acts: ReturnType<typeof wf.proxyActivities<Activities>>,
  model: string,
  stable: string,
  candidate: string,
  spec: AnalysisSpec,
  resume?: SequentialLooksState,
) {
  let s: SequentialLooksState;
  if (resume) s = resume;
  else {
    const now = Date.now();
    const baseline = await acts.collectRolloutWindow({ model, versions: [{ version: stable, thresholds: {} }], fromMs: now - BASELINE_MS, toMs: now, predictionsSinceMs: now - BASELINE_MS });
    s = { judge: initialJudgeState(spec, baseline[stable]), since: now };
  }
  return {
    start(stepStart: number) {
      if (s.from === undefined) (s.from = stepStart), (s.since = stepStart);
    },
    snapshot: (): SequentialLooksState => s,
    async next(): Promise<AnalysisResult> {
      const from = s.from!;
      const to = Math.max(from, Date.now() - SETTLE_MS);
      const thresholds = windowThresholds(spec, s.judge);
      const w = await acts.collectRolloutWindow({
        model,
        versions: [{ version: stable, thresholds: thresholds.stable }, { version: candidate, thresholds: thresholds.candidate }],
        fromMs: from,
        toMs: to,
        predictionsSinceMs: s.since,
        quantilesFromMs: to - BASELINE_MS,
        ...(spec.segmentGuardrails?.length ? { segments: spec.segmentGuardrails } : {}),
      });
      // A window without a segment's counts adds nothing to its evidence (the report shows 0/0).
      const none = { requests: 0, errors: 0, labelled: 0, incorrect: 0 };
      const segments = spec.segmentGuardrails?.length ? spec.segmentGuardrails.map((_, i) => ({ stable: w[stable]!.segments?.[i] ?? none, candidate: w[candidate]!.segments?.[i] ?? none })) : undefined;
      const judged = judgeWindow(spec, s.judge, { stable: w[stable]!, candidate: w[candidate]!, ...(segments ? { segments } : {}) });
      s = { ...s, judge: judged.state, from: to };
      return judged.analysis;
    },
  };
}
