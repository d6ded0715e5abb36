/**
 * A/B segment guardrails: within each named segment (`plan=pro`), every arm against the control on
 * the error rate (errors out of requests) and the wrong-label rate (wrong out of labelled
 * predictions), by the canary's exact conditional two-sample e-process on the odds ratio
 * (lib/stats/e-processes.ts, null ψ ≤ 1: the arm no worse than the control there). The activity
 * reports cumulative counts since the test began; each look adds what is new since the last one,
 * so the evidence is the same as if it had been fed window by window and stays valid at every look.
 * The guardrails' α (segmentAlpha) is split equally over every (segment, arm, metric) test
 * (Bonferroni holds for e-processes at any stopping time): an arm no worse than the control in
 * every named segment halts the test with probability ≤ segmentAlpha however long it runs.
 * Pure: the workflow keeps the state and calls this on numbers an activity fetched.
 */
import { mixtureLogE, twoSampleUpdate } from '../stats/e-processes';
import { HARM_FACTORS, type SegmentWindow } from '../rollout/sequential-judge';
import { segmentName } from '../rollout/spec';
import type { NormalisedABTest } from './spec';

/** Cumulative since the test began: a version's counts within one segment. */
export type SegmentCounts = SegmentWindow;

export const DEFAULT_SEGMENT_ALPHA = 0.01;
const METRICS = ['errorRate', 'accuracy'] as const;
type SegmentMetric = (typeof METRICS)[number];

export interface SegmentTestEvidence {
  segment: string;
  version: string;
  metric: SegmentMetric;
  harm: number[];
  harmMaxLogE: number;
  arm: { events: number; trials: number };
  control: { events: number; trials: number };
}

/** Plain JSON, carried across continue-as-new. */
export interface SegmentGuardState {
  tests: SegmentTestEvidence[];
}

export interface SegmentTrip {
  version: string;
  segment: string;
  reason: string;
}

export function initialSegmentGuardState(spec: NormalisedABTest): SegmentGuardState {
  const [, ...arms] = spec.versions;
  return {
    tests: (spec.guardrails.segments ?? []).flatMap((g) =>
      arms.flatMap((version) => METRICS.map((metric) => ({ segment: segmentName(g), version, metric, harm: HARM_FACTORS.map(() => 0), harmMaxLogE: 0, arm: { events: 0, trials: 0 }, control: { events: 0, trials: 0 } }))),
    ),
  };
}

const countsOf = (metric: SegmentMetric, c: SegmentCounts | undefined) => (!c ? { events: 0, trials: 0 } : metric === 'accuracy' ? { events: c.incorrect, trials: c.labelled } : { events: c.errors, trials: c.requests });
const NAMES: Record<SegmentMetric, string> = { errorRate: 'error rate', accuracy: 'wrong-label rate' };
const fmtRate = (c: { events: number; trials: number }) => (c.trials ? `${Number((c.events / c.trials).toPrecision(3))} (${c.events}/${c.trials})` : 'n/a (0/0)');

/**
 * One look: `counts[version][i]` is the version's cumulative counts within the i-th guardrail's
 * segment. Returns the new state and the first arm found worse than the control in a segment, if any.
 */
export function judgeSegmentGuardrails(spec: NormalisedABTest, state: SegmentGuardState, counts: Record<string, SegmentCounts[] | undefined>): { state: SegmentGuardState; trip: SegmentTrip | undefined; threshold: number } {
  const guards = spec.guardrails.segments ?? [];
  const alpha = spec.guardrails.segmentAlpha ?? DEFAULT_SEGMENT_ALPHA;
  const threshold = Math.max(1, state.tests.length) / alpha;
  const control = spec.versions[0]!;
  let trip: SegmentTrip | undefined;
  const tests = state.tests.map((t) => {
    const gi = guards.findIndex((g) => segmentName(g) === t.segment);
    const arm = countsOf(t.metric, counts[t.version]?.[gi]);
    const ctl = countsOf(t.metric, counts[control]?.[gi]);
    // What is new since the last look (never negative: a count that went down adds nothing).
    const d = (now: { events: number; trials: number }, before: { events: number; trials: number }) => {
      const trials = Math.max(0, now.trials - before.trials);
      return { events: Math.min(trials, Math.max(0, now.events - before.events)), trials };
    };
    const da = d(arm, t.arm);
    const dc = d(ctl, t.control);
    const harm = twoSampleUpdate(t.harm, HARM_FACTORS.map((f) => Math.log(f)), 0, { candidateEvents: da.events, candidateTrials: da.trials, stableEvents: dc.events, stableTrials: dc.trials });
    const next: SegmentTestEvidence = { ...t, harm, harmMaxLogE: Math.max(t.harmMaxLogE, mixtureLogE(harm)), arm: { events: Math.max(arm.events, t.arm.events), trials: Math.max(arm.trials, t.arm.trials) }, control: { events: Math.max(ctl.events, t.control.events), trials: Math.max(ctl.trials, t.control.trials) } };
    if (!trip && next.harmMaxLogE >= Math.log(threshold)) {
      trip = {
        version: t.version,
        segment: t.segment,
        reason: `guardrail: v${t.version} is worse than control v${control} within segment ${t.segment}: ${NAMES[t.metric]} ${fmtRate(next.arm)} vs ${fmtRate(next.control)} (anytime-valid evidence E = ${Number(Math.exp(next.harmMaxLogE).toPrecision(3))} ≥ ${Number(threshold.toPrecision(3))} = ${state.tests.length}/${alpha})`,
      };
    }
    return next;
  });
  return { state: { tests }, trip, threshold };
}
