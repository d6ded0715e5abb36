/**
 * Canary segment guardrails (analysis.segmentGuardrails, lib/rollout/sequential-judge.ts), simulated
 * through the judge the workflow runs, look after look, as a rollout re-reads its windows:
 *
 *   1. Null: the candidate is exactly as good as stable everywhere, segment included: how many
 *      rollouts are ever rolled back over all the looks (any check, and by the segment's checks),
 *      against the naive reference, a one-sided two-proportion z-test of the segment's cumulative
 *      counts at α, re-run at every look (errors and wrong labels).
 *   2. Harm in one segment only: the candidate's error rate and wrong-label rate are 2× stable's
 *      inside the segment, and lower outside it so that its whole rates equal stable's: share
 *      rolled back, the candidate's labelled predictions in the segment when it is, and how often
 *      the same judge without the guardrail notices anything.
 *   3. The A/B test's segment guardrail (lib/experiment/segment-guardrails.ts, α 0.01 over its
 *      tests) on the same segment counts, cumulative as its activity reports them (control =
 *      stable, arm = candidate): halted, and the arm's labels in the segment when it is.
 *
 *   npx tsx bench/decisions/segment-guardrail.ts [--runs 1000] [--looks 120] [--requests 500]
 *        [--weight 0.5] [--share 0.2] [--errors 0.01] [--wrong 0.1] [--labels 0.5] [--seed 1]
 *
 * Per look (a 10-second window at 50 req/s by default): `requests` requests split by `weight`, a
 * `share` of each version's in the segment; labels for a `labels` share of successful ones arrive in
 * the window. The default analysis (errorRate, p95, p99, accuracy; α 0.01) plus one guardrail.
 * Deterministic for given flags. A benchmark, not a test.
 */
import { parseArgs } from 'node:util';
import { createRng, deriveSeed, type Rng } from '../../lib/random';
import { initialJudgeState, judgeWindow, type JudgeState, type SegmentWindow, type VersionWindow } from '../../lib/rollout/sequential-judge';
import { DEFAULT_ANALYSIS, type AnalysisSpec } from '../../lib/rollout/spec';
import { twoProportionZTest } from '../../lib/stats/tests';
import { initialSegmentGuardState, judgeSegmentGuardrails, type SegmentGuardState } from '../../lib/experiment/segment-guardrails';
import { checkABTest } from '../../lib/experiment/spec';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000' },
    looks: { type: 'string', default: '120' },
    requests: { type: 'string', default: '500' },
    weight: { type: 'string', default: '0.5' },
    share: { type: 'string', default: '0.2' },
    errors: { type: 'string', default: '0.01' },
    wrong: { type: 'string', default: '0.1' },
    labels: { type: 'string', default: '0.5' },
    seed: { type: 'string', default: '1' },
  },
});
const RUNS = Number(values.runs);
const LOOKS = Number(values.looks);
const REQUESTS = Number(values.requests);
const WEIGHT = Number(values.weight);
const SHARE = Number(values.share);
const ERRORS = Number(values.errors);
const WRONG = Number(values.wrong);
const LABELS = Number(values.labels);
const SEED = Number(values.seed);

/** The A/B test's segment guardrail (lib/experiment/segment-guardrails.ts) on the same segment counts, cumulative as its activity reports them: control = stable, arm = candidate. */
const AB = (() => {
  const r = checkABTest({ model: 'm', versions: ['1', '2'], primaryMetric: 'accuracy', tau2: 0.001, maxDurationSeconds: 1, taskQueues: { cpu: 'q' }, guardrails: { segments: [{ attribute: 'plan', value: 'pro' }] } });
  if (!r.ok) throw new Error(r.message);
  return r.value;
})();
const GUARDED: AnalysisSpec = { ...DEFAULT_ANALYSIS, segmentGuardrails: [{ attribute: 'plan', value: 'pro' }] };
const UNGUARDED: AnalysisSpec = DEFAULT_ANALYSIS;
/** Latency is not what this measures: both versions alike, stable's p95/p99 fixed; shares above a threshold at their nominal values. */
const P95 = 40;
const P99 = 60;

function binomial(rng: Rng, n: number, p: number): number {
  if (n > 200) {
    // Normal approximation for large n (the segment's counts, what is measured, stay exact below 200).
    const mean = n * p;
    const sd = Math.sqrt(n * p * (1 - p));
    const u = Math.max(1e-12, rng.next());
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
    return Math.max(0, Math.min(n, Math.round(mean + sd * z)));
  }
  let k = 0;
  for (let i = 0; i < n; i++) if (rng.next() < p) k++;
  return k;
}

interface Part {
  requests: number;
  errors: number;
  labelled: number;
  incorrect: number;
}

function part(rng: Rng, n: number, errorRate: number, wrongRate: number): Part {
  const errors = binomial(rng, n, errorRate);
  const labelled = binomial(rng, n - errors, LABELS);
  return { requests: n, errors, labelled, incorrect: binomial(rng, labelled, wrongRate) };
}

/** One version's window: the segment and the rest drawn apart, the whole their sum. */
function versionWindow(rng: Rng, n: number, seg: { errors: number; wrong: number }, rest: { errors: number; wrong: number }, candidate: boolean, thresholds: Record<string, number>): { whole: VersionWindow; segment: SegmentWindow } {
  const inSeg = binomial(rng, n, SHARE);
  const s = part(rng, inSeg, seg.errors, seg.wrong);
  const r = part(rng, n - inSeg, rest.errors, rest.wrong);
  const ok = n - s.errors - r.errors;
  // The candidate is counted above (1 + 10 %) × stable's quantile: fewer of its requests pass it.
  const above = Object.fromEntries(Object.keys(thresholds).map((k) => [k, binomial(rng, ok, (k === 'p95LatencyMs' ? 0.05 : 0.01) * (candidate ? 0.8 : 1))]));
  return {
    whole: { requests: n, errors: s.errors + r.errors, ok, labelled: s.labelled + r.labelled, incorrect: s.incorrect + r.incorrect, above, p95Ms: P95, p99Ms: P99, quantileCount: 10_000 },
    segment: s,
  };
}

interface Outcome {
  guarded: { failed: boolean; bySegment: boolean; segmentLabels?: number; look?: number };
  unguardedFailed: boolean;
  naive: boolean;
  ab: { halted: boolean; segmentLabels?: number };
}

function run(factor: number, r: number): Outcome {
  const rng = createRng(deriveSeed(SEED, r, Math.round(factor * 100)));
  const stableRates = { errors: ERRORS, wrong: WRONG };
  const candSeg = { errors: Math.min(1, factor * ERRORS), wrong: Math.min(1, factor * WRONG) };
  // Outside the segment the candidate is better by what keeps its whole rates at stable's.
  const candRest = { errors: (ERRORS - SHARE * candSeg.errors) / (1 - SHARE), wrong: (WRONG - SHARE * candSeg.wrong) / (1 - SHARE) };
  const baseline = versionWindow(rng, 3000, stableRates, stableRates, false, {}).whole;
  let guarded: JudgeState = initialJudgeState(GUARDED, baseline);
  let unguarded: JudgeState = initialJudgeState(UNGUARDED, baseline);
  const out: Outcome = { guarded: { failed: false, bySegment: false }, unguardedFailed: false, naive: false, ab: { halted: false } };
  let ab: SegmentGuardState = initialSegmentGuardState(AB);
  const cum = { ce: 0, cn: 0, se: 0, sn: 0, cw: 0, cl: 0, sw: 0, sl: 0 };
  const thresholds = { p95LatencyMs: P95, p99LatencyMs: P99 };
  for (let look = 0; look < LOOKS && !(out.guarded.failed && out.unguardedFailed && out.naive && out.ab.halted); look++) {
    const nc = binomial(rng, REQUESTS, WEIGHT);
    const st = versionWindow(rng, REQUESTS - nc, stableRates, stableRates, false, thresholds);
    const ca = versionWindow(rng, nc, candSeg, candRest, true, thresholds);
    cum.ce += ca.segment.errors, cum.cn += ca.segment.requests, cum.se += st.segment.errors, cum.sn += st.segment.requests;
    cum.cw += ca.segment.incorrect, cum.cl += ca.segment.labelled, cum.sw += st.segment.incorrect, cum.sl += st.segment.labelled;
    if (!out.guarded.failed) {
      const g = judgeWindow(GUARDED, guarded, { stable: st.whole, candidate: ca.whole, segments: [{ stable: st.segment, candidate: ca.segment }] });
      guarded = g.state;
      if (g.analysis.verdict === 'fail') {
        const bySegment = !g.analysis.checks.some((c) => !c.segment && c.verdict === 'fail');
        out.guarded = { failed: true, bySegment, segmentLabels: cum.cl, look: look + 1 };
      }
    }
    if (!out.unguardedFailed) {
      const u = judgeWindow(UNGUARDED, unguarded, { stable: st.whole, candidate: ca.whole });
      unguarded = u.state;
      if (u.analysis.verdict === 'fail') out.unguardedFailed = true;
    }
    if (!out.ab.halted) {
      const j = judgeSegmentGuardrails(AB, ab, { '1': [{ requests: cum.sn, errors: cum.se, labelled: cum.sl, incorrect: cum.sw }], '2': [{ requests: cum.cn, errors: cum.ce, labelled: cum.cl, incorrect: cum.cw }] });
      ab = j.state;
      if (j.trip) out.ab = { halted: true, segmentLabels: cum.cl };
    }
    if (!out.naive) {
      const e = cum.cn && cum.sn ? twoProportionZTest(cum.ce, cum.cn, cum.se, cum.sn, 'greater').pValue : 1;
      const w = cum.cl && cum.sl ? twoProportionZTest(cum.cw, cum.cl, cum.sw, cum.sl, 'greater').pValue : 1;
      if (Math.min(e, w) < DEFAULT_ANALYSIS.alpha) out.naive = true;
    }
  }
  return out;
}

const pct = (k: number) => `${k}/${RUNS} (${((100 * k) / RUNS).toFixed(1)} %)`;
function summarise(name: string, factor: number) {
  const outcomes = Array.from({ length: RUNS }, (_, r) => run(factor, r));
  const failed = outcomes.filter((o) => o.guarded.failed);
  const labels = failed.filter((o) => o.guarded.bySegment).map((o) => o.guarded.segmentLabels!).sort((a, b) => a - b);
  const looks = failed.map((o) => o.guarded.look!).sort((a, b) => a - b);
  const q = (xs: number[], p: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : '-');
  return {
    case: name,
    'rolled back (guardrail)': pct(failed.length),
    'of which by the segment': pct(failed.filter((o) => o.guarded.bySegment).length),
    'rolled back (no guardrail)': pct(outcomes.filter((o) => o.unguardedFailed).length),
    'z-test in segment, every look': pct(outcomes.filter((o) => o.naive).length),
    'candidate segment labels at rollback, median / p90': `${q(labels, 0.5)} / ${q(labels, 0.9)}`,
    'looks to rollback, median / p90': `${q(looks, 0.5)} / ${q(looks, 0.9)}`,
    'A/B guardrail halted': pct(outcomes.filter((o) => o.ab.halted).length),
    'A/B: arm segment labels at halt, median': q(outcomes.filter((o) => o.ab.halted).map((o) => o.ab.segmentLabels!).sort((a, b) => a - b), 0.5),
  };
}

const t0 = process.hrtime.bigint();
console.log(
  `segment guardrail: ${RUNS} rollouts × up to ${LOOKS} looks; per look ${REQUESTS} requests, candidate ${WEIGHT * 100} %, segment ${SHARE * 100} % of each version's; errors ${ERRORS}, wrong labels ${WRONG}, labels ${LABELS * 100} % of successful requests; default analysis + plan=pro, α ${DEFAULT_ANALYSIS.alpha}`,
);
console.table([summarise('null: candidate as good as stable, segment included', 1), summarise('segment 2× worse (errors and wrong labels), whole rates equal', 2), summarise('segment 3× worse, whole rates equal', 3)]);
console.log(`wall ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
