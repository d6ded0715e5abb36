/**
 * The sequential canary judge: anytime-valid evidence, kept over the whole rollout, that the
 * candidate is worse than the stable version (harm → roll back) or that it is not worse by the
 * regression that matters (no regression → it may take all traffic). In the spirit of Lindon,
 * Sanden & Shirikian, "Rapid Regression Detection in Software Deployments through Sequential
 * Testing" (KDD 2022): the test is valid at every look, so the workflow may look as often as it
 * likes, across steps whose traffic split changes.
 *
 * Per metric, events out of trials per version:
 *   errorRate   errors out of requests
 *   accuracy    wrong labels out of labelled predictions (labels counted when they arrive)
 *   pNNLatency  successful requests slower than a threshold: stable's NN-th percentile L for
 *               stable, (1 + tolerance)·L for the candidate. L comes from earlier data only (the
 *               pre-rollout baseline, then earlier windows), so each window's test is exact.
 *               A candidate whose tail is slower at the same median sends more requests past L:
 *               this tests the quantile, not the location.
 *
 * Harm: a two-sample conditional e-process on the odds ratio ψ of the candidate's event rate to
 * stable's (lib/stats/e-processes.ts), null ψ ≤ 1 + tolerance. The rollout's total false-rollback
 * probability is bounded by `alpha`, split equally over the harm tests (Bonferroni holds for
 * e-processes at any stopping time). An absolute limit (maxAbsolute, minAbsolute) adds a one-sample
 * harm test of the candidate alone.
 * No regression: a one-sample e-process with null "candidate's rate ≥ the regression boundary"
 * (stable's rate so far × (1 + regression), or + regressionAbsolute when larger; for latency the
 * nominal share (1 − q) × (1 + regression)). Rejected at `promotionAlpha` per metric.
 *
 * Segment guardrails (spec.segmentGuardrails, e.g. plan=pro): the same harm e-process on the error
 * rate and the wrong-label rate, counted within the segment only, with the whole metric's tolerance.
 * Each (segment, metric) pair is one more harm test in the Bonferroni split: with k harm tests the
 * threshold is k/α each, so P(any harm test ever crosses | no harm anywhere) ≤ Σ α/k = α — the
 * whole rollout's false-rollback bound stays α, only each test gets a smaller share. A guardrail
 * can only fail a candidate: it has no no-regression test, so it never holds a promotion back.
 */
import { mixtureLogE, oneSampleUpdate, twoSampleUpdate } from '../stats/e-processes';
import { segmentName, type AnalysisSpec, type MetricCheck, type RolloutMetric } from './spec';

/** What one look adds, per version, over a window that follows the previous one without gap or overlap. */
export interface VersionWindow {
  requests: number;
  errors: number;
  /** Successful requests: latency is judged on these. */
  ok: number;
  /** First labels received in the window for this version's predictions made during the rollout. */
  labelled: number;
  incorrect: number;
  /** Successful requests slower than each threshold the judge asked for (by key). */
  above: Record<string, number>;
  /**
   * p95 / p99 (ms) of this version's successful requests over a trailing period ending with the
   * window (the collect activity uses 5 minutes), and how many requests they rest on: the next
   * window's latency reference. Null without any.
   */
  p95Ms: number | null;
  p99Ms: number | null;
  quantileCount: number;
}

export interface RolloutWindow {
  stable: VersionWindow;
  candidate: VersionWindow;
  /** Per segment guardrail, in spec order: the same window's counts within the segment. */
  segments?: Array<{ stable: SegmentWindow; candidate: SegmentWindow }>;
}

/** A version's window counts within one segment: the rates a guardrail judges. */
export type SegmentWindow = Pick<VersionWindow, 'requests' | 'errors' | 'labelled' | 'incorrect'>;

/** One guardrail's harm evidence per rate metric. */
export interface SegmentEvidence {
  segment: string;
  metrics: Array<{ metric: RolloutMetric; harm: number[]; harmMaxLogE: number; candidate: Counts; stable: Counts; harmful: boolean }>;
}

export interface Counts {
  events: number;
  trials: number;
}

/** Everything the judge carries between looks: plain JSON, small (a few numbers per metric). */
export interface MetricEvidence {
  metric: RolloutMetric;
  harm: number[];
  limit: number[] | null;
  safety: number[];
  harmMaxLogE: number;
  limitMaxLogE: number;
  safetyMaxLogE: number;
  candidate: Counts;
  stable: Counts;
  /** Stable's pre-rollout baseline plus its rollout windows: the regression boundary's reference. */
  reference: Counts;
  /** Latency: the stable quantile (ms) the next window is counted against; null until known. */
  referenceMs: number | null;
  /** The regression boundary of the last look (rate). */
  boundary: number | null;
  harmful: boolean;
  safe: boolean;
}

export interface JudgeState {
  looks: number;
  metrics: MetricEvidence[];
  /** Per segment guardrail (absent without any: the state of rollouts that name none is unchanged). */
  segments?: SegmentEvidence[];
}

export interface MetricReport {
  metric: RolloutMetric;
  /** A segment guardrail's check: the segment it judges (`plan=pro`). */
  segment?: string;
  verdict: 'fail' | 'pass' | 'inconclusive';
  /** Cumulative rates over the rollout (latency: share of requests above the threshold). */
  candidate: number | null;
  stable: number | null;
  /** Anytime-valid p-value of "no harm": 1 / (largest harm evidence so far), capped at 1. */
  pValue: number | null;
  reason: string;
  evidence: {
    harmE: number;
    harmThreshold: number;
    /** The share of the rollout's α this metric's harm test spends. */
    alphaSpent: number;
    limitE: number | null;
    safetyE: number;
    safetyThreshold: number;
    boundary: number | null;
    referenceMs: number | null;
    candidate: Counts;
    stable: Counts;
  };
}

export interface SequentialAnalysis {
  verdict: 'fail' | 'pass' | 'inconclusive';
  checks: MetricReport[];
  reason: string;
  candidateRequests: number;
  stableRequests: number;
}

/** Alternatives of the harm mixture: odds ratios above the null's boundary. */
export const HARM_FACTORS = [1.25, 1.5, 2, 3, 5, 10];
/** Alternatives of the no-regression mixture: rates below the boundary. */
const SAFETY_FACTORS = [0.8, 0.6, 0.4, 0.2, 0.05];
/** Alternatives of an absolute limit: rates above it. */
const LIMIT_FACTORS = [1.5, 2, 4, 8];

const quantileOf = (m: RolloutMetric): number | null => (m === 'p95LatencyMs' ? 0.95 : m === 'p99LatencyMs' ? 0.99 : null);
const isLatency = (m: RolloutMetric) => quantileOf(m) !== null;
const hasLimit = (c: MetricCheck) => (c.metric === 'accuracy' ? c.minAbsolute !== undefined : c.maxAbsolute !== undefined);

/** Stable successful requests a quantile must rest on before it becomes the reference (10 beyond it). */
const minForQuantile = (q: number) => Math.ceil(10 / (1 - q));

/** The metrics a segment guardrail judges: the rate metrics of the spec (latency needs a per-segment reference it does not keep). */
const segmentChecks = (spec: AnalysisSpec) => (spec.segmentGuardrails?.length ? spec.metrics.filter((c) => c.metric === 'errorRate' || c.metric === 'accuracy') : []);

/** How many harm tests share the rollout's α: one per metric, one per absolute limit, one per (segment guardrail, rate metric). */
export function harmTestCount(spec: AnalysisSpec): number {
  return spec.metrics.reduce((n, c) => n + 1 + (hasLimit(c) ? 1 : 0), 0) + (spec.segmentGuardrails?.length ?? 0) * segmentChecks(spec).length;
}

function initialSegments(spec: AnalysisSpec): SegmentEvidence[] {
  return (spec.segmentGuardrails ?? []).map((g) => ({
    segment: segmentName(g),
    metrics: segmentChecks(spec).map((c) => ({ metric: c.metric, harm: HARM_FACTORS.map(() => 0), harmMaxLogE: 0, candidate: { events: 0, trials: 0 }, stable: { events: 0, trials: 0 }, harmful: false })),
  }));
}

export function initialJudgeState(spec: AnalysisSpec, baseline?: VersionWindow): JudgeState {
  return {
    ...(spec.segmentGuardrails?.length ? { segments: initialSegments(spec) } : {}),
    looks: 0,
    metrics: spec.metrics.map((c) => {
      const q = quantileOf(c.metric);
      const base = baseline && !isLatency(c.metric) ? countsFor(c.metric, baseline, undefined) : { events: 0, trials: 0 };
      return {
        metric: c.metric,
        harm: HARM_FACTORS.map(() => 0),
        limit: hasLimit(c) ? LIMIT_FACTORS.map(() => 0) : null,
        safety: SAFETY_FACTORS.map(() => 0),
        harmMaxLogE: 0,
        limitMaxLogE: 0,
        safetyMaxLogE: 0,
        candidate: { events: 0, trials: 0 },
        stable: { events: 0, trials: 0 },
        // Stable's pre-rollout rate seeds the regression boundary; it is never compared with the candidate.
        reference: base,
        referenceMs: q !== null && baseline ? usableQuantile(baseline, q) : null,
        boundary: null,
        harmful: false,
        safe: false,
      };
    }),
  };
}

/** Latency thresholds the next window must be counted against, per version (key → ms). */
export function windowThresholds(spec: AnalysisSpec, state: JudgeState): { stable: Record<string, number>; candidate: Record<string, number> } {
  const stable: Record<string, number> = {};
  const candidate: Record<string, number> = {};
  spec.metrics.forEach((c, i) => {
    if (!isLatency(c.metric)) return;
    const ref = state.metrics[i]!.referenceMs;
    if (ref !== null) {
      stable[c.metric] = ref;
      candidate[c.metric] = ref * (1 + (c.maxRelativeChange ?? 0));
    }
    if (c.maxAbsolute !== undefined) candidate[limitKey(c.metric)] = c.maxAbsolute;
  });
  return { stable, candidate };
}

const limitKey = (m: RolloutMetric) => `${m}:limit`;

/** Adds one window to the evidence and judges the rollout so far. Pure and deterministic. */
export function judgeWindow(spec: AnalysisSpec, state: JudgeState, window: RolloutWindow): { state: JudgeState; analysis: SequentialAnalysis } {
  const harmTests = harmTestCount(spec);
  const harmThreshold = harmTests / spec.alpha;
  const safetyThreshold = 1 / spec.promotionAlpha;
  const thresholds = windowThresholds(spec, state);

  const metrics = spec.metrics.map((c, i) => {
    const prev = state.metrics[i]!;
    const next: MetricEvidence = { ...prev, candidate: { ...prev.candidate }, stable: { ...prev.stable }, reference: { ...prev.reference } };
    const q = quantileOf(c.metric);
    const judged = q === null || thresholds.stable[c.metric] !== undefined;
    if (judged) {
      const cand = countsFor(c.metric, window.candidate, thresholds.candidate[c.metric]);
      const stab = countsFor(c.metric, window.stable, thresholds.stable[c.metric]);
      const logPsi0 = q === null ? Math.log1p(c.maxRelativeChange ?? 0) : 0;
      next.harm = twoSampleUpdate(prev.harm, HARM_FACTORS.map((f) => logPsi0 + Math.log(f)), logPsi0, {
        candidateEvents: cand.events,
        candidateTrials: cand.trials,
        stableEvents: stab.events,
        stableTrials: stab.trials,
      });
      const boundary = regressionBoundary(c, prev.reference);
      next.boundary = boundary;
      next.safety = oneSampleUpdate(prev.safety, SAFETY_FACTORS.map((f) => f * boundary), boundary, cand.events, cand.trials);
      next.candidate = { events: prev.candidate.events + cand.events, trials: prev.candidate.trials + cand.trials };
      next.stable = { events: prev.stable.events + stab.events, trials: prev.stable.trials + stab.trials };
      next.reference = { events: prev.reference.events + stab.events, trials: prev.reference.trials + stab.trials };
    }
    if (next.limit) {
      const p0 = limitRate(c);
      const events = q === null ? countsFor(c.metric, window.candidate, undefined) : { events: window.candidate.above[limitKey(c.metric)] ?? 0, trials: window.candidate.ok };
      const grid = LIMIT_FACTORS.map((f) => Math.min(0.999, f * p0)).map((p) => (p > p0 ? p : (p0 + 1) / 2));
      next.limit = oneSampleUpdate(next.limit, grid, p0, events.events, events.trials);
    }
    if (q !== null) {
      const fresh = usableQuantile(window.stable, q);
      if (fresh !== null) next.referenceMs = fresh;
    }
    next.harmMaxLogE = Math.max(prev.harmMaxLogE, mixtureLogE(next.harm));
    next.limitMaxLogE = next.limit ? Math.max(prev.limitMaxLogE, mixtureLogE(next.limit)) : 0;
    next.safetyMaxLogE = Math.max(prev.safetyMaxLogE, mixtureLogE(next.safety));
    next.harmful = prev.harmful || next.harmMaxLogE >= Math.log(harmThreshold) || next.limitMaxLogE >= Math.log(harmThreshold);
    next.safe = prev.safe || next.safetyMaxLogE >= Math.log(safetyThreshold);
    return next;
  });

  const segments = state.segments || spec.segmentGuardrails?.length ? judgeSegments(spec, state.segments ?? initialSegments(spec), window, harmThreshold) : undefined;
  const checks = metrics.map((m, i) => report(spec.metrics[i]!, m, harmThreshold, spec.alpha / harmTests, safetyThreshold));
  const segmentReports = (segments ?? []).flatMap((s) => s.metrics.map((m) => segmentReport(spec, s.segment, m, harmThreshold, spec.alpha / harmTests)));
  // The whole rollout's failures first: a segment's reason names the segment when it alone failed.
  const failed = checks.find((c) => c.verdict === 'fail') ?? segmentReports.find((c) => c.verdict === 'fail');
  const waiting = checks.filter((c) => c.verdict === 'inconclusive');
  const verdict = failed ? 'fail' : waiting.length ? 'inconclusive' : 'pass';
  const reason = failed?.reason ?? (waiting.length ? `collecting evidence: ${waiting.map((c) => c.reason).join('; ')}` : 'no harm, and no regression beyond the boundary in any metric');
  return {
    state: { ...(segments ? { segments } : {}), looks: state.looks + 1, metrics },
    analysis: { verdict, checks: [...checks, ...segmentReports], reason, candidateRequests: window.candidate.requests, stableRequests: window.stable.requests },
  };
}

/** Adds the window's counts within each guardrail's segment to its harm evidence (null ψ ≤ 1 + the metric's tolerance). */
function judgeSegments(spec: AnalysisSpec, prev: SegmentEvidence[], window: RolloutWindow, harmThreshold: number): SegmentEvidence[] {
  const checks = segmentChecks(spec);
  return prev.map((seg, gi) => {
    const w = window.segments?.[gi];
    return {
      segment: seg.segment,
      metrics: seg.metrics.map((m, mi) => {
        const c = checks[mi]!;
        const cand = segmentCounts(m.metric, w?.candidate);
        const stab = segmentCounts(m.metric, w?.stable);
        const logPsi0 = Math.log1p(c.maxRelativeChange ?? 0);
        const harm = twoSampleUpdate(m.harm, HARM_FACTORS.map((f) => logPsi0 + Math.log(f)), logPsi0, {
          candidateEvents: cand.events,
          candidateTrials: cand.trials,
          stableEvents: stab.events,
          stableTrials: stab.trials,
        });
        const harmMaxLogE = Math.max(m.harmMaxLogE, mixtureLogE(harm));
        return {
          metric: m.metric,
          harm,
          harmMaxLogE,
          candidate: { events: m.candidate.events + cand.events, trials: m.candidate.trials + cand.trials },
          stable: { events: m.stable.events + stab.events, trials: m.stable.trials + stab.trials },
          harmful: m.harmful || harmMaxLogE >= Math.log(harmThreshold),
        };
      }),
    };
  });
}

function segmentCounts(metric: RolloutMetric, w: SegmentWindow | undefined): Counts {
  if (!w) return { events: 0, trials: 0 };
  return metric === 'accuracy' ? { events: w.incorrect, trials: w.labelled } : { events: w.errors, trials: w.requests };
}

function segmentReport(spec: AnalysisSpec, segment: string, m: SegmentEvidence['metrics'][number], harmThreshold: number, alphaSpent: number): MetricReport {
  const c = spec.metrics.find((x) => x.metric === m.metric)!;
  const rates = `segment ${segment}: ${NAMES[m.metric]} ${fmtRate(m.candidate)} vs stable ${fmtRate(m.stable)}`;
  const reason = m.harmful
    ? `${rates}: worse than stable within the segment beyond the tolerated ${((c.maxRelativeChange ?? 0) * 100).toFixed(0)}% (evidence E = ${fmtE(m.harmMaxLogE)} ≥ ${fmtE(Math.log(harmThreshold))}, α ${alphaSpent.toPrecision(2)})`
    : `${rates}: no evidence of harm so far (E = ${fmtE(m.harmMaxLogE)} of ${fmtE(Math.log(harmThreshold))})`;
  const harmE = Math.exp(m.harmMaxLogE);
  return {
    metric: m.metric,
    segment,
    // A guardrail only ever fails a candidate: without harm it does not hold a promotion back.
    verdict: m.harmful ? 'fail' : 'pass',
    candidate: m.candidate.trials ? m.candidate.events / m.candidate.trials : null,
    stable: m.stable.trials ? m.stable.events / m.stable.trials : null,
    pValue: Math.min(1, 1 / harmE),
    reason,
    evidence: { harmE, harmThreshold, alphaSpent, limitE: null, safetyE: 0, safetyThreshold: 0, boundary: null, referenceMs: null, candidate: m.candidate, stable: m.stable },
  };
}

function countsFor(metric: RolloutMetric, w: VersionWindow, threshold: number | undefined): Counts {
  switch (metric) {
    case 'errorRate':
      return { events: w.errors, trials: w.requests };
    case 'accuracy':
      return { events: w.incorrect, trials: w.labelled };
    default:
      return threshold === undefined ? { events: 0, trials: 0 } : { events: w.above[metric] ?? 0, trials: w.ok };
  }
}

function usableQuantile(w: VersionWindow, q: number): number | null {
  const v = q === 0.95 ? w.p95Ms : w.p99Ms;
  return v !== null && v > 0 && w.quantileCount >= minForQuantile(q) ? v : null;
}

/** The rate the candidate must be shown to stay below before it takes all traffic. */
export function regressionBoundary(c: MetricCheck, stableSoFar: Counts): number {
  const q = quantileOf(c.metric);
  const relative = c.regression ?? 1;
  if (q !== null) return Math.min(0.999, (1 - q) * (1 + relative));
  // A half event of prior keeps a stable version without events from making the boundary 0.
  const ref = (stableSoFar.events + 0.5) / (stableSoFar.trials + 1);
  return Math.min(0.999, Math.max(ref * (1 + relative), ref + (c.regressionAbsolute ?? 0)));
}

/** The absolute limit as an event rate: error rate above maxAbsolute, wrong labels above 1 − minAbsolute, requests beyond maxAbsolute ms above 1 − q. */
function limitRate(c: MetricCheck): number {
  const q = quantileOf(c.metric);
  if (q !== null) return 1 - q;
  const rate = c.metric === 'accuracy' ? 1 - c.minAbsolute! : c.maxAbsolute!;
  return Math.min(0.999, Math.max(1e-6, rate));
}

const NAMES: Record<RolloutMetric, string> = { errorRate: 'error rate', accuracy: 'accuracy: wrong-label rate', p95LatencyMs: 'beyond stable p95', p99LatencyMs: 'beyond stable p99' };
const fmtRate = (c: Counts) => (c.trials ? `${Number((c.events / c.trials).toPrecision(3))} (${c.events}/${c.trials})` : 'n/a (0/0)');
const fmtE = (logE: number) => {
  const e = Math.exp(logE);
  return e >= 1e6 ? e.toExponential(2) : Number(e.toPrecision(3)).toString();
};

function report(c: MetricCheck, m: MetricEvidence, harmThreshold: number, alphaSpent: number, safetyThreshold: number): MetricReport {
  const name = NAMES[c.metric];
  const refText = m.referenceMs !== null && isLatency(c.metric) ? ` of ${Number(m.referenceMs.toPrecision(3))} ms` : '';
  const rates = `${name}${refText} ${fmtRate(m.candidate)} vs stable ${fmtRate(m.stable)}`;
  const harmE = Math.exp(m.harmMaxLogE);
  const limitE = m.limit ? Math.exp(m.limitMaxLogE) : null;
  const verdict: MetricReport['verdict'] = m.harmful ? 'fail' : m.safe ? 'pass' : 'inconclusive';
  let reason: string;
  if (m.harmful) {
    reason =
      limitE !== null && m.limitMaxLogE >= Math.log(harmThreshold) && m.harmMaxLogE < Math.log(harmThreshold)
        ? `${rates}: above the absolute limit (evidence E = ${fmtE(m.limitMaxLogE)} ≥ ${fmtE(Math.log(harmThreshold))})`
        : `${rates}: worse than stable beyond the tolerated ${((c.maxRelativeChange ?? 0) * 100).toFixed(0)}% (evidence E = ${fmtE(m.harmMaxLogE)} ≥ ${fmtE(Math.log(harmThreshold))}, α ${alphaSpent.toPrecision(2)})`;
  } else if (m.safe) {
    reason = `${rates}: no regression beyond ${m.boundary !== null ? Number(m.boundary.toPrecision(3)) : 'n/a'} (E = ${fmtE(m.safetyMaxLogE)} ≥ ${fmtE(Math.log(safetyThreshold))})`;
  } else if (isLatency(c.metric) && m.referenceMs === null) {
    reason = `${name}: waiting for ${minForQuantile(quantileOf(c.metric)!)} stable requests to set the reference`;
  } else {
    reason = `${rates}: harm E = ${fmtE(m.harmMaxLogE)} of ${fmtE(Math.log(harmThreshold))}, no-regression E = ${fmtE(m.safetyMaxLogE)} of ${fmtE(Math.log(safetyThreshold))}`;
  }
  return {
    metric: c.metric,
    verdict,
    candidate: m.candidate.trials ? m.candidate.events / m.candidate.trials : null,
    stable: m.stable.trials ? m.stable.events / m.stable.trials : null,
    pValue: Math.min(1, 1 / Math.max(harmE, limitE ?? 0)),
    reason,
    evidence: {
      harmE,
      harmThreshold,
      alphaSpent,
      limitE,
      safetyE: Math.exp(m.safetyMaxLogE),
      safetyThreshold,
      boundary: m.boundary,
      referenceMs: m.referenceMs,
      candidate: m.candidate,
      stable: m.stable,
    },
  };
}
