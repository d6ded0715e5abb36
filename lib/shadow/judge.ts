/**
 * Is a shadow (a candidate answering the same requests as the serving version, unseen by callers)
 * worse than the serving version? Anytime-valid, with the canary's machinery
 * (lib/stats/e-processes.ts, the spec of lib/rollout/spec.ts), but a test made for paired outcomes:
 * both versions answered the very same requests, so only the requests where they differ carry
 * evidence about which is better.
 *
 * The sequential McNemar test. Among labelled requests where exactly one version is wrong, let p
 * be the share where the shadow is the wrong one; the null "the shadow is not worse beyond the
 * margin" is p ≤ (1 + margin) / (2 + margin), i.e. discordant odds ψ = P(only shadow wrong) /
 * P(only serving wrong) ≤ 1 + margin. Given that a request is discordant, whether it is the
 * shadow's error is a Bernoulli(p) draw, whatever the base error rate — so the one-sample binomial
 * mixture of e-processes.ts on discordant pairs is an exact e-process for this null at every look
 * (Ville's inequality). With margin 0 (the canary's default for accuracy and errors) the null is
 * exactly "the shadow's error rate ≤ the serving version's"; with a margin it bounds the ratio of
 * the discordant rates, which is stricter than a ratio of error rates (both-wrong requests are
 * shared). Errors (HTTP 500s, a failed inference) are judged the same way on the requests where
 * exactly one version failed.
 *
 * The α of the rollout is split equally over the harm tests (Bonferroni holds for e-processes at
 * any stopping time), as the canary judge splits it. A no-regression test (null ψ ≥ 1 + regression,
 * rejected at promotionAlpha) says when the shadow has been shown not to be worse by that much.
 */
import { mixtureLogE, oneSampleUpdate } from '../stats/e-processes';
import type { AnalysisSpec } from '../rollout/spec';

export type ShadowMetric = 'accuracy' | 'errorRate';

export interface ShadowCheckSpec {
  metric: ShadowMetric;
  /** Tolerated discordant odds above 1 before the shadow is judged worse (0: any worsening). */
  margin: number;
  /** The worsening that must be excluded for a "not worse" verdict (discordant odds 1 + regression). */
  regression: number;
}

export interface ShadowSpec {
  checks: ShadowCheckSpec[];
  /** Probability of calling a shadow worse that is not worse beyond the margin, over all looks and checks. */
  alpha: number;
  /** Probability, per check, of calling a shadow not worse that regresses by `regression`. */
  promotionAlpha: number;
}

/** What one look adds: discordant requests since the previous look (no gap, no overlap). */
export interface ShadowWindow {
  /** Labelled requests where only the shadow's label was wrong / only the serving version's. */
  shadowOnlyWrong: number;
  servedOnlyWrong: number;
  /** Requests only the shadow failed / only the serving version failed. */
  shadowOnlyErrors: number;
  servedOnlyErrors: number;
}

export interface PairedEvidence {
  metric: ShadowMetric;
  harm: number[];
  safety: number[];
  harmMaxLogE: number;
  safetyMaxLogE: number;
  shadowOnly: number;
  servedOnly: number;
  worse: boolean;
  notWorse: boolean;
}

export interface ShadowJudgeState {
  looks: number;
  checks: PairedEvidence[];
}

export interface ShadowCheckReport {
  metric: ShadowMetric;
  verdict: 'worse' | 'not-worse' | 'inconclusive';
  shadowOnly: number;
  servedOnly: number;
  harmE: number;
  harmThreshold: number;
  safetyE: number;
  safetyThreshold: number;
  reason: string;
}

export interface ShadowVerdict {
  /** worse: some check found the shadow worse; not-worse: every check excluded the regression. */
  verdict: 'worse' | 'not-worse' | 'inconclusive';
  reason: string;
  checks: ShadowCheckReport[];
}

/** Alternatives of the harm mixture (discordant odds as multiples of the null's boundary), as the canary judge's. */
const HARM_FACTORS = [1.25, 1.5, 2, 3, 5, 10];
/** Alternatives of the no-regression mixture: odds below the regression boundary. */
const SAFETY_FACTORS = [0.8, 0.6, 0.4, 0.2, 0.05];

const share = (odds: number) => odds / (1 + odds);

/**
 * The shadow spec from a canary's analysis: its α, its promotion α, and per metric (accuracy and
 * error rate, where the canary judges them) its tolerated change as the margin and its regression.
 * Latency is not judged: a shadow runs after the reply, beside other shadow runs, so its latency
 * is not what a caller would see (it is reported, not tested).
 */
export function shadowSpecOf(analysis: Pick<AnalysisSpec, 'metrics' | 'alpha' | 'promotionAlpha'>): ShadowSpec {
  const checks: ShadowCheckSpec[] = [];
  for (const metric of ['accuracy', 'errorRate'] as const) {
    const m = analysis.metrics.find((c) => c.metric === metric);
    if (m) checks.push({ metric, margin: m.maxRelativeChange ?? 0, regression: m.regression ?? 1 });
  }
  return { checks, alpha: analysis.alpha, promotionAlpha: analysis.promotionAlpha };
}

export function initialShadowState(spec: ShadowSpec): ShadowJudgeState {
  return {
    looks: 0,
    checks: spec.checks.map((c) => ({
      metric: c.metric,
      harm: HARM_FACTORS.map(() => 0),
      safety: SAFETY_FACTORS.map(() => 0),
      harmMaxLogE: 0,
      safetyMaxLogE: 0,
      shadowOnly: 0,
      servedOnly: 0,
      worse: false,
      notWorse: false,
    })),
  };
}

/** Adds one window of discordant counts and judges the shadow so far. Pure and deterministic. */
export function judgeShadowWindow(spec: ShadowSpec, state: ShadowJudgeState, w: ShadowWindow): { state: ShadowJudgeState; verdict: ShadowVerdict } {
  checkSpec(spec);
  const harmThreshold = spec.checks.length / spec.alpha;
  const safetyThreshold = 1 / spec.promotionAlpha;
  const checks = spec.checks.map((c, i) => {
    const prev = state.checks[i]!;
    const shadowOnly = c.metric === 'accuracy' ? w.shadowOnlyWrong : w.shadowOnlyErrors;
    const servedOnly = c.metric === 'accuracy' ? w.servedOnlyWrong : w.servedOnlyErrors;
    const p0 = share(1 + c.margin);
    const pReg = share(1 + c.regression);
    const harm = oneSampleUpdate(prev.harm, HARM_FACTORS.map((f) => share((1 + c.margin) * f)), p0, shadowOnly, shadowOnly + servedOnly);
    const safety = oneSampleUpdate(prev.safety, SAFETY_FACTORS.map((f) => share((1 + c.regression) * f)), pReg, shadowOnly, shadowOnly + servedOnly);
    const harmMaxLogE = Math.max(prev.harmMaxLogE, mixtureLogE(harm));
    const safetyMaxLogE = Math.max(prev.safetyMaxLogE, mixtureLogE(safety));
    return {
      metric: c.metric,
      harm,
      safety,
      harmMaxLogE,
      safetyMaxLogE,
      shadowOnly: prev.shadowOnly + shadowOnly,
      servedOnly: prev.servedOnly + servedOnly,
      worse: prev.worse || harmMaxLogE >= Math.log(harmThreshold),
      notWorse: prev.notWorse || safetyMaxLogE >= Math.log(safetyThreshold),
    };
  });
  const next = { looks: state.looks + 1, checks };
  return { state: next, verdict: verdictOf(spec, next) };
}

/** The verdict a state stands at (what `judgeShadowWindow` returned with it). */
export function verdictOf(spec: ShadowSpec, state: ShadowJudgeState): ShadowVerdict {
  const harmThreshold = spec.checks.length / spec.alpha;
  const safetyThreshold = 1 / spec.promotionAlpha;
  const reports = state.checks.map((e, i) => report(spec.checks[i]!, e, harmThreshold, safetyThreshold));
  const worse = reports.find((r) => r.verdict === 'worse');
  const waiting = reports.filter((r) => r.verdict === 'inconclusive');
  const verdict = worse ? 'worse' : waiting.length > 0 || reports.length === 0 ? 'inconclusive' : 'not-worse';
  const reason = worse?.reason ?? (waiting.length ? `collecting evidence: ${waiting.map((r) => r.reason).join('; ')}` : reports.map((r) => r.reason).join('; '));
  return { verdict, reason, checks: reports };
}

const NAMES: Record<ShadowMetric, [string, string]> = { accuracy: ['wrong label', 'labelled requests'], errorRate: ['failed', 'requests'] };
const fmtE = (logE: number) => {
  const e = Math.exp(logE);
  return e >= 1e6 ? e.toExponential(2) : Number(e.toPrecision(3)).toString();
};

function report(c: ShadowCheckSpec, e: PairedEvidence, harmThreshold: number, safetyThreshold: number): ShadowCheckReport {
  const [what, of] = NAMES[c.metric];
  const counts = `${c.metric}: only the shadow ${what} on ${e.shadowOnly}, only the serving version on ${e.servedOnly} ${of}`;
  const verdict = e.worse ? 'worse' : e.notWorse ? 'not-worse' : 'inconclusive';
  const reason = e.worse
    ? `${counts}: shadow worse beyond the tolerated ${(c.margin * 100).toFixed(0)}% (evidence E = ${fmtE(e.harmMaxLogE)} ≥ ${fmtE(Math.log(harmThreshold))})`
    : e.notWorse
      ? `${counts}: not worse by ${(c.regression * 100).toFixed(0)}% or more (E = ${fmtE(e.safetyMaxLogE)} ≥ ${fmtE(Math.log(safetyThreshold))})`
      : `${counts}: harm E = ${fmtE(e.harmMaxLogE)} of ${fmtE(Math.log(harmThreshold))}, no-regression E = ${fmtE(e.safetyMaxLogE)} of ${fmtE(Math.log(safetyThreshold))}`;
  return { metric: c.metric, verdict, shadowOnly: e.shadowOnly, servedOnly: e.servedOnly, harmE: Math.exp(e.harmMaxLogE), harmThreshold, safetyE: Math.exp(e.safetyMaxLogE), safetyThreshold, reason };
}

function checkSpec(spec: ShadowSpec): void {
  if (!(spec.alpha > 0 && spec.alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${spec.alpha})`);
  if (!(spec.promotionAlpha > 0 && spec.promotionAlpha < 1)) throw new RangeError(`promotionAlpha must be in (0, 1) (got ${spec.promotionAlpha})`);
  for (const c of spec.checks) {
    if (!(c.margin >= 0 && Number.isFinite(c.margin))) throw new RangeError(`${c.metric}: margin must be ≥ 0 (got ${c.margin})`);
    if (!(c.regression > 0 && Number.isFinite(c.regression))) throw new RangeError(`${c.metric}: regression must be > 0 (got ${c.regression})`);
  }
}
