import { describe, expect, it } from 'vitest';
import { checkRollout, parseSteps, type CanaryRolloutInput } from './spec';

const base: CanaryRolloutInput = { model: 'm', candidateVersion: '2', steps: [{ weight: 10, pauseSeconds: 5 }, { weight: 100, pauseSeconds: 0 }], taskQueues: { cpu: 'q' } };

describe('parseSteps', () => {
  it('reads weights with optional pauses and units', () => {
    expect(parseSteps('5:30s,25:1m,50%:0.5h,100')).toEqual({
      ok: true,
      steps: [{ weight: 5, pauseSeconds: 30 }, { weight: 25, pauseSeconds: 60 }, { weight: 50, pauseSeconds: 1800 }, { weight: 100, pauseSeconds: 0 }],
    });
    expect(parseSteps('5:30x')).toEqual({ ok: false, message: 'steps: "5:30x" must be WEIGHT[:PAUSE], e.g. 25:60s' });
  });
});

describe('checkRollout', () => {
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
  ] as const)('rejects %j', (over, message) => {
    expect(checkRollout({ ...base, ...(over as Partial<CanaryRolloutInput>) })).toEqual({ ok: false, message });
  });
});
