import { describe, expect, it } from 'vitest';
import { checkRollout, parseSegmentGuardrail, parseSteps, type CanaryRolloutInput } from './spec';

const base: CanaryRolloutInput = { model: 'm', candidateVersion: '2', steps: [{ weight: 10, pauseSeconds: 5 }, { weight: 100, pauseSeconds: 0 }], taskQueues: { cpu: 'q' } };

describe('parseSteps', () => {
  it('reads weights with optional pauses and units', () => {
    expect(parseSteps('5:30s,25:1m,50%:0.5h,100')).toEqual({
      ok: true,
      steps: [{ weight: 5, pauseSeconds: 30 }, { weight: 25, pauseSeconds: 60 }, { weight: 50, pauseSeconds: 1800 }, { weight: 100, pauseSeconds: 0 }],
    });
    expect(parseSteps('5:30x')).toEqual({ ok: false, message: 'steps: "5:30x" must be WEIGHT[:PAUSE], e.g. 25:60s' });
  });

  it('reads a shadow step: weight 0, a duration, marked shadow', () => {
    expect(parseSteps('shadow:10m,5:30s')).toEqual({ ok: true, steps: [{ weight: 0, pauseSeconds: 600, shadow: true }, { weight: 5, pauseSeconds: 30 }] });
    expect(parseSteps('shadow,5')).toEqual({ ok: false, message: 'steps: "shadow" must be shadow:DURATION, e.g. shadow:10m' });
  });
});

describe('checkRollout', () => {
  it('accepts a first shadow step followed by traffic steps', () => {
    const r = checkRollout({ ...base, steps: [{ weight: 0, pauseSeconds: 600, shadow: true }, ...base.steps] });
    expect(r.ok).toBe(true);
  });

  it('fills in the default analysis', () => {
    const r = checkRollout(base);
    if (!r.ok) throw new Error(r.message);
    expect(r.value.analysis.judge).toBe('sequential');
    expect(r.value.analysis.alpha).toBe(0.01);
    expect(r.value.analysis.metrics.map((m) => m.metric)).toEqual(['errorRate', 'p95LatencyMs', 'p99LatencyMs', 'accuracy']);
  });

  it('keeps the first judge under its name, with its own metrics', () => {
    const r = checkRollout({ ...base, analysis: { judge: 'fixed-horizon' } });
    if (!r.ok) throw new Error(r.message);
    expect(r.value.analysis.failureLimit).toBe(0);
    expect(r.value.analysis.metrics.map((m) => m.metric)).toEqual(['errorRate', 'p95LatencyMs', 'accuracy']);
  });

  it.each([
    [{ candidateVersion: 'two' }, 'candidate version must be a registry version number (got two)'],
    [{ stableVersion: '2' }, 'candidate and stable are the same version (2)'],
    [{ steps: [] }, 'steps: at least one step is required'],
    [{ steps: [{ weight: 0, pauseSeconds: 1 }] }, 'steps[0].weight must be > 0 and <= 100 (got 0)'],
    [{ steps: [{ weight: 50, pauseSeconds: 1 }, { weight: 20, pauseSeconds: 1 }] }, "steps[1].weight 20 is below the previous step's 50: weights must not decrease"],
    [{ analysis: { intervalSeconds: 0 } }, 'analysis.intervalSeconds must be between 1 and 3600 (got 0)'],
    [{ analysis: { failureLimit: -1 } }, 'analysis.failureLimit must be a non-negative integer (got -1)'],
    [{ analysis: { judge: 'bayes' } }, 'analysis.judge must be sequential or fixed-horizon (got bayes)'],
    [{ analysis: { alpha: 0.7 } }, 'analysis.alpha must be > 0 and < 0.5 (got 0.7)'],
    [{ analysis: { metrics: [{ metric: 'errorRate' }, { metric: 'errorRate' }] } }, 'analysis.metrics[1].metric errorRate appears twice'],
    [{ analysis: { metrics: [{ metric: 'errorRate', regressionAbsolute: 2 }] } }, 'analysis.metrics[0].regressionAbsolute is a rate and must be < 1 (got 2)'],
    [{ analysis: { metrics: [{ metric: 'cpu' }] } }, 'analysis.metrics[0].metric must be one of errorRate, p95LatencyMs, p99LatencyMs, accuracy (got cpu)'],
    [{ steps: [{ weight: 0, pauseSeconds: 60, shadow: true }] }, 'steps: a shadow step must be followed by a traffic step'],
    [{ steps: [{ weight: 5, pauseSeconds: 60 }, { weight: 0, pauseSeconds: 60, shadow: true }] }, 'steps[1]: only the first step may be a shadow step'],
    [{ steps: [{ weight: 0, pauseSeconds: 20_000, shadow: true }, { weight: 100, pauseSeconds: 0 }] }, 'steps[0].pauseSeconds of a shadow step must be above 0 and at most 1000 analysis intervals (10000s; got 20000)'],
    [{ steps: [{ weight: 0, pauseSeconds: 60, shadow: true }, { weight: 100, pauseSeconds: 0 }], analysis: { judge: 'fixed-horizon' } }, 'steps[0]: a shadow step is judged by the sequential judge only (analysis.judge sequential)'],
  ] as const)('rejects %j', (over, message) => {
    expect(checkRollout({ ...base, ...(over as Partial<CanaryRolloutInput>) })).toEqual({ ok: false, message });
  });
});

describe('segment guardrails in the rollout spec', () => {


  it('parses ATTRIBUTE=VALUE (the value may hold "=") and refuses anything else with one line', () => {
    expect(parseSegmentGuardrail('plan=pro')).toEqual({ ok: true, value: { attribute: 'plan', value: 'pro' } });
    expect(parseSegmentGuardrail('q=a=b')).toEqual({ ok: true, value: { attribute: 'q', value: 'a=b' } });
    expect(parseSegmentGuardrail('plan')).toMatchObject({ ok: false, message: expect.stringMatching(/must be ATTRIBUTE=VALUE/) });
    expect(parseSegmentGuardrail('=pro')).toMatchObject({ ok: false });
    expect(parseSegmentGuardrail('plan=')).toMatchObject({ ok: false, message: expect.stringMatching(/value must be a non-empty string/) });
  });

  it('accepts guardrails on the sequential judge and keeps them in the normalised analysis', () => {
    const r = checkRollout({ ...base, analysis: { segmentGuardrails: [{ attribute: 'plan', value: 'pro' }, { attribute: 'country', value: 'FR' }] } });
    expect(r.ok && r.value.analysis.segmentGuardrails).toEqual([{ attribute: 'plan', value: 'pro' }, { attribute: 'country', value: 'FR' }]);
  });

  it('refuses duplicates, too many, the fixed-horizon judge, and an analysis without a rate metric', () => {
    const g = { attribute: 'plan', value: 'pro' };
    expect(checkRollout({ ...base, analysis: { segmentGuardrails: [g, g] } })).toMatchObject({ ok: false, message: expect.stringMatching(/plan=pro appears twice/) });
    expect(checkRollout({ ...base, analysis: { segmentGuardrails: Array.from({ length: 9 }, (_, i) => ({ attribute: 'plan', value: `v${i}` })) } })).toMatchObject({ ok: false, message: expect.stringMatching(/at most 8/) });
    expect(checkRollout({ ...base, analysis: { judge: 'fixed-horizon', segmentGuardrails: [g] } })).toMatchObject({ ok: false, message: expect.stringMatching(/sequential judge only/) });
    expect(checkRollout({ ...base, analysis: { metrics: [{ metric: 'p95LatencyMs' }], segmentGuardrails: [g] } })).toMatchObject({ ok: false, message: expect.stringMatching(/neither metric/) });
    expect(checkRollout({ ...base, analysis: { segmentGuardrails: [{ attribute: 'pl\nan', value: 'x' }] } })).toMatchObject({ ok: false, message: expect.stringMatching(/segmentGuardrails\[0\]\.attribute/) });
  });
});
