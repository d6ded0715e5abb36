/**
 * The fixed-horizon canary judge (kept for comparison; the default is lib/rollout/sequential-judge.ts): compares the candidate's window of traffic against the stable version's, one
 * metric at a time, and returns a verdict with a reason a person can read. Pure: the workflow calls
 * it on numbers an activity fetched, so the decision is part of the durable history.
 */
import { classifyMetric } from '../stats/judge';
import { twoProportionZTest } from '../stats/tests';
import type { AnalysisSpec, MetricCheck, RolloutMetric } from './spec';

export interface VersionSample {
  requests: number;
  errors: number;
  /** A sample of successful request latencies (ms). */
  latenciesMs: number[];
  labelled: number;
  correct: number;
}

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface CheckResult {
  metric: RolloutMetric;
  /** The sequential judge's segment guardrails: the segment this check judged (`plan=pro`). */
  segment?: string;
  verdict: Verdict;
  candidate: number | null;
  stable: number | null;
  pValue: number | null;
  reason: string;
}

export interface AnalysisResult {
  verdict: Verdict;
  checks: CheckResult[];
  /** The first failing check's reason, or why the analysis could not decide. */
  reason: string;
  candidateRequests: number;
  stableRequests: number;
}

export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

const fmt = (x: number | null, digits = 4) => (x === null ? 'n/a' : Number(x.toFixed(digits)).toString());

export function analyse(spec: AnalysisSpec, stable: VersionSample, candidate: VersionSample): AnalysisResult {
  const checks = spec.metrics.map((m) => checkMetric(m, spec, stable, candidate));
  const failed = checks.find((c) => c.verdict === 'fail');
  const inconclusive = checks.find((c) => c.verdict === 'inconclusive');
  const verdict: Verdict = failed ? 'fail' : inconclusive ? 'inconclusive' : 'pass';
  return {
    verdict,
    checks,
    reason: failed?.reason ?? inconclusive?.reason ?? 'all metrics within limits',
    candidateRequests: candidate.requests,
    stableRequests: stable.requests,
  };
}

function checkMetric(m: MetricCheck, spec: AnalysisSpec, stable: VersionSample, candidate: VersionSample): CheckResult {
  switch (m.metric) {
    case 'errorRate':
      return rateCheck(m, 'errorRate', 'error rate', 'higher-is-bad', candidate.errors, candidate.requests, stable.errors, stable.requests, spec.minSamplePerStep);
    case 'accuracy':
      return rateCheck(m, 'accuracy', 'accuracy', 'lower-is-bad', candidate.correct, candidate.labelled, stable.correct, stable.labelled, spec.minLabelledSample);
    case 'p95LatencyMs':
      return latencyCheck(m, spec, stable, candidate, 0.95);
    case 'p99LatencyMs':
      return latencyCheck(m, spec, stable, candidate, 0.99);
  }
}

function rateCheck(
  m: MetricCheck,
  metric: RolloutMetric,
  label: string,
  bad: 'higher-is-bad' | 'lower-is-bad',
  cHits: number,
  cN: number,
  sHits: number,
  sN: number,
  minN: number,
): CheckResult {
  if (cN < Math.max(1, minN)) {
    return { metric, verdict: 'inconclusive', candidate: null, stable: sN ? sHits / sN : null, pValue: null, reason: `${label}: ${cN} candidate samples, need ${minN}` };
  }
  const c = cHits / cN;
  const s = sN ? sHits / sN : null;
  const base = { metric, candidate: c, stable: s };
  if (bad === 'higher-is-bad' && m.maxAbsolute !== undefined && c > m.maxAbsolute) {
    return { ...base, verdict: 'fail', pValue: null, reason: `${label} ${fmt(c)} is above the limit ${m.maxAbsolute} (${cHits}/${cN})` };
  }
  if (bad === 'lower-is-bad' && m.minAbsolute !== undefined && c < m.minAbsolute) {
    return { ...base, verdict: 'fail', pValue: null, reason: `${label} ${fmt(c)} is below the limit ${m.minAbsolute} (${cHits}/${cN})` };
  }
  if ((m.judge ?? 'two-proportion') === 'none' || s === null || sN === 0) {
    return { ...base, verdict: 'pass', pValue: null, reason: `${label} ${fmt(c)} within absolute limits` };
  }
  // One-sided: only a significant move in the bad direction can fail the candidate.
  const test = twoProportionZTest(cHits, cN, sHits, sN, bad === 'higher-is-bad' ? 'greater' : 'less');
  const alpha = 1 - (m.confidence ?? 0.98);
  const tolerated = m.maxRelativeChange ?? 0;
  const worseBy = bad === 'higher-is-bad' ? c - s : s - c;
  // Relative tolerance against a zero stable rate would tolerate nothing; fall back to absolute.
  const allowed = s > 0 ? tolerated * s : tolerated * 0.01;
  if (test.pValue < alpha && worseBy > allowed) {
    return {
      ...base,
      verdict: 'fail',
      pValue: test.pValue,
      reason: `${label} ${fmt(c)} is significantly ${bad === 'higher-is-bad' ? 'higher' : 'lower'} than stable's ${fmt(s)} (p = ${test.pValue.toPrecision(3)}, beyond the tolerated ${(tolerated * 100).toFixed(0)}%)`,
    };
  }
  return { ...base, verdict: 'pass', pValue: test.pValue, reason: `${label} ${fmt(c)} vs stable ${fmt(s)} (p = ${test.pValue.toPrecision(3)})` };
}

function latencyCheck(m: MetricCheck, spec: AnalysisSpec, stable: VersionSample, candidate: VersionSample, q: number): CheckResult {
  const c = percentile(candidate.latenciesMs, q);
  const s = percentile(stable.latenciesMs, q);
  const base = { metric: m.metric, candidate: c, stable: s };
  const name = `p${Math.round(q * 100)}`;
  if (candidate.latenciesMs.length < Math.max(1, spec.minSamplePerStep)) {
    return { ...base, verdict: 'inconclusive', pValue: null, reason: `${name} latency: ${candidate.latenciesMs.length} candidate samples, need ${spec.minSamplePerStep}` };
  }
  if (m.maxAbsolute !== undefined && c! > m.maxAbsolute) {
    return { ...base, verdict: 'fail', pValue: null, reason: `${name} latency ${fmt(c, 2)} ms is above the limit ${m.maxAbsolute} ms` };
  }
  if ((m.judge ?? 'mann-whitney') === 'none' || stable.latenciesMs.length === 0) {
    return { ...base, verdict: 'pass', pValue: null, reason: `${name} latency ${fmt(c, 2)} ms within absolute limits` };
  }
  const judged = classifyMetric({
    candidate: candidate.latenciesMs,
    stable: stable.latenciesMs,
    direction: 'increase-is-bad',
    confidence: m.confidence ?? 0.98,
    allowedRelativeChange: m.maxRelativeChange,
  });
  const verdict: Verdict = judged.classification === 'high' ? 'fail' : 'pass';
  return {
    ...base,
    verdict,
    pValue: judged.pValue,
    reason: `${name} latency ${fmt(c, 2)} ms vs stable ${fmt(s, 2)} ms: ${judged.reason}${verdict === 'fail' ? ' (Mann-Whitney, latency distribution shifted up)' : ''}`,
  };
}
