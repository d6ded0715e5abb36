import { describe, expect, it } from 'vitest';
import { proportionSummary, type MsprtState } from '../stats/always-valid';
import { evaluateLook, type ArmData } from './evaluate';
import { checkABTest, type ABTestInput } from './spec';

const input: ABTestInput = { model: 'm', versions: ['1', '2'], primaryMetric: 'accuracy', tau2: 0.0025, maxDurationSeconds: 600, minSamplePerArm: 100, taskQueues: { cpu: 'q' } };
const spec = (() => {
  const r = checkABTest(input);
  if (!r.ok) throw new Error(r.message);
  return r.value;
})();

const arm = (version: string, requests: number, correct: number, n = requests, errors = 0): ArmData => ({
  version,
  requests,
  units: requests,
  errors,
  p95LatencyMs: 3,
  primary: proportionSummary(correct, n),
});

function run(looks: Array<[ArmData, ArmData]>, elapsedStep = 10) {
  let monitors: MsprtState[] = [];
  let last;
  for (const [i, arms] of looks.entries()) {
    const r = evaluateLook({ spec, arms, monitors, elapsedSeconds: (i + 1) * elapsedStep });
    monitors = r.monitors;
    last = r.look;
  }
  return last!;
}

describe('evaluateLook', () => {
  it('declares a winner when one version is clearly better, with lift, interval and p-value', () => {
    const look = run([
      [arm('1', 500, 350), arm('2', 500, 450)],
      [arm('1', 1000, 700), arm('2', 1000, 900)],
    ]);
    expect(look.decision.kind).toBe('winner');
    if (look.decision.kind === 'winner') expect(look.decision.version).toBe('2');
    expect(look.decision.reason).toMatch(/^v2 beats control v1: 28\.57% lift, difference 0\.2000 \(always-valid 95% CI \[/);
    expect(look.comparisons[0]!.ci![0]).toBeGreaterThan(0);
  });

  it('keeps collecting on equal arms, and ends inconclusive at the maximum duration', () => {
    const look = run([[arm('1', 1000, 800), arm('2', 1000, 800)]], 10);
    expect(look.decision.kind).toBe('continue');
    const late = evaluateLook({ spec, arms: [arm('1', 1000, 800), arm('2', 1000, 801)], monitors: [], elapsedSeconds: 601 });
    expect(late.look.decision.kind).toBe('inconclusive');
  });

  it('does not decide before the minimum sample', () => {
    const look = run([[arm('1', 60, 20), arm('2', 60, 58)]]);
    expect(look.decision).toEqual({ kind: 'continue', reason: 'collecting: need 100 observations per arm and 0s' });
  });

  it('halts on a sample-ratio mismatch before looking at the metric', () => {
    const look = run([[arm('1', 1400, 700), arm('2', 600, 550)]]);
    expect(look.decision.kind).toBe('srm');
    expect(look.decision.reason).toMatch(/^sample-ratio mismatch: observed v1 1400 \/ v2 600 units for a planned 50\/50 split \(sequential test: e-value 4\.65e\+46 ≥ 1000 = 1\/0\.001\)/);
    // The evidence travels with the look (e-value cross-checked in lib/stats/sequential-multinomial.test.ts).
    expect(look.srm).toMatchObject({ counts: [1400, 600], expected: [0.5, 0.5], threshold: 1000, mismatch: true });
  });

  it('does not halt on a small skew that a repeated chi-square would flag: the sequential test wants more evidence', () => {
    // 1,085 / 915 units: chi-square p ≈ 1.4e-4 < 0.001, but e ≈ 72 < 1/0.001 (SciPy), so the sequential check keeps looking.
    const look = run([[arm('1', 1085, 700), arm('2', 915, 600)]]);
    expect(look.srm?.mismatch).toBe(false);
    expect(look.srm!.eValue).toBeCloseTo(71.62065, 3);
    expect(look.decision.kind).not.toBe('srm');
  });

  it('ends inconclusive at the planned maximum sample per arm', () => {
    const s = checkABTest({ ...input, maxSamplePerArm: 1000 });
    if (!s.ok) throw new Error(s.message);
    const r = evaluateLook({ spec: s.value, arms: [arm('1', 1000, 800), arm('2', 1000, 801)], monitors: [], elapsedSeconds: 5 });
    expect(r.look.decision).toEqual({ kind: 'inconclusive', reason: 'no significant difference at the planned maximum of 1000 observations per arm (v1 n=1000, v2 n=1000)' });
  });

  it('stops on a guardrail', () => {
    const s = checkABTest({ ...input, guardrails: { maxErrorRate: 0.05 } });
    if (!s.ok) throw new Error(s.message);
    const r = evaluateLook({ spec: s.value, arms: [arm('1', 500, 400), arm('2', 500, 400, 500, 60)], monitors: [], elapsedSeconds: 5 });
    expect(r.look.decision).toMatchObject({ kind: 'guardrail', version: '2' });
  });

  it('adjusts p-values for more than two arms (Bonferroni)', () => {
    const s = checkABTest({ ...input, versions: ['1', '2', '3'] });
    if (!s.ok) throw new Error(s.message);
    const r = evaluateLook({ spec: s.value, arms: [arm('1', 600, 420), arm('2', 600, 440), arm('3', 600, 430)], monitors: [], elapsedSeconds: 5 });
    for (const c of r.look.comparisons) expect(c.adjustedPValue).toBeCloseTo(Math.min(1, c.pValue * 2), 12);
  });
});

describe('checkABTest', () => {
  it.each([
    [{ versions: ['1'] }, 'versions: an A/B test needs at least two versions'],
    [{ split: [70, 20] }, 'split: weights must sum to 100 (got 90)'],
    [{ tau2: 0 }, 'tau2 (the mSPRT mixing variance) must be > 0 (got 0)'],
    [{ srmThreshold: 0.7 }, 'srmThreshold (α of the sequential sample-ratio test) must be > 0 and < 0.5 (got 0.7)'],
    [{ maxSamplePerArm: 50 }, 'maxSamplePerArm must be an integer >= minSamplePerArm (100) (got 50)'],
    [{ primaryMetric: 'revenue' }, 'primary metric must be accuracy, click-rate or rating (got revenue)'],
  ] as const)('rejects %j', (over, message) => {
    expect(checkABTest({ ...input, ...(over as Partial<ABTestInput>) })).toEqual({ ok: false, message });
  });
});
