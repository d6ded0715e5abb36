import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { DEFAULT_ANALYSIS } from '../rollout/spec';
import { initialShadowState, judgeShadowWindow, shadowSpecOf, type ShadowSpec, type ShadowWindow } from './judge';

const spec: ShadowSpec = shadowSpecOf(DEFAULT_ANALYSIS);
const none: ShadowWindow = { shadowOnlyWrong: 0, servedOnlyWrong: 0, shadowOnlyErrors: 0, servedOnlyErrors: 0 };

/** Simulated looks of `batch` labelled requests each: each version wrong independently at its rate. */
function run(seed: number, servedError: number, shadowError: number, looks: number, batch: number): { worse: boolean; notWorse: boolean; looksToWorse: number | null } {
  const rng = createRng(seed);
  let state = initialShadowState(spec);
  let looksToWorse: number | null = null;
  for (let l = 0; l < looks; l++) {
    const w = { ...none };
    for (let i = 0; i < batch; i++) {
      const servedWrong = rng.next() < servedError;
      const shadowWrong = rng.next() < shadowError;
      if (shadowWrong && !servedWrong) w.shadowOnlyWrong++;
      if (servedWrong && !shadowWrong) w.servedOnlyWrong++;
    }
    const r = judgeShadowWindow(spec, state, w);
    state = r.state;
    if (r.verdict.verdict === 'worse' && looksToWorse === null) looksToWorse = l + 1;
  }
  return { worse: state.checks.some((c) => c.worse), notWorse: state.checks[0]!.notWorse, looksToWorse };
}

describe('shadow judge (sequential McNemar)', () => {
  it('takes the canary’s α, promotion α, and per metric its tolerated change and regression', () => {
    expect(spec).toEqual({
      alpha: 0.01,
      promotionAlpha: 0.02,
      checks: [
        { metric: 'accuracy', margin: 0, regression: 0.3 },
        { metric: 'errorRate', margin: 0, regression: 0.5 },
      ],
    });
  });

  it('concordant requests carry no evidence: E stays 1', () => {
    const r = judgeShadowWindow(spec, initialShadowState(spec), none);
    expect(r.verdict.verdict).toBe('inconclusive');
    expect(r.verdict.checks.map((c) => c.harmE)).toEqual([1, 1]);
  });

  it('calls an equally good shadow worse in at most α of runs, looking after every batch of 50 for 100 looks', () => {
    let flagged = 0;
    const runs = 400;
    for (let s = 0; s < runs; s++) if (run(1000 + s, 0.2, 0.2, 100, 50).worse) flagged++;
    // α = 0.01 bounds it over every look; a fixed-horizon test re-run at each of 100 looks would flag far more.
    expect(flagged / runs).toBeLessThanOrEqual(0.01);
  });

  it('finds a shadow with twice the serving version’s wrong labels worse, and an equal one not worse by 30 % in accuracy', () => {
    const bad = run(7, 0.1, 0.2, 40, 50);
    expect(bad.worse).toBe(true);
    expect(bad.looksToWorse).toBeLessThan(20);
    const same = run(8, 0.1, 0.1, 200, 100);
    expect(same.worse).toBe(false);
    expect(same.notWorse).toBe(true);
  });

  it('judges errors on requests only one version failed, and names the counts in the reason', () => {
    let state = initialShadowState(spec);
    let verdict;
    for (let i = 0; i < 10; i++) ({ state, verdict } = judgeShadowWindow(spec, state, { ...none, shadowOnlyErrors: 5, servedOnlyErrors: 0 }));
    expect(verdict!.verdict).toBe('worse');
    expect(verdict!.checks[1]!.verdict).toBe('worse');
    expect(verdict!.reason).toMatch(/^errorRate: only the shadow failed on 50, only the serving version on 0 requests: shadow worse beyond the tolerated 0% \(evidence E = .* ≥ 200\)$/);
  });

  it('a margin moves the null: 1.5× the discordant errors is not evidence against a 100 % margin', () => {
    const wide: ShadowSpec = { ...spec, checks: [{ metric: 'accuracy', margin: 1, regression: 2 }] };
    let state = initialShadowState(wide);
    for (let i = 0; i < 50; i++) state = judgeShadowWindow(wide, state, { ...none, shadowOnlyWrong: 15, servedOnlyWrong: 10 }).state;
    expect(state.checks[0]!.worse).toBe(false);
    let tight = initialShadowState(spec);
    for (let i = 0; i < 50; i++) tight = judgeShadowWindow(spec, tight, { ...none, shadowOnlyWrong: 15, servedOnlyWrong: 10 }).state;
    expect(tight.checks[0]!.worse).toBe(true);
  });

  it('refuses a spec it cannot honour', () => {
    expect(() => judgeShadowWindow({ ...spec, alpha: 0 }, initialShadowState(spec), none)).toThrow(/alpha/);
  });
});
