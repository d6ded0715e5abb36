/**
 * A canary rollout, declared as Argo Rollouts does: steps (traffic weight + pause) and an analysis
 * that decides. Validation gives one line naming the field, for the CLI edge and the workflow alike.
 */
export type RolloutMetric = 'errorRate' | 'p95LatencyMs' | 'accuracy';

export interface MetricCheck {
  metric: RolloutMetric;
  /** errorRate / p95LatencyMs: the candidate fails above this. */
  maxAbsolute?: number;
  /** accuracy: the candidate fails below this. */
  minAbsolute?: number;
  /** Tolerated relative change against stable before a significant difference fails (0.2 = 20% worse). */
  maxRelativeChange?: number;
  /** Statistical judge of candidate against stable: Mann-Whitney for latency, two-proportion z for rates. */
  judge?: 'mann-whitney' | 'two-proportion' | 'none';
  /** Confidence of the judge (Kayenta's default 0.98). */
  confidence?: number;
}

export interface AnalysisSpec {
  intervalSeconds: number;
  metrics: MetricCheck[];
  /** Candidate requests an analysis needs in its window before it may pass or fail on rates. */
  minSamplePerStep: number;
  /** Labelled candidate predictions needed before accuracy is judged. */
  minLabelledSample: number;
  /** Failed analyses tolerated over the rollout; one more rolls back (Argo's failureLimit; default 0). */
  failureLimit: number;
  /** Extra analysis intervals a step may wait for enough data after its pause before the rollout pauses for a human. */
  inconclusiveLimit: number;
}

export interface RolloutStep {
  /** Candidate traffic in percent (0 < weight ≤ 100). */
  weight: number;
  /** Seconds to stay at this weight while the analysis runs. */
  pauseSeconds: number;
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

export const DEFAULT_ANALYSIS: AnalysisSpec = {
  intervalSeconds: 10,
  metrics: [
    { metric: 'errorRate', maxAbsolute: 0.05, maxRelativeChange: 0.5, judge: 'two-proportion' },
    { metric: 'p95LatencyMs', maxAbsolute: 250, maxRelativeChange: 0.5, judge: 'mann-whitney' },
    { metric: 'accuracy', maxRelativeChange: 0.05, judge: 'two-proportion' },
  ],
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

/** "5:30s,25:1m,50:1m,100" → steps; a missing pause means 0. */
export function parseSteps(text: string): { ok: true; steps: RolloutStep[] } | { ok: false; message: string } {
  const steps: RolloutStep[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
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
  for (const [i, s] of input.steps.entries()) {
    if (!(s.weight > 0 && s.weight <= 100)) return { ok: false, message: `steps[${i}].weight must be > 0 and <= 100 (got ${s.weight})` };
    if (s.weight < previous) return { ok: false, message: `steps[${i}].weight ${s.weight} is below the previous step's ${previous}: weights must not decrease` };
    if (!(Number.isFinite(s.pauseSeconds) && s.pauseSeconds >= 0 && s.pauseSeconds <= 7 * 86400)) return { ok: false, message: `steps[${i}].pauseSeconds must be between 0 and 604800 (got ${s.pauseSeconds})` };
    previous = s.weight;
  }
  const analysis: AnalysisSpec = { ...DEFAULT_ANALYSIS, ...(input.analysis ?? {}) };
  if (!(analysis.intervalSeconds >= 1 && analysis.intervalSeconds <= 3600)) return { ok: false, message: `analysis.intervalSeconds must be between 1 and 3600 (got ${analysis.intervalSeconds})` };
  for (const key of ['minSamplePerStep', 'minLabelledSample', 'failureLimit', 'inconclusiveLimit'] as const) {
    if (!(Number.isInteger(analysis[key]) && analysis[key] >= 0)) return { ok: false, message: `analysis.${key} must be a non-negative integer (got ${analysis[key]})` };
  }
  if (!Array.isArray(analysis.metrics) || analysis.metrics.length === 0) return { ok: false, message: 'analysis.metrics: at least one metric is required' };
  for (const [i, m] of analysis.metrics.entries()) {
    if (!['errorRate', 'p95LatencyMs', 'accuracy'].includes(m.metric)) return { ok: false, message: `analysis.metrics[${i}].metric must be errorRate, p95LatencyMs or accuracy (got ${String(m.metric)})` };
    for (const key of ['maxAbsolute', 'minAbsolute', 'maxRelativeChange'] as const) {
      if (m[key] !== undefined && !(Number.isFinite(m[key]) && m[key]! >= 0)) return { ok: false, message: `analysis.metrics[${i}].${key} must be a number >= 0 (got ${m[key]})` };
    }
    if (m.confidence !== undefined && !(m.confidence > 0.5 && m.confidence < 1)) return { ok: false, message: `analysis.metrics[${i}].confidence must be > 0.5 and < 1 (got ${m.confidence})` };
    if (m.judge !== undefined && !['mann-whitney', 'two-proportion', 'none'].includes(m.judge)) return { ok: false, message: `analysis.metrics[${i}].judge must be mann-whitney, two-proportion or none (got ${m.judge})` };
  }
  if (!input.taskQueues?.cpu) return { ok: false, message: 'taskQueues.cpu is required' };
  return { ok: true, value: { ...input, candidateVersion: String(input.candidateVersion), analysis } };
}
