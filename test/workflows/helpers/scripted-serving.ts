/**
 * Scripted serving-plane activities for the canary and A/B workflows, under the real activity
 * names and with the real input/output shapes (activities/canary.ts, traffic.ts, deploy.ts,
 * experiment.ts). Traffic weights are state here, as in PostgreSQL: a weight change moves the
 * traffic every later window counts. Each version serves a scripted behaviour; the windows the
 * workflow reads are what that behaviour produces at the current split over the window's span of
 * (server) time, deterministic counts rather than random draws. The workflow's judge, controller
 * and steering run for real on these numbers.
 */
import { Context } from '@temporalio/activity';
import type { SegmentWindow, VersionWindow } from '../../../lib/rollout/sequential-judge';
import type { ArmCounts } from '../../../activities/experiment';
import { CallLog } from './time-skipping';

export interface Behaviour {
  /** Share of requests answered with an error. */
  errorRate: number;
  /** Mean of the (exponential) latency of successful requests, ms: p95 = mean·ln 20, p99 = mean·ln 100. */
  meanLatencyMs: number;
  /** Share of successful predictions whose label arrives (during the window it is counted in). */
  labelShare: number;
  /** Share of labelled predictions that were wrong. */
  wrongRate: number;
}

export const HEALTHY: Behaviour = { errorRate: 0.01, meanLatencyMs: 30, labelShare: 0.5, wrongRate: 0.1 };

export interface ScriptedServingOptions {
  model: string;
  /** Versions already deployed and their weights in basis points (the stable one at 10000). */
  weights: Record<string, number>;
  /** Requests per second the model receives, split by the current weights. */
  rps: number;
  behaviour: Record<string, Behaviour>;
  /**
   * Segments (`plan=pro`): their share of each version's requests and each version's behaviour
   * within them (the whole's `behaviour` is the caller's to keep consistent with it).
   */
  segments?: Record<string, { share: number; behaviour: Record<string, Behaviour> }>;
}

export function scriptedServing(opts: ScriptedServingOptions) {
  const log = new CallLog();
  const weights: Record<string, number> = { ...opts.weights };
  const states: Record<string, 'active' | 'rejected' | 'retired'> = Object.fromEntries(Object.keys(weights).map((v) => [v, 'active']));
  let revision = 1;
  const record = (name: string, input: unknown) => log.record(name, structuredClone(input), Context.current().info.currentAttemptScheduledTimestampMs);
  const behaviourOf = (v: string) => {
    const b = opts.behaviour[v];
    if (!b) throw new Error(`no scripted behaviour for version ${v}`);
    return b;
  };
  const served = (v: string, ms: number) => Math.round((opts.rps * ((weights[v] ?? 0) / 10_000) * Math.max(0, ms)) / 1000);
  const shareAbove = (b: Behaviour, thresholdMs: number) => Math.exp(-thresholdMs / b.meanLatencyMs);
  const segmentWindow = (name: string, version: string, requests: number): SegmentWindow => {
    const seg = opts.segments?.[name];
    if (!seg) return { requests: 0, errors: 0, labelled: 0, incorrect: 0 };
    const b = seg.behaviour[version] ?? behaviourOf(version);
    const n = Math.round(requests * seg.share);
    const errors = Math.round(n * b.errorRate);
    const labelled = Math.round((n - errors) * b.labelShare);
    return { requests: n, errors, labelled, incorrect: Math.round(labelled * b.wrongRate) };
  };

  const activities = {
    async deployVersion(input: { model: string; version: string }) {
      record('deployVersion', input);
      if (!(input.version in weights)) (weights[input.version] = 0), (states[input.version] = 'active');
      return { model: input.model, version: input.version, onnxUri: `mem://${input.model}/${input.version}.onnx`, onnxSha256: '0'.repeat(64), nFeatures: 4, classes: ['a', 'b', 'c'], state: 'active' as const, weight: weights[input.version]!, first: false };
    },
    async getTrafficWeights(input: { model: string }) {
      record('getTrafficWeights', input);
      return { model: input.model, revision, weights: { ...weights }, versions: Object.keys(weights).map((v) => ({ version: v, state: states[v]!, weight: weights[v]! })) };
    },
    async setTrafficWeights(input: { model: string; weights: Record<string, number> }) {
      record('setTrafficWeights', input);
      const sum = Object.values(input.weights).reduce((a, b) => a + b, 0);
      if (sum !== 10_000) throw new Error(`weights must sum to 10000 (got ${sum})`);
      const previous = { ...weights };
      for (const v of Object.keys(weights)) weights[v] = input.weights[v] ?? 0;
      revision++;
      return { model: input.model, previous, weights: { ...weights }, revision, changed: true };
    },
    async rejectCandidate(input: { model: string; version: string; reason: string; workflowId: string }) {
      record('rejectCandidate', input);
      states[input.version] = 'rejected';
    },
    async promoteChampion(input: { model: string; version: string; reason: string; workflowId: string }) {
      record('promoteChampion', input);
    },
    async collectRolloutWindow(input: { model: string; versions: Array<{ version: string; thresholds: Record<string, number> }>; fromMs: number; toMs: number; predictionsSinceMs: number; quantilesFromMs?: number; segments?: Array<{ attribute: string; value: string }> }): Promise<Record<string, VersionWindow & { segments?: SegmentWindow[] }>> {
      record('collectRolloutWindow', input);
      const out: Record<string, VersionWindow & { segments?: SegmentWindow[] }> = {};
      for (const { version, thresholds } of input.versions) {
        const b = behaviourOf(version);
        const requests = served(version, input.toMs - input.fromMs);
        const errors = Math.round(requests * b.errorRate);
        const ok = requests - errors;
        const labelled = Math.round(ok * b.labelShare);
        const quantileOk = Math.round(served(version, input.toMs - Math.min(input.quantilesFromMs ?? input.fromMs, input.fromMs)) * (1 - b.errorRate));
        out[version] = {
          requests,
          errors,
          ok,
          labelled,
          incorrect: Math.round(labelled * b.wrongRate),
          above: Object.fromEntries(Object.entries(thresholds).map(([k, t]) => [k, Math.round(ok * shareAbove(b, t))])),
          p95Ms: quantileOk ? b.meanLatencyMs * Math.log(20) : null,
          p99Ms: quantileOk ? b.meanLatencyMs * Math.log(100) : null,
          quantileCount: quantileOk,
          ...(input.segments ? { segments: input.segments.map((g) => segmentWindow(`${g.attribute}=${g.value}`, version, requests)) } : {}),
        };
      }
      return out;
    },
    async collectExperimentMetrics(input: { model: string; versions: string[]; sinceMs: number; primaryMetric: string; segments?: Array<{ attribute: string; value: string }> }): Promise<ArmCounts[]> {
      record('collectExperimentMetrics', input);
      const now = Context.current().info.currentAttemptScheduledTimestampMs;
      return input.versions.map((version) => {
        const b = behaviourOf(version);
        const requests = served(version, now - input.sinceMs);
        const errors = Math.round(requests * b.errorRate);
        const n = Math.round((requests - errors) * b.labelShare);
        const correct = Math.round(n * (1 - b.wrongRate));
        const segments = input.segments ? { segments: input.segments.map((g) => segmentWindow(`${g.attribute}=${g.value}`, version, requests)) } : {};
        return { version, requests, units: Math.round(requests / 4), errors, p95LatencyMs: requests ? b.meanLatencyMs * Math.log(20) : null, n, sum: correct, sumSquares: correct, ...segments };
      });
    },
  };
  return { activities, log, weights, states };
}
