/**
 * What a canary does after each look, given the judge's verdict: the controller half of Argo
 * Rollouts' step/analysis split. Pure, so the workflow and the decision benchmark
 * (bench/decisions) run the very same rules.
 *
 * Sequential judge: a fail rolls back at once (the evidence is valid at every look). A step ends
 * when its pause is over; the last step below 100% (the gate before the candidate takes all
 * traffic) also needs evidence of no regression in every metric, and waits for it up to
 * maxEvidenceWaitSeconds before it pauses for a person.
 * Fixed-horizon judge (the first one): fails beyond failureLimit roll back; a step ends on a pass
 * after its pause; inconclusiveLimit extra intervals of "not enough data" pause for a person.
 */
import type { AnalysisSpec, RolloutStep } from './spec';

export type StepAction = 'rollback' | 'advance' | 'wait' | 'pause';

export interface StepSituation {
  spec: AnalysisSpec;
  steps: readonly RolloutStep[];
  /** 0-based index of the current step. */
  step: number;
  /** Milliseconds since the current step began. */
  elapsedMs: number;
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** Failed analyses so far, this one included (fixed-horizon's failureLimit). */
  failures: number;
}

/** The step whose end hands the candidate all traffic: the last one below 100%, or the last one. */
export function gateStep(steps: readonly RolloutStep[]): number {
  for (let i = steps.length - 1; i >= 0; i--) if (steps[i]!.weight < 100) return i;
  return steps.length - 1;
}

/** True for a final 100% step without a pause: nothing is left to analyse there. */
export function isUnanalysedFinalStep(steps: readonly RolloutStep[], step: number): boolean {
  const s = steps[step]!;
  return step === steps.length - 1 && s.weight === 100 && s.pauseSeconds === 0;
}

export function stepAction(s: StepSituation): StepAction {
  const pauseMs = s.steps[s.step]!.pauseSeconds * 1000;
  if (s.spec.judge === 'sequential') {
    if (s.verdict === 'fail') return 'rollback';
    if (s.elapsedMs < pauseMs) return 'wait';
    if (s.step !== gateStep(s.steps) || s.verdict === 'pass') return 'advance';
    return s.elapsedMs >= pauseMs + s.spec.maxEvidenceWaitSeconds * 1000 ? 'pause' : 'wait';
  }
  if (s.verdict === 'fail' && s.failures > s.spec.failureLimit) return 'rollback';
  if (s.elapsedMs < pauseMs) return 'wait';
  if (s.verdict === 'pass') return 'advance';
  if (s.verdict === 'inconclusive' && s.elapsedMs >= pauseMs + s.spec.inconclusiveLimit * s.spec.intervalSeconds * 1000) return 'pause';
  return 'wait';
}
