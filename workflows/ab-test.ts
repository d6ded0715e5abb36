/**
 * ABTest: splits a model's traffic between versions (sticky per unit at the gateway), looks at
 * the results every interval with statistics that stay valid under continuous monitoring (mSPRT,
 * Bonferroni across arms), and decides by itself: a winner with its lift and interval, no winner
 * by the maximum duration ("inconclusive"), or a halt when the split itself is broken (SRM) or a
 * guardrail trips. At the end all traffic goes to the winner (or back to the control); with
 * promoteWinner a CanaryRollout child takes the winner to champion instead.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { createActivities } from '../activities/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../config/search-attributes';
import { evaluateLook, type ArmData, type Decision, type Look } from '../lib/experiment/evaluate';
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
  state: 'running' | 'concluded' | 'stopped' | 'halted';
  looks: number;
  elapsedSeconds: number;
  latest?: Look;
  decision?: Decision;
  promotion?: { workflowId: string; outcome?: string };
}

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

export const abStatusQuery = wf.defineQuery<ABTestStatus>('status');
export const stopSignal = wf.defineSignal<[string]>('stop');

export async function ABTest(input: ABTestInput): Promise<ABTestResult> {
  const info = wf.workflowInfo();
  const status: ABTestStatus = { workflowId: info.workflowId, model: input.model, versions: input.versions, split: input.split ?? [], state: 'running', looks: 0, elapsedSeconds: 0 };
  wf.setHandler(abStatusQuery, () => status);
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

  // Every arm must load and pass its checks before any traffic moves.
  for (const version of spec.versions) await deploy.deployVersion({ model: spec.model, version });
  const bp = spec.split.map((w) => Math.round(w * 100));
  bp[0]! += 10_000 - bp.reduce((a, b) => a + b, 0); // rounding remainder to the control
  await acts.setTrafficWeights({ model: spec.model, weights: Object.fromEntries(spec.versions.map((v, i) => [v, bp[i]!])) });
  // Gateways apply a weight change on NOTIFY within milliseconds (or on their next poll); requests
  // routed by the old weights in between must not count as the experiment's own assignments.
  await wf.sleep(SETTLE_MS);
  const started = Date.now();

  let monitors: MsprtState[] = [];
  let look: Look | undefined;
  let decision: Decision = { kind: 'continue', reason: 'starting' };
  while (decision.kind === 'continue') {
    await wf.condition(() => stopReason !== undefined, spec.checkIntervalSeconds * 1000);
    const counts = await acts.collectExperimentMetrics({ model: spec.model, versions: spec.versions, sinceMs: started, primaryMetric: spec.primaryMetric });
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
    status.latest = look;
    status.looks++;
    wf.setCurrentDetails(`**${spec.model}** ${spec.versions.map((v) => `v${v}`).join(' vs ')}: look ${status.looks}, ${decision.kind} — ${decision.reason}`);
    if (stopReason !== undefined && decision.kind === 'continue') decision = { kind: 'no-winner', reason: `stopped: ${stopReason}` };
  }
  status.decision = decision;
  status.state = decision.kind === 'srm' || decision.kind === 'guardrail' ? 'halted' : stopReason !== undefined ? 'stopped' : 'concluded';
  wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: `ab-${decision.kind}` }]);

  const control = spec.versions[0]!;
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
