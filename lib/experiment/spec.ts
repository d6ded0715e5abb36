/** An A/B test of model versions, as declared by its user; validated with one line naming the field. */
import { MAX_SEGMENT_GUARDRAILS, segmentGuardrailsProblem, type SegmentGuardrail } from '../rollout/spec';
import type { ActivityTaskQueues } from '../task-queues';

export interface ABGuardrails {
  maxErrorRate?: number;
  maxP95LatencyMs?: number;
  /**
   * Segments (`plan=pro`) in which every arm is compared with the control on errors and wrong
   * labels at every look (lib/experiment/segment-guardrails.ts): an arm worse there, with
   * anytime-valid evidence, halts the test (that arm loses) even while its average holds.
   */
  segments?: SegmentGuardrail[];
  /** The probability of halting for an arm no worse than the control in any named segment, over the whole test, split over every (segment, arm, metric). Default 0.01. */
  segmentAlpha?: number;
}
export type PrimaryMetric = 'accuracy' | 'click-rate' | 'rating';

export interface ABTestInput {
  model: string;
  /** Versions in the test; the first is the control every other arm is compared with. */
  versions: string[];
  /** Traffic split in percent, same order as versions; sums to 100. Default: equal. */
  split?: number[];
  primaryMetric: PrimaryMetric;
  /** Mixing variance τ² of the mSPRT, fixed in advance, in squared units of the metric (the CLI derives it from the MDE: lib/experiment/plan.ts). */
  tau2: number;
  alpha?: number;
  /** Guardrails: an arm whose error rate or p95 latency exceeds these stops the test (that arm loses). */
  guardrails?: ABGuardrails;
  /** No decision before both: per-arm primary-metric observations and seconds since start. */
  minSamplePerArm?: number;
  minDurationSeconds?: number;
  /** After this the test ends "inconclusive". */
  maxDurationSeconds: number;
  /** Once every arm has this many primary-metric observations the test ends "inconclusive" (the planned maximum sample). Default: none. */
  maxSamplePerArm?: number;
  checkIntervalSeconds?: number;
  /**
   * α of the sequential sample-ratio-mismatch test (lib/stats/sequential-multinomial): the test
   * halts once the e-value reaches 1/α, and a correct split is halted at most α of the time
   * however many looks there are. Default 0.001.
   */
  srmThreshold?: number;
  /** Promote the winner through a CanaryRollout child workflow. */
  promoteWinner?: boolean;
  /** `control` is optional: inputs from before the control queue run their quick calls on `cpu`. */
  taskQueues: ActivityTaskQueues;
}

export interface NormalisedABTest extends ABTestInput {
  split: number[];
  alpha: number;
  guardrails: ABGuardrails;
  minSamplePerArm: number;
  minDurationSeconds: number;
  checkIntervalSeconds: number;
  srmThreshold: number;
  promoteWinner: boolean;
}

export function checkABTest(input: ABTestInput): { ok: true; value: NormalisedABTest } | { ok: false; message: string } {
  if (!input.model) return { ok: false, message: 'model is required' };
  if (!Array.isArray(input.versions) || input.versions.length < 2) return { ok: false, message: 'versions: an A/B test needs at least two versions' };
  if (new Set(input.versions).size !== input.versions.length) return { ok: false, message: `versions: each version may appear once (got ${input.versions.join(', ')})` };
  for (const v of input.versions) if (!/^\d+$/.test(v)) return { ok: false, message: `versions: "${v}" is not a registry version number` };
  const split = input.split ?? input.versions.map(() => 100 / input.versions.length);
  if (split.length !== input.versions.length) return { ok: false, message: `split: ${split.length} weights for ${input.versions.length} versions` };
  if (split.some((w) => !(w > 0 && w < 100))) return { ok: false, message: `split: every weight must be > 0 and < 100 (got ${split.join(', ')})` };
  if (Math.abs(split.reduce((a, b) => a + b, 0) - 100) > 1e-6) return { ok: false, message: `split: weights must sum to 100 (got ${split.reduce((a, b) => a + b, 0)})` };
  if (!['accuracy', 'click-rate', 'rating'].includes(input.primaryMetric)) return { ok: false, message: `primary metric must be accuracy, click-rate or rating (got ${String(input.primaryMetric)})` };
  if (!(Number.isFinite(input.tau2) && input.tau2 > 0)) return { ok: false, message: `tau2 (the mSPRT mixing variance) must be > 0 (got ${input.tau2})` };
  const alpha = input.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 0.5)) return { ok: false, message: `alpha must be > 0 and < 0.5 (got ${alpha})` };
  const minSamplePerArm = input.minSamplePerArm ?? 100;
  const minDurationSeconds = input.minDurationSeconds ?? 0;
  const checkIntervalSeconds = input.checkIntervalSeconds ?? 10;
  if (!(Number.isInteger(minSamplePerArm) && minSamplePerArm >= 30)) return { ok: false, message: `minSamplePerArm must be an integer >= 30 (got ${minSamplePerArm})` };
  if (!(checkIntervalSeconds >= 1 && checkIntervalSeconds <= 3600)) return { ok: false, message: `checkIntervalSeconds must be between 1 and 3600 (got ${checkIntervalSeconds})` };
  if (!(input.maxDurationSeconds > 0)) return { ok: false, message: `maxDurationSeconds must be > 0 (got ${input.maxDurationSeconds})` };
  if (!(minDurationSeconds >= 0 && minDurationSeconds <= input.maxDurationSeconds)) return { ok: false, message: `minDurationSeconds must be between 0 and maxDurationSeconds (got ${minDurationSeconds})` };
  const srmThreshold = input.srmThreshold ?? 0.001;
  if (!(srmThreshold > 0 && srmThreshold < 0.5)) return { ok: false, message: `srmThreshold (α of the sequential sample-ratio test) must be > 0 and < 0.5 (got ${srmThreshold})` };
  if (input.maxSamplePerArm !== undefined && !(Number.isInteger(input.maxSamplePerArm) && input.maxSamplePerArm >= minSamplePerArm)) {
    return { ok: false, message: `maxSamplePerArm must be an integer >= minSamplePerArm (${minSamplePerArm}) (got ${input.maxSamplePerArm})` };
  }
  const segments = input.guardrails?.segments;
  if (segments !== undefined) {
    if (!Array.isArray(segments)) return { ok: false, message: 'guardrails.segments must be a list of { attribute, value }' };
    if (segments.length > MAX_SEGMENT_GUARDRAILS) return { ok: false, message: `guardrails.segments: at most ${MAX_SEGMENT_GUARDRAILS} (got ${segments.length})` };
    const problem = segmentGuardrailsProblem(segments, 'guardrails.segments');
    if (problem) return { ok: false, message: problem };
  }
  const segmentAlpha = input.guardrails?.segmentAlpha;
  if (segmentAlpha !== undefined && !(segmentAlpha > 0 && segmentAlpha < 0.5)) return { ok: false, message: `guardrails.segmentAlpha must be > 0 and < 0.5 (got ${segmentAlpha})` };
  if (!input.taskQueues?.cpu) return { ok: false, message: 'taskQueues.cpu is required' };
  return {
    ok: true,
    value: { ...input, split, alpha, guardrails: input.guardrails ?? {}, minSamplePerArm, minDurationSeconds, checkIntervalSeconds, srmThreshold, promoteWinner: input.promoteWinner ?? false },
  };
}
