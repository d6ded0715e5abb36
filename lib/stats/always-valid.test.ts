import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed } from '../random';
import {
  bonferroni,
  bonferroniAlpha,
  createMsprt,
  holm,
  initialMsprtState,
  msprtCriticalZ,
  msprtLogLikelihoodRatio,
  msprtStep,
  msprtTau2ForVariance,
  normalMixtureConfidenceSequence,
  normalMixtureRadius,
  proportionSummary,
} from './always-valid';
import type { SampleSummary } from './tests';

/** Cumulative Gaussian summaries of two arms, `batch` new observations per arm per look. */
function* gaussianLooks(seed: number, looks: number, batch: number, meanA = 0, meanB = 0): Generator<[SampleSummary, SampleSummary]> {
  const rng = createRng(seed);
  let sa = 0;
  let qa = 0;
  let sb = 0;
  let qb = 0;
  let n = 0;
  for (let k = 0; k < looks; k++) {
    for (let i = 0; i < batch; i++) {
      const x = meanA + rng.normal();
      const y = meanB + rng.normal();
      sa += x;
      qa += x * x;
      sb += y;
      qb += y * y;
    }
    n += batch;
    const ma = sa / n;
    const mb = sb / n;
    yield [
      { n, mean: ma, variance: (qa - n * ma * ma) / (n - 1) },
      { n, mean: mb, variance: (qb - n * mb * mb) / (n - 1) },
    ];
  }
}

describe('mSPRT likelihood ratio and confidence sequence', () => {
  it('computes Λ by the closed form of Johari et al. (hand-checked value)', () => {
    // v = 0.01, τ² = 0.04, θ̂ = 0.3: Λ = sqrt(0.01/0.05)·exp(0.04·0.09/(2·0.01·0.05)) = sqrt(0.2)·e^3.6
    expect(msprtLogLikelihoodRatio(0.3, 0.01, 0.04)).toBeCloseTo(0.5 * Math.log(0.2) + 3.6, 14);
    expect(msprtLogLikelihoodRatio(0.5, 0.01, 0.04, 0.2)).toBeCloseTo(0.5 * Math.log(0.2) + 3.6, 14);
  });

  it('has the interval ends exactly where Λ(θ) = 1/α (the mSPRT and the confidence sequence agree)', () => {
    for (const [estimate, variance, tau2, alpha] of [
      [0.02, 1e-4, 1e-3, 0.05],
      [-1.5, 0.3, 0.05, 0.01],
      [0, 2e-6, 5e-4, 0.1],
    ]) {
      const [lo, hi] = normalMixtureConfidenceSequence(estimate, variance, tau2, alpha);
      expect(msprtLogLikelihoodRatio(estimate, variance, tau2, lo)).toBeCloseTo(-Math.log(alpha), 10);
      expect(msprtLogLikelihoodRatio(estimate, variance, tau2, hi)).toBeCloseTo(-Math.log(alpha), 10);
      // Howard et al.'s form in intrinsic time t = 1/v, ρ = 1/τ²: |S_t| ≤ sqrt((t + ρ)·log((t + ρ)/(ρα²))).
      const t = 1 / variance;
      const rho = 1 / tau2;
      expect(normalMixtureRadius(variance, tau2, alpha) * t).toBeCloseTo(Math.sqrt((t + rho) * Math.log((t + rho) / (rho * alpha * alpha))), 8);
    }
  });

  it('msprtTau2ForVariance minimises the critical z at that variance', () => {
    const v = 3.6e-5;
    const tau2 = msprtTau2ForVariance(v, 0.05);
    expect(tau2 / v).toBeGreaterThan(8);
    expect(tau2 / v).toBeLessThan(8.5);
    const z = msprtCriticalZ(v, tau2, 0.05);
    for (const f of [0.5, 0.9, 1.1, 2]) expect(msprtCriticalZ(v, tau2 * f, 0.05)).toBeGreaterThan(z);
    // Always stricter than the fixed-horizon 1.96: the price of peeking at will.
    expect(z).toBeGreaterThan(3);
    expect(z).toBeLessThan(3.1);
  });
});

describe('createMsprt', () => {
  it('gives a p-value that never increases and an interval that never widens', () => {
    for (let seed = 0; seed < 20; seed++) {
      const m = createMsprt({ tau2: 0.01, alpha: 0.05 });
      let previousP = 1;
      let previousWidth = Infinity;
      for (const [a, b] of gaussianLooks(deriveSeed(1, seed), 200, 10, seed % 2 === 0 ? 0 : 0.1)) {
        const r = m.update(a, b);
        expect(r.pValue).toBeLessThanOrEqual(previousP);
        previousP = r.pValue;
        if (r.ci) {
          const width = r.ci[1] - r.ci[0];
          expect(width).toBeLessThanOrEqual(previousWidth);
          previousWidth = width;
        }
      }
    }
  });

  it('keeps the chance of ever rejecting under H0 at most α (+ simulation margin) over 500 looks', () => {
    // 400 seeded A/A experiments, 10 new observations per arm per look, 500 looks each (5,000 per arm).
    const alpha = 0.05;
    const experiments = 400;
    const tau2 = msprtTau2ForVariance(2 / 500, alpha); // tightest around 500 per arm, mid-run
    let everRejected = 0;
    let naiveEverRejected = 0;
    for (let e = 0; e < experiments; e++) {
      const m = createMsprt({ tau2, alpha });
      let naive = false;
      for (const [a, b] of gaussianLooks(deriveSeed(2026, e), 500, 10)) {
        const r = m.update(a, b);
        const z = (a.mean - b.mean) / Math.sqrt(a.variance / a.n + b.variance / b.n);
        naive ||= Math.abs(z) > 1.959963984540054;
        if (r.reject) {
          everRejected++;
          break;
        }
      }
      if (naive) naiveEverRejected++;
    }
    // Binomial sd at 400 experiments is ~0.011: a 0.03 margin is ~3 sd.
    expect(everRejected / experiments).toBeLessThanOrEqual(alpha + 0.03);
    // The same data, judged by a fixed-horizon test re-run at every look, cries wolf far more often.
    expect(naiveEverRejected / experiments).toBeGreaterThan(0.25);
  });

  it('detects a real difference, keeps rejecting, and its interval covers the true effect', () => {
    const m = createMsprt({ tau2: 0.05, alpha: 0.05 });
    let firstReject = -1;
    let last = null as ReturnType<typeof m.update> | null;
    let look = 0;
    for (const [a, b] of gaussianLooks(77, 200, 20, 0.3, 0)) {
      last = m.update(a, b);
      look++;
      if (last.reject && firstReject < 0) firstReject = look;
      if (firstReject >= 0) expect(last.reject).toBe(true);
      // Rejecting θ0 = 0 and 0 leaving the interval are the same event.
      expect(last.reject).toBe(last.ci !== null && (last.ci[0] > 0 || last.ci[1] < 0));
    }
    expect(firstReject).toBeGreaterThan(0);
    expect(firstReject).toBeLessThan(40); // 0.3 sd with 20/arm/look: the fixed test needs ~175/arm for 80% power
    expect(last!.ci![0]).toBeLessThan(0.3);
    expect(last!.ci![1]).toBeGreaterThan(0.3);
  });

  it('skips looks below minSamplesPerArm or without variance, and refuses shrinking samples', () => {
    const m = createMsprt({ tau2: 0.01, minSamplesPerArm: 30 });
    const early = m.update({ n: 10, mean: 5, variance: 1 }, { n: 10, mean: 0, variance: 1 });
    expect(early).toMatchObject({ informative: false, pValue: 1, ci: null, reject: false, looks: 0 });
    const flat = m.update(proportionSummary(0, 100), proportionSummary(0, 100));
    expect(flat.informative).toBe(false);
    expect(() => m.update({ n: 50, mean: 0, variance: 1 }, { n: 50, mean: 0, variance: 1 })).toThrow(/cumulative/);
    expect(() => createMsprt({ tau2: 0 })).toThrow(/tau2/);
    expect(() => createMsprt({ tau2: 1, alpha: 1 })).toThrow(/alpha/);
  });

  it('resumes from a JSON round-tripped state exactly where it left off', () => {
    const options = { tau2: 0.02, alpha: 0.05 };
    const looks = [...gaussianLooks(5, 60, 10, 0.05, 0)];
    const straight = createMsprt(options);
    const straightResults = looks.map(([a, b]) => straight.update(a, b));
    const first = createMsprt(options);
    looks.slice(0, 25).forEach(([a, b]) => first.update(a, b));
    const saved = JSON.parse(JSON.stringify(first.state()));
    const resumed = createMsprt(options, saved);
    const resumedResults = looks.slice(25).map(([a, b]) => resumed.update(a, b));
    expect(resumedResults).toEqual(straightResults.slice(25));
    // The pure step function is the same computation.
    let state = initialMsprtState();
    for (const [a, b] of looks) state = msprtStep(state, a, b, options).state;
    expect(state).toEqual(straight.state());
  });

  it('works for proportions through proportionSummary', () => {
    const m = createMsprt({ tau2: 1e-3 });
    const r = m.update(proportionSummary(1300, 10000), proportionSummary(1000, 10000));
    expect(r.estimate).toBeCloseTo(0.03, 15);
    expect(r.standardError).toBeCloseTo(Math.sqrt((0.13 * 0.87 + 0.1 * 0.9) / 10000), 15);
    expect(r.reject).toBe(true);
  });
});

describe('multiple comparisons', () => {
  it('adjusts p-values by Bonferroni and Holm (step-down, monotone, input order kept)', () => {
    const p = [0.01, 0.04, 0.03, 0.005];
    expect(bonferroni(p)).toEqual([0.04, 0.16, 0.12, 0.02]);
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 → max(0.06, 0.04) = 0.06.
    const h = holm(p);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => expect(h[i]).toBeCloseTo(v, 15));
    expect(holm([0.3, 0.2])).toEqual([0.4, 0.4]);
    expect(holm([0.9, 0.8])).toEqual([1, 1]);
    expect(bonferroniAlpha(0.05, 4)).toBe(0.0125);
    expect(holm([])).toEqual([]);
  });
});
