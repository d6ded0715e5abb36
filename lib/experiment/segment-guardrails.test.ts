import { describe, expect, it } from 'vitest';
import { initialSegmentGuardState, judgeSegmentGuardrails, type SegmentCounts } from './segment-guardrails';
import { checkABTest, type ABTestInput } from './spec';

const input: ABTestInput = { model: 'm', versions: ['1', '2', '3'], primaryMetric: 'accuracy', tau2: 0.001, maxDurationSeconds: 3600, taskQueues: { cpu: 'q' }, guardrails: { segments: [{ attribute: 'plan', value: 'pro' }] } };
const spec = (() => {
  const r = checkABTest(input);
  if (!r.ok) throw new Error(r.message);
  return r.value;
})();
const c = (requests: number, errors: number, labelled: number, incorrect: number): SegmentCounts => ({ requests, errors, labelled, incorrect });

describe('A/B segment guardrails', () => {
  it('validates guardrails.segments and segmentAlpha with one line naming the field', () => {
    const g = { attribute: 'plan', value: 'pro' };
    expect(checkABTest({ ...input, guardrails: { segments: [g, g] } })).toMatchObject({ ok: false, message: 'guardrails.segments[1] plan=pro appears twice' });
    expect(checkABTest({ ...input, guardrails: { segments: [{ attribute: '', value: 'x' }] } })).toMatchObject({ ok: false, message: expect.stringMatching(/^guardrails\.segments\[0\]\.attribute/) });
    expect(checkABTest({ ...input, guardrails: { segmentAlpha: 0.7 } })).toMatchObject({ ok: false, message: expect.stringMatching(/segmentAlpha/) });
    expect(spec.guardrails.segments).toEqual([g]);
  });

  it('splits segmentAlpha over (segment, arm, metric): 1 × 2 arms × 2 metrics = 4 tests, threshold 400 at 0.01', () => {
    const state = initialSegmentGuardState(spec);
    expect(state.tests.map((t) => `${t.segment} v${t.version} ${t.metric}`)).toEqual(['plan=pro v2 errorRate', 'plan=pro v2 accuracy', 'plan=pro v3 errorRate', 'plan=pro v3 accuracy']);
    expect(judgeSegmentGuardrails(spec, state, {}).threshold).toBe(400);
  });

  it('halts for the arm worse than the control within the segment, naming it, from cumulative counts look after look', () => {
    let state = initialSegmentGuardState(spec);
    let trip: ReturnType<typeof judgeSegmentGuardrails>['trip'];
    let look = 0;
    while (!trip && look < 100) {
      look++;
      const r = judgeSegmentGuardrails(spec, state, { '1': [c(200 * look, 2 * look, 100 * look, 10 * look)], '2': [c(200 * look, 2 * look, 100 * look, 10 * look)], '3': [c(200 * look, 2 * look, 100 * look, 25 * look)] });
      state = r.state;
      trip = r.trip;
    }
    expect(trip).toMatchObject({ version: '3', segment: 'plan=pro' });
    expect(trip!.reason).toMatch(/^guardrail: v3 is worse than control v1 within segment plan=pro: wrong-label rate 0\.25 \(\d+\/\d+\) vs 0\.1 /);
    // The cumulative counts are the evidence's: each look added only what was new.
    expect(state.tests[3]!.arm).toEqual({ events: 25 * look, trials: 100 * look });
  });

  it('does not halt for arms as good as the control, and a count that goes down adds nothing', () => {
    let state = initialSegmentGuardState(spec);
    for (let look = 1; look <= 50; look++) {
      const same = c(200 * look, 2 * look, 100 * look, 10 * look);
      const r = judgeSegmentGuardrails(spec, state, { '1': [same], '2': [same], '3': [same] });
      expect(r.trip).toBeUndefined();
      state = r.state;
    }
    const r = judgeSegmentGuardrails(spec, state, { '1': [c(0, 0, 0, 0)], '2': [c(0, 0, 0, 0)], '3': [c(0, 0, 0, 0)] });
    expect(r.state.tests.map((t) => t.harm)).toEqual(state.tests.map((t) => t.harm));
  });
});
