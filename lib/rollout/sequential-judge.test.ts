import { describe, expect, it } from 'vitest';
import { initialJudgeState, judgeWindow, regressionBoundary, windowThresholds, type VersionWindow } from './sequential-judge';
import { DEFAULT_ANALYSIS, type AnalysisSpec } from './spec';

const spec: AnalysisSpec = DEFAULT_ANALYSIS;

function win(over: Partial<VersionWindow> = {}): VersionWindow {
  return { requests: 1000, errors: 10, ok: 990, labelled: 500, incorrect: 50, above: {}, p95Ms: 40, p99Ms: 60, quantileCount: 5000, ...over };
}

describe('sequential canary judge', () => {
  it('sets latency references from the stable baseline and asks for the candidate counted above (1 + tolerance) × it', () => {
    const state = initialJudgeState(spec, win({ p95Ms: 40, p99Ms: 60 }));
    expect(windowThresholds(spec, state)).toEqual({ stable: { p95LatencyMs: 40, p99LatencyMs: 60 }, candidate: { p95LatencyMs: 40 * 1.1, p99LatencyMs: 60 * 1.1 } });
  });

  it('waits for a reference when there was no stable traffic before the rollout', () => {
    const state = initialJudgeState(spec);
    expect(windowThresholds(spec, state)).toEqual({ stable: {}, candidate: {} });
    const r = judgeWindow(spec, state, { stable: win({ quantileCount: 100, p95Ms: 30 }), candidate: win() });
    expect(r.analysis.checks[1]!.reason).toMatch(/waiting for 200 stable requests/);
    // A window with enough stable requests sets it for the next look.
    const r2 = judgeWindow(spec, r.state, { stable: win({ quantileCount: 300, p95Ms: 30 }), candidate: win() });
    expect(r2.state.metrics[1]!.referenceMs).toBe(30);
  });

  it('rolls back on a doubled error rate with the evidence in the reason, and says how much α the metric spends', () => {
    let state = initialJudgeState(spec, win());
    let verdict = 'inconclusive';
    let reason = '';
    for (let look = 0; look < 30 && verdict !== 'fail'; look++) {
      const th = windowThresholds(spec, state);
      const r = judgeWindow(spec, state, {
        stable: win({ requests: 500, errors: 5, ok: 495, above: { p95LatencyMs: 25, p99LatencyMs: 5 } }),
        candidate: win({ requests: 500, errors: 12, ok: 488, above: { p95LatencyMs: 20, p99LatencyMs: 4 } }),
      });
      expect(th.stable.p95LatencyMs).toBe(40);
      state = r.state;
      verdict = r.analysis.verdict;
      reason = r.analysis.reason;
    }
    expect(verdict).toBe('fail');
    expect(reason).toMatch(/^error rate .* vs stable .*: worse than stable beyond the tolerated 0% \(evidence E = .* ≥ 400, α 0\.0025\)$/);
  });

  it('catches a slower tail at the same median: more candidate requests beyond stable p95', () => {
    let state = initialJudgeState(spec, win());
    let failed: string | undefined;
    for (let look = 0; look < 20 && !failed; look++) {
      const r = judgeWindow(spec, state, {
        stable: win({ requests: 500, errors: 0, ok: 500, above: { p95LatencyMs: 25, p99LatencyMs: 5 } }),
        candidate: win({ requests: 500, errors: 0, ok: 500, above: { p95LatencyMs: 60, p99LatencyMs: 15 } }),
      });
      state = r.state;
      failed = r.analysis.checks.find((c) => c.verdict === 'fail')?.metric;
    }
    expect(failed).toBe('p95LatencyMs');
  });

  it('passes once every metric shows no regression beyond its boundary, and keeps the evidence', () => {
    let state = initialJudgeState(spec, win());
    let last;
    for (let look = 0; look < 60; look++) {
      const same = win({ requests: 500, errors: 5, ok: 495, labelled: 400, incorrect: 40, above: { p95LatencyMs: 20, p99LatencyMs: 4 } });
      last = judgeWindow(spec, state, { stable: same, candidate: same });
      state = last.state;
      if (last.analysis.verdict === 'pass') break;
    }
    expect(last!.analysis.verdict).toBe('pass');
    for (const c of last!.analysis.checks) {
      expect(c.evidence.safetyE).toBeGreaterThanOrEqual(20);
      expect(c.evidence.harmE).toBeLessThan(400);
    }
  });

  it('judges accuracy on wrong labels, and an absolute limit on its own', () => {
    const withLimit: AnalysisSpec = { ...spec, metrics: [{ metric: 'accuracy', minAbsolute: 0.8 }] };
    let state = initialJudgeState(withLimit);
    let reason = '';
    for (let look = 0; look < 10 && !reason; look++) {
      // Both versions equally bad: no harm against stable, but the candidate is below the absolute limit.
      const r = judgeWindow(withLimit, state, { stable: win({ labelled: 200, incorrect: 60 }), candidate: win({ labelled: 200, incorrect: 60 }) });
      state = r.state;
      if (r.analysis.verdict === 'fail') reason = r.analysis.reason;
    }
    expect(reason).toMatch(/^accuracy: wrong-label rate .*: above the absolute limit/);
  });

  it('bounds the regression relative to stable, or absolutely when that is larger (a zero base rate)', () => {
    const errors = spec.metrics[0]!;
    expect(regressionBoundary(errors, { events: 199.5, trials: 9999 })).toBeCloseTo(0.03, 6);
    expect(regressionBoundary(errors, { events: 0, trials: 9999 })).toBeCloseTo(0.00005 + 0.0025, 6);
    expect(regressionBoundary(spec.metrics[1]!, { events: 0, trials: 0 })).toBeCloseTo(0.1, 12);
  });

  it('state is plain JSON', () => {
    const r = judgeWindow(spec, initialJudgeState(spec, win()), { stable: win(), candidate: win() });
    expect(JSON.parse(JSON.stringify(r.state))).toEqual(r.state);
  });
});

describe('sequential judge: segment guardrails', () => {
  const guarded: AnalysisSpec = { ...spec, segmentGuardrails: [{ attribute: 'plan', value: 'pro' }] };
  const seg = (over: Partial<{ requests: number; errors: number; labelled: number; incorrect: number }> = {}) => ({ requests: 200, errors: 2, labelled: 100, incorrect: 10, ...over });
  // Whole windows identical for both versions: only the segment can tell them apart.
  const whole = { stable: win({ requests: 1000, errors: 10 }), candidate: win({ requests: 1000, errors: 10 }) };

  it('splits α over one more harm test per (segment, rate metric): 4 metrics + 2 = 6 tests, threshold 600 at α 0.01', () => {
    const r = judgeWindow(guarded, initialJudgeState(guarded, win()), { ...whole, segments: [{ stable: seg(), candidate: seg() }] });
    const segChecks = r.analysis.checks.filter((c) => c.segment);
    expect(segChecks.map((c) => [c.segment, c.metric])).toEqual([['plan=pro', 'errorRate'], ['plan=pro', 'accuracy']]);
    expect(segChecks[0]!.evidence).toMatchObject({ harmThreshold: 600, alphaSpent: 0.01 / 6 });
    // The whole rollout's checks spend the same smaller share.
    expect(r.analysis.checks[0]!.evidence).toMatchObject({ harmThreshold: 600 });
  });

  it('leaves a spec without guardrails exactly as it was: no segment state, threshold 400', () => {
    const r = judgeWindow(spec, initialJudgeState(spec, win()), whole);
    expect(r.state.segments).toBeUndefined();
    expect(r.analysis.checks.every((c) => c.segment === undefined)).toBe(true);
    expect(r.analysis.checks[0]!.evidence).toMatchObject({ harmThreshold: 400 });
  });

  it('rolls back when the candidate is clearly worse within the segment while the whole is alike, naming the segment', () => {
    let state = initialJudgeState(guarded, win());
    let result: ReturnType<typeof judgeWindow>['analysis'] | undefined;
    for (let look = 0; look < 50 && result?.verdict !== 'fail'; look++) {
      const r = judgeWindow(guarded, state, { ...whole, segments: [{ stable: seg({ labelled: 100, incorrect: 10 }), candidate: seg({ labelled: 100, incorrect: 25 }) }] });
      state = r.state;
      result = r.analysis;
    }
    expect(result!.verdict).toBe('fail');
    expect(result!.reason).toMatch(/^segment plan=pro: accuracy: wrong-label rate 0\.25 .* vs stable 0\.1 .*: worse than stable within the segment/);
    // The whole-rollout checks saw no harm.
    expect(result!.checks.filter((c) => !c.segment).every((c) => c.verdict !== 'fail')).toBe(true);
  });

  it('does not hold a promotion back: a quiet segment with no evidence either way passes with the rest', () => {
    let state = initialJudgeState(guarded, win());
    let verdict = 'inconclusive';
    for (let look = 0; look < 200 && verdict !== 'pass'; look++) {
      const w = { stable: win({ requests: 2000, errors: 20, ok: 1980, labelled: 1000, incorrect: 100, above: { p95LatencyMs: 99, p99LatencyMs: 20 } }), candidate: win({ requests: 2000, errors: 20, ok: 1980, labelled: 1000, incorrect: 100, above: { p95LatencyMs: 99, p99LatencyMs: 20 } }) };
      const r = judgeWindow(guarded, state, { ...w, segments: [{ stable: seg({ requests: 0, errors: 0, labelled: 0, incorrect: 0 }), candidate: seg({ requests: 0, errors: 0, labelled: 0, incorrect: 0 }) }] });
      state = r.state;
      verdict = r.analysis.verdict;
    }
    expect(verdict).toBe('pass');
  });

  it('keeps its evidence across looks (the state a continued run carries)', () => {
    const r1 = judgeWindow(guarded, initialJudgeState(guarded, win()), { ...whole, segments: [{ stable: seg(), candidate: seg({ errors: 6 }) }] });
    const r2 = judgeWindow(guarded, JSON.parse(JSON.stringify(r1.state)), { ...whole, segments: [{ stable: seg(), candidate: seg({ errors: 6 }) }] });
    expect(r2.state.segments![0]!.metrics[0]!.candidate).toEqual({ events: 12, trials: 400 });
    expect(r2.state.segments![0]!.metrics[0]!.harmMaxLogE).toBeGreaterThan(r1.state.segments![0]!.metrics[0]!.harmMaxLogE);
  });
});
