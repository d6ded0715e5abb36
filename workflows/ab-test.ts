/**
 * ABTest: splits a model's traffic between versions (sticky per unit at the gateway), looks at
 * the results every interval with statistics that stay valid under continuous monitoring (mSPRT,
 * Bonferroni across arms), and decides by itself: a winner with its lift and interval, no winner
 * by the maximum duration ("inconclusive"), or a halt when the split itself is broken (SRM) or a
 * guardrail trips. At the end all traffic goes to the winner (or back to the control); with
 * promoteWinner a CanaryRollout child takes the winner to champion instead.
 *
 * A long test (a maxDuration of days, a look every few seconds) continues as new when Temporal
 * suggests it, carrying its monitors, latest look, start time and status: `status` tells one
 * continuous story and the decision is what it would have been. Cancelled, it gives the control all
 * traffic back (as a test without a winner ends) and records itself as cancelled.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { createActivities } from '../activities/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../config/search-attributes';
import { evaluateLook, type ArmData, type Decision, type Look } from '../lib/experiment/evaluate';
import { initialSegmentGuardState, judgeSegmentGuardrails, type SegmentGuardState } from '../lib/experiment/segment-guardrails';
import { checkABTest, type ABTestInput } from '../lib/experiment/spec';
import { proportionFromSums, summaryFromSums } from '../lib/experiment/summaries';
import { INVALID_INPUT, NON_RETRYABLE_TYPES } from '../lib/failure-types';
import { proxyControlActivities } from './control-activities';
import type { MsprtState } from '../lib/stats/always-valid';
import type { RolloutResult } from './canary-rollout';

type Activities = ReturnType<typeof createActivities>;

export interface ABTestStatus {
  workflowId: string;
  model: string;
  versions: string[];
  split: number[];
  state: 'running' | 'concluded' | 'stopped' | 'halted' | 'cancelled';
  looks: number;
  elapsedSeconds: number;
  latest?: Look;
  decision?: Decision;
  promotion?: { workflowId: string; outcome?: string };
  /** Runs of this test so far: it continues as new when its history grows long. */
  runs?: number;
  /** What the workflow itself did beyond looking (continue as new, cancel), with the reason; absent on tests from before. */
  decisions?: ABTestDecision[];
}

export interface ABTestDecision {
  at: string;
  action: 'continue' | 'cancel';
  reason: string;
}

/** What a test hands to its next run when it continues as new. */
export interface ABTestCarry {
  status: ABTestStatus;
  /** When the experiment's window opened (ms since the epoch): elapsed time and counts run from here. */
  startedMs: number;
  monitors: MsprtState[];
  latest?: Look;
  /** Segment guardrails' evidence (absent without any). */
  segmentGuards?: SegmentGuardState;
}

export type ABTestRun = ABTestInput & { carried?: ABTestCarry };

export interface ABTestResult {
  workflowId: string;
  model: string;
  decision: Decision;
  latest: Look;
  looks: number;
  promotion?: RolloutResult;
}

/** Time given to gateways to apply the experiment's split before its window opens. */
const SETTLE_MS = 2000;
/** Looks per run before continuing as new even if Temporal has not suggested it yet (each look is ~5 events). */
const MAX_LOOKS_PER_RUN = 1_000;
const MAX_DECISIONS_KEPT = 100;

export const abStatusQuery = wf.defineQuery<ABTestStatus>('status');
export const stopSignal = wf.defineSignal<[string]>('stop');

export async function ABTest(input: ABTestRun): Promise<ABTestResult> {
  const info = wf.workflowInfo();
  const carried = input.carried;
  const status: ABTestStatus = carried
    ? { ...carried.status, runs: (carried.status.runs ?? 1) + 1 }
    : { workflowId: info.workflowId, model: input.model, versions: input.versions, split: input.split ?? [], state: 'running', looks: 0, elapsedSeconds: 0 };
  wf.setHandler(abStatusQuery, () => status);
  const record = (action: ABTestDecision['action'], reason: string) => {
    status.decisions = [...(status.decisions ?? []), { at: new Date().toISOString(), action, reason }].slice(-MAX_DECISIONS_KEPT);
  };
  let stopReason: string | undefined;
  wf.setHandler(stopSignal, (reason) => void (stopReason = reason || 'stopped by user'));

  const checked = checkABTest(input);
  if (!checked.ok) {
    status.state = 'halted';
    throw ApplicationFailure.create({ type: INVALID_INPUT, message: checked.message, nonRetryable: true });
  }
  const spec = checked.value;
  status.split = spec.split;
  const retry = { initialInterval: '1s', maximumInterval: '20s', nonRetryableErrorTypes: NON_RETRYABLE_TYPES };
  // Reads and weight changes take milliseconds: a short timeout makes a crashed worker's task retry soon.
  // Control queue: reads and weight changes never wait behind training for a slot.
  const acts = proxyControlActivities<Activities>(spec.taskQueues, { startToCloseTimeout: '15 seconds', retry });
  const deploy = proxyControlActivities<Activities>(spec.taskQueues, { startToCloseTimeout: '2 minutes', retry });
  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: spec.model }, { key: PIPELINE_STAGE, value: 'ab-test' }]);

  const control = spec.versions[0]!;
  // Set once the split may have been written (a continued run's was): from then on a cancellation gives the control its traffic back.
  let trafficMoved = carried !== undefined;
  try {
    return await run();
  } catch (err) {
    // Cancelled (UI, CLI, `temporal workflow cancel`): the control takes all traffic again, as when a
    // test ends without a winner, and the test is recorded as cancelled, in a scope the cancellation cannot interrupt.
    if (wf.isCancellation(err) && wf.patched('ab-cancel-cleanup')) {
      await wf.CancellationScope.nonCancellable(async () => {
        if (trafficMoved) await acts.setTrafficWeights({ model: spec.model, weights: { [control]: 10_000 } });
        status.state = 'cancelled';
        record('cancel', `the A/B test workflow was cancelled${trafficMoved ? `; control v${control} takes all traffic again` : ' before any traffic moved'}`);
        wf.setCurrentDetails(`**${spec.model}** A/B test cancelled`);
        wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'ab-cancelled' }]);
      });
    }
    throw err;
  }

  async function run(): Promise<ABTestResult> {
    let started: number;
    if (carried) started = carried.startedMs;
    else {
      // Every arm must load and pass its checks before any traffic moves.
      for (const version of spec.versions) await deploy.deployVersion({ model: spec.model, version });
      const bp = spec.split.map((w) => Math.round(w * 100));
      bp[0]! += 10_000 - bp.reduce((a, b) => a + b, 0); // rounding remainder to the control
      trafficMoved = true;
      await acts.setTrafficWeights({ model: spec.model, weights: Object.fromEntries(spec.versions.map((v, i) => [v, bp[i]!])) });
      // Gateways apply a weight change on NOTIFY within milliseconds (or on their next poll); requests
      // routed by the old weights in between must not count as the experiment's own assignments.
      await wf.sleep(SETTLE_MS);
      started = Date.now();
    }

    let monitors: MsprtState[] = carried?.monitors ?? [];
    let look: Look | undefined = carried?.latest;
    let decision: Decision = { kind: 'continue', reason: 'starting' };
    let looksThisRun = 0;
    // Segment guardrails (a test that names none runs as before, without the marker); a test begun
    // before them replays without: it never judged its segments, whatever its spec said.
    const segmentGuards = spec.guardrails.segments?.length && wf.patched('ab-segment-guardrails') ? spec.guardrails.segments : undefined;
    let guardState: SegmentGuardState | undefined = segmentGuards ? (carried?.segmentGuards ?? initialSegmentGuardState(spec)) : undefined;
    while (decision.kind === 'continue') {
      await wf.condition(() => stopReason !== undefined, spec.checkIntervalSeconds * 1000);
      const counts = await acts.collectExperimentMetrics({ model: spec.model, versions: spec.versions, sinceMs: started, primaryMetric: spec.primaryMetric, ...(segmentGuards ? { segments: segmentGuards } : {}) });
      const arms: ArmData[] = counts.map((c) => ({
        version: c.version,
        requests: c.requests,
        units: c.units,
        errors: c.errors,
        p95LatencyMs: c.p95LatencyMs,
        primary: spec.primaryMetric === 'rating' ? summaryFromSums(c.n, c.sum, c.sumSquares) : proportionFromSums(c.n, c.sum),
      }));
      status.elapsedSeconds = (Date.now() - started) / 1000;
      const r = evaluateLook({ spec, arms, monitors, elapsedSeconds: status.elapsedSeconds });
      monitors = r.monitors;
      look = r.look;
      decision = r.look.decision;
      if (guardState) {
        const g = judgeSegmentGuardrails(spec, guardState, Object.fromEntries(counts.map((c) => [c.version, c.segments])));
        guardState = g.state;
        // As the other guardrails: before any winner, after a sample-ratio mismatch (then nothing can be trusted).
        if (g.trip && decision.kind !== 'srm') {
          decision = { kind: 'guardrail', version: g.trip.version, reason: g.trip.reason };
          look = { ...r.look, decision };
        }
      }
      status.latest = look;
      status.looks++;
      wf.setCurrentDetails(`**${spec.model}** ${spec.versions.map((v) => `v${v}`).join(' vs ')}: look ${status.looks}, ${decision.kind} — ${decision.reason}`);
      if (stopReason !== undefined && decision.kind === 'continue') decision = { kind: 'no-winner', reason: `stopped: ${stopReason}` };
      // Bounded history: continue as new with everything the next look and `status` need.
      if (decision.kind === 'continue' && (++looksThisRun >= MAX_LOOKS_PER_RUN || wf.workflowInfo().continueAsNewSuggested)) {
        if (wf.patched('ab-continue-as-new')) {
          await wf.condition(wf.allHandlersFinished);
          if (stopReason === undefined) {
            record('continue', `continuing as new after ${looksThisRun} looks in run ${status.runs ?? 1} (history ${wf.workflowInfo().historyLength} events)`);
            const next: ABTestCarry = { status, startedMs: started, monitors, latest: look, ...(guardState ? { segmentGuards: guardState } : {}) };
            await wf.continueAsNew<typeof ABTest>({ ...input, carried: next });
          }
        }
      }
    }
    status.decision = decision;
    status.state = decision.kind === 'srm' || decision.kind === 'guardrail' ? 'halted' : stopReason !== undefined ? 'stopped' : 'concluded';
    wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: `ab-${decision.kind}` }]);

    const result: ABTestResult = { workflowId: info.workflowId, model: spec.model, decision, latest: look!, looks: status.looks };
    if (decision.kind === 'winner' && decision.version !== control && spec.promoteWinner) {
      // Back to the control, then let a canary take the winner to champion step by step.
      await acts.setTrafficWeights({ model: spec.model, weights: { [control]: 10_000 } });
      const childId = `canary-${spec.model}`;
      status.promotion = { workflowId: childId };
      const promotion: RolloutResult = await wf.executeChild('CanaryRollout', {
        workflowId: childId,
        taskQueue: info.taskQueue,
        args: [{ model: spec.model, candidateVersion: decision.version, stableVersion: control, steps: [{ weight: 25, pauseSeconds: spec.checkIntervalSeconds * 3 }, { weight: 100, pauseSeconds: 0 }], taskQueues: spec.taskQueues }],
      });
      result.promotion = promotion;
      status.promotion.outcome = promotion.outcome;
    } else {
      // The test's split ends with it: the winner (or, without one, the control) takes all traffic.
      const keep = decision.kind === 'winner' ? decision.version : control;
      await acts.setTrafficWeights({ model: spec.model, weights: { [keep]: 10_000 } });
    }
    return result;
  }
}
