/**
 * A canary rollout, declared as Argo Rollouts does: steps (traffic weight + pause) and an analysis
 * that decides. Validation gives one line naming the field, for the CLI edge and the workflow alike.
 *
 * Two judges read the same spec. `sequential` (the default, lib/rollout/sequential-judge.ts) keeps
 * anytime-valid evidence over the whole rollout: its false-rollback probability is bounded by
 * `alpha` however often it looks, and it promotes only once the data exclude the regression that
 * matters (`regression`). `fixed-horizon` (lib/rollout/analyse.ts, the first judge) re-tests each
 * step's window at every interval and is kept for comparison only.
 */
export type RolloutMetric = 'errorRate' | 'p95LatencyMs' | 'p99LatencyMs' | 'accuracy';
export const ROLLOUT_METRICS: readonly RolloutMetric[] = ['errorRate', 'p95LatencyMs', 'p99LatencyMs', 'accuracy'];
export type RolloutJudge = 'sequential' | 'fixed-horizon';

export interface MetricCheck {
  metric: RolloutMetric;
  /** errorRate / p95LatencyMs: the candidate fails above this. */
  maxAbsolute?: number;
  /** accuracy: the candidate fails below this. */
  minAbsolute?: number;
  /**
   * Tolerated relative worsening against stable before the candidate is judged harmful (0.2 = 20%
   * worse). Sequential judge: rates on the odds scale (errors, wrong labels); latency by comparing
   * the candidate's share of requests above (1 + this) × stable's quantile with stable's share above it.
   */
  maxRelativeChange?: number;
  /**
   * Sequential judge: the regression that must be excluded before the candidate takes all traffic,
   * relative to stable's rate (1 = twice the rate: errors, wrong labels, requests above stable's
   * quantile) …
   */
  regression?: number;
  /** … or, when larger, absolute (rate points: 0.005 = half a percentage point), so a zero base rate still allows a decision. */
  regressionAbsolute?: number;
  /** Fixed-horizon judge only: Mann-Whitney for latency, two-proportion z for rates. */
  judge?: 'mann-whitney' | 'two-proportion' | 'none';
  /** Fixed-horizon judge only: confidence of the judge (Kayenta's default 0.98). */
  confidence?: number;
}

export interface AnalysisSpec {
  judge: RolloutJudge;
  intervalSeconds: number;
  metrics: MetricCheck[];
  /** Sequential: probability of rolling back a candidate no worse than tolerated, over the whole rollout (all metrics, looks and steps). */
  alpha: number;
  /** Sequential: probability, per metric, of promoting a candidate that regresses by `regression` in it. */
  promotionAlpha: number;
  /** Sequential: after the last step's pause, how long to wait for evidence of no regression before pausing for a person. */
  maxEvidenceWaitSeconds: number;
  /** Fixed-horizon: candidate requests an analysis needs in its window before it may pass or fail on rates. */
  minSamplePerStep: number;
  /** Fixed-horizon: labelled candidate predictions needed before accuracy is judged. */
  minLabelledSample: number;
  /** Fixed-horizon: failed analyses tolerated over the rollout; one more rolls back (Argo's failureLimit; default 0). */
  failureLimit: number;
  /** Fixed-horizon: extra analysis intervals a step may wait for enough data after its pause before the rollout pauses for a human. */
  inconclusiveLimit: number;
  /**
   * Sequential: segments (one value of a caller's `segment` attribute, e.g. plan=pro) in which the
   * candidate is also compared with stable, on the error rate and wrong-label rate only, at every
   * look: harm inside one rolls back with a reason naming it even while the whole holds. Each adds
   * harm tests that share `alpha` with the rollout's other checks (lib/rollout/sequential-judge.ts).
   */
  segmentGuardrails?: SegmentGuardrail[];
}

export interface SegmentGuardrail {
  attribute: string;
  value: string;
}

/** Segment guardrails a rollout may name: each costs a bounded query per look and a share of α. */
export const MAX_SEGMENT_GUARDRAILS = 8;
/** As the gateway stores segment keys (≤ 64 characters, values ≤ 256; serving/schemas.ts), less `=`, which the CLI form splits on. Passed to SQL as bound parameters only. */
const SEGMENT_ATTRIBUTE = /^[^=\u0000-\u001f]{1,64}$/;

export const segmentName = (g: SegmentGuardrail) => `${g.attribute}=${g.value}`;

/** "plan=pro" → { attribute: 'plan', value: 'pro' } (the CLI's --segment-guardrail). */
export function parseSegmentGuardrail(text: string): { ok: true; value: SegmentGuardrail } | { ok: false; message: string } {
  const at = text.indexOf('=');
  if (at <= 0) return { ok: false, message: `segment guardrail "${text}" must be ATTRIBUTE=VALUE, e.g. plan=pro` };
  const g = { attribute: text.slice(0, at).trim(), value: text.slice(at + 1).trim() };
  const problem = segmentGuardrailProblem(g);
  return problem ? { ok: false, message: `segment guardrail "${text}": ${problem}` } : { ok: true, value: g };
}

/** A list of guardrails (canary or A/B): each well formed, none twice. One line naming the field, or undefined. */
export function segmentGuardrailsProblem(guardrails: SegmentGuardrail[], field: string): string | undefined {
  for (const [i, g] of guardrails.entries()) {
    const problem = segmentGuardrailProblem(g);
    if (problem) return `${field}[${i}].${problem}`;
    if (guardrails.findIndex((o) => segmentName(o) === segmentName(g)) !== i) return `${field}[${i}] ${segmentName(g)} appears twice`;
  }
  return undefined;
}

function segmentGuardrailProblem(g: SegmentGuardrail): string | undefined {
  if (typeof g?.attribute !== 'string' || !SEGMENT_ATTRIBUTE.test(g.attribute)) return `attribute must match ${SEGMENT_ATTRIBUTE.source} (got ${JSON.stringify(g?.attribute)})`;
  if (typeof g.value !== 'string' || g.value.length === 0 || g.value.length > 256) return `value must be a non-empty string of at most 256 characters (got ${JSON.stringify(g.value)})`;
  return undefined;
}

export interface RolloutStep {
  /** Candidate traffic in percent (0 < weight ≤ 100; 0 on a shadow step). */
  weight: number;
  /** Seconds to stay at this weight while the analysis runs. */
  pauseSeconds: number;
  /**
   * A shadow step (only first, `shadow:10m`): the candidate answers every request beside the stable
   * version, after the reply, and no user sees its answers (weight 0); judged on the same requests
   * (lib/shadow/judge.ts) at every look, rolled back before any exposure when found worse.
   */
  shadow?: true;
}

export interface CanaryRolloutInput {
  model: string;
  candidateVersion: string;
  /** Default: the version currently taking the most traffic. */
  stableVersion?: string;
  steps: RolloutStep[];
  analysis?: Partial<AnalysisSpec>;
  taskQueues: { cpu: string; control?: string };
}

export interface NormalisedRollout extends CanaryRolloutInput {
  analysis: AnalysisSpec;
}

/**
 * The sequential judge's metrics: any significant worsening of errors or accuracy is harm; latency
 * tails (p95, p99) 10% slower than stable's are tolerated. To take all traffic, the candidate must
 * show it does not double errors (or add half a point), does not double the share of requests
 * beyond stable's p95/p99, and loses no more than half again stable's wrong labels (or 2 points).
 */
export const SEQUENTIAL_METRICS: MetricCheck[] = [
  { metric: 'errorRate', maxRelativeChange: 0, regression: 0.5, regressionAbsolute: 0.0025 },
  { metric: 'p95LatencyMs', maxRelativeChange: 0.1, regression: 1 },
  { metric: 'p99LatencyMs', maxRelativeChange: 0.1, regression: 1 },
  { metric: 'accuracy', maxRelativeChange: 0, regression: 0.3, regressionAbsolute: 0.02 },
];

/** The first judge's metrics (fixed-horizon): kept as they were, for comparison. */
export const FIXED_HORIZON_METRICS: MetricCheck[] = [
  { metric: 'errorRate', maxAbsolute: 0.05, maxRelativeChange: 0.5, judge: 'two-proportion' },
  { metric: 'p95LatencyMs', maxAbsolute: 250, maxRelativeChange: 0.5, judge: 'mann-whitney' },
  { metric: 'accuracy', maxRelativeChange: 0.05, judge: 'two-proportion' },
];

export const DEFAULT_ANALYSIS: AnalysisSpec = {
  judge: 'sequential',
  intervalSeconds: 10,
  metrics: SEQUENTIAL_METRICS,
  alpha: 0.01,
  promotionAlpha: 0.02,
  maxEvidenceWaitSeconds: 7200,
  minSamplePerStep: 100,
  minLabelledSample: 50,
  failureLimit: 0,
  inconclusiveLimit: 6,
};

export const DEFAULT_STEPS: RolloutStep[] = [
  { weight: 5, pauseSeconds: 30 },
  { weight: 25, pauseSeconds: 30 },
  { weight: 50, pauseSeconds: 30 },
  { weight: 100, pauseSeconds: 0 },
];

/** "shadow:10m,5:30s,25:1m,50:1m,100" → steps; a missing pause means 0. */
export function parseSteps(text: string): { ok: true; steps: RolloutStep[] } | { ok: false; message: string } {
  const steps: RolloutStep[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const shadow = /^shadow:(\d+(?:\.\d+)?)(s|m|h)?$/.exec(part);
    if (shadow) {
      const unit = shadow[2] === 'h' ? 3600 : shadow[2] === 'm' ? 60 : 1;
      steps.push({ weight: 0, pauseSeconds: Number(shadow[1]) * unit, shadow: true });
      continue;
    }
    if (part.startsWith('shadow')) return { ok: false, message: `steps: "${part}" must be shadow:DURATION, e.g. shadow:10m` };
    const m = /^(\d+(?:\.\d+)?)%?(?::(\d+(?:\.\d+)?)(s|m|h)?)?$/.exec(part);
    if (!m) return { ok: false, message: `steps: "${part}" must be WEIGHT[:PAUSE], e.g. 25:60s` };
    const unit = m[3] === 'h' ? 3600 : m[3] === 'm' ? 60 : 1;
    steps.push({ weight: Number(m[1]), pauseSeconds: m[2] === undefined ? 0 : Number(m[2]) * unit });
  }
  return { ok: true, steps };
}

export function checkRollout(input: CanaryRolloutInput): { ok: true; value: NormalisedRollout } | { ok: false; message: string } {
  if (!input.model) return { ok: false, message: 'model is required' };
  if (!/^\d+$/.test(String(input.candidateVersion ?? ''))) return { ok: false, message: `candidate version must be a registry version number (got ${String(input.candidateVersion)})` };
  if (input.stableVersion !== undefined && !/^\d+$/.test(input.stableVersion)) return { ok: false, message: `stable version must be a registry version number (got ${input.stableVersion})` };
  if (input.stableVersion === input.candidateVersion) return { ok: false, message: `candidate and stable are the same version (${input.candidateVersion})` };
  if (!Array.isArray(input.steps) || input.steps.length === 0) return { ok: false, message: 'steps: at least one step is required' };
  let previous = 0;
  const intervalSeconds = input.analysis?.intervalSeconds ?? DEFAULT_ANALYSIS.intervalSeconds;
  for (const [i, s] of input.steps.entries()) {
    if (s.shadow !== undefined) {
      if (s.shadow !== true || i !== 0) return { ok: false, message: `steps[${i}]: only the first step may be a shadow step` };
      if (s.weight !== 0) return { ok: false, message: `steps[${i}].weight must be 0 on a shadow step (no user sees the candidate's answers; got ${s.weight})` };
      if (input.steps.length < 2) return { ok: false, message: 'steps: a shadow step must be followed by a traffic step' };
      // Its looks are not carried over a continue-as-new: a bounded number keeps its history small.
      if (!(s.pauseSeconds > 0 && s.pauseSeconds <= 1000 * intervalSeconds)) return { ok: false, message: `steps[${i}].pauseSeconds of a shadow step must be above 0 and at most 1000 analysis intervals (${1000 * intervalSeconds}s; got ${s.pauseSeconds})` };
      continue;
    }
    if (!(s.weight > 0 && s.weight <= 100)) return { ok: false, message: `steps[${i}].weight must be > 0 and <= 100 (got ${s.weight})` };
    if (s.weight < previous) return { ok: false, message: `steps[${i}].weight ${s.weight} is below the previous step's ${previous}: weights must not decrease` };
    if (!(Number.isFinite(s.pauseSeconds) && s.pauseSeconds >= 0 && s.pauseSeconds <= 7 * 86400)) return { ok: false, message: `steps[${i}].pauseSeconds must be between 0 and 604800 (got ${s.pauseSeconds})` };
    previous = s.weight;
  }
  const judge = input.analysis?.judge ?? DEFAULT_ANALYSIS.judge;
  if (!['sequential', 'fixed-horizon'].includes(judge)) return { ok: false, message: `analysis.judge must be sequential or fixed-horizon (got ${String(judge)})` };
  if (judge !== 'sequential' && input.steps[0]!.shadow) return { ok: false, message: 'steps[0]: a shadow step is judged by the sequential judge only (analysis.judge sequential)' };
  const analysis: AnalysisSpec = {
    ...DEFAULT_ANALYSIS,
    metrics: judge === 'sequential' ? SEQUENTIAL_METRICS : FIXED_HORIZON_METRICS,
    ...(input.analysis ?? {}),
    judge,
  };
  for (const key of ['alpha', 'promotionAlpha'] as const) {
    if (!(analysis[key] > 0 && analysis[key] < 0.5)) return { ok: false, message: `analysis.${key} must be > 0 and < 0.5 (got ${analysis[key]})` };
  }
  if (!(analysis.maxEvidenceWaitSeconds >= 0 && analysis.maxEvidenceWaitSeconds <= 30 * 86400)) return { ok: false, message: `analysis.maxEvidenceWaitSeconds must be between 0 and 2592000 (got ${analysis.maxEvidenceWaitSeconds})` };
  if (!(analysis.intervalSeconds >= 1 && analysis.intervalSeconds <= 3600)) return { ok: false, message: `analysis.intervalSeconds must be between 1 and 3600 (got ${analysis.intervalSeconds})` };
  for (const key of ['minSamplePerStep', 'minLabelledSample', 'failureLimit', 'inconclusiveLimit'] as const) {
    if (!(Number.isInteger(analysis[key]) && analysis[key] >= 0)) return { ok: false, message: `analysis.${key} must be a non-negative integer (got ${analysis[key]})` };
  }
  if (!Array.isArray(analysis.metrics) || analysis.metrics.length === 0) return { ok: false, message: 'analysis.metrics: at least one metric is required' };
  for (const [i, m] of analysis.metrics.entries()) {
    if (!ROLLOUT_METRICS.includes(m.metric)) return { ok: false, message: `analysis.metrics[${i}].metric must be one of ${ROLLOUT_METRICS.join(', ')} (got ${String(m.metric)})` };
    if (analysis.metrics.findIndex((o) => o.metric === m.metric) !== i) return { ok: false, message: `analysis.metrics[${i}].metric ${m.metric} appears twice` };
    for (const key of ['maxAbsolute', 'minAbsolute', 'maxRelativeChange', 'regression', 'regressionAbsolute'] as const) {
      if (m[key] !== undefined && !(Number.isFinite(m[key]) && m[key]! >= 0)) return { ok: false, message: `analysis.metrics[${i}].${key} must be a number >= 0 (got ${m[key]})` };
    }
    if (m.metric === 'accuracy' && m.maxAbsolute !== undefined) return { ok: false, message: `analysis.metrics[${i}]: accuracy takes minAbsolute, not maxAbsolute` };
    for (const key of ['maxAbsolute', 'minAbsolute', 'regressionAbsolute'] as const) {
      if (m.metric !== 'p95LatencyMs' && m.metric !== 'p99LatencyMs' && m[key] !== undefined && m[key]! >= 1) return { ok: false, message: `analysis.metrics[${i}].${key} is a rate and must be < 1 (got ${m[key]})` };
    }
    if (m.confidence !== undefined && !(m.confidence > 0.5 && m.confidence < 1)) return { ok: false, message: `analysis.metrics[${i}].confidence must be > 0.5 and < 1 (got ${m.confidence})` };
    if (m.judge !== undefined && !['mann-whitney', 'two-proportion', 'none'].includes(m.judge)) return { ok: false, message: `analysis.metrics[${i}].judge must be mann-whitney, two-proportion or none (got ${m.judge})` };
  }
  const guardrails = analysis.segmentGuardrails;
  if (guardrails !== undefined) {
    if (!Array.isArray(guardrails)) return { ok: false, message: 'analysis.segmentGuardrails must be a list of { attribute, value }' };
    if (guardrails.length && judge !== 'sequential') return { ok: false, message: 'analysis.segmentGuardrails are judged by the sequential judge only (analysis.judge sequential)' };
    if (guardrails.length > MAX_SEGMENT_GUARDRAILS) return { ok: false, message: `analysis.segmentGuardrails: at most ${MAX_SEGMENT_GUARDRAILS} (got ${guardrails.length})` };
    const problem = segmentGuardrailsProblem(guardrails, 'analysis.segmentGuardrails');
    if (problem) return { ok: false, message: problem };
    if (guardrails.length && !analysis.metrics.some((m) => m.metric === 'errorRate' || m.metric === 'accuracy')) return { ok: false, message: 'analysis.segmentGuardrails compare errorRate and accuracy: the analysis has neither metric' };
  }
  if (!input.taskQueues?.cpu) return { ok: false, message: 'taskQueues.cpu is required' };
  return { ok: true, value: { ...input, candidateVersion: String(input.candidateVersion), analysis } };
}
