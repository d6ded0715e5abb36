/**
 * Always-valid inference for the difference of two means (or proportions): the mixture sequential
 * probability ratio test of Johari, Koomen, Pekelis & Walsh ("Always valid inference: continuous
 * monitoring of A/B tests", Operations Research 2022) with a normal mixing distribution N(θ0, τ²).
 *
 * Its p-value and confidence interval may be looked at after every batch, and the experiment
 * stopped whenever they say so, without inflating the error rate: P(ever p ≤ α | H0) ≤ α. The
 * guarantee needs τ² fixed before the data are seen — choosing it after a peek voids it.
 *
 * With θ̂ the difference of means (A − B) and v its variance (varA/nA + varB/nB, plug-in), the
 * mixture likelihood ratio against H0: θ = θ0 is
 *     Λ = sqrt(v / (v + τ²)) · exp( τ²·(θ̂ − θ0)² / (2·v·(v + τ²)) ),
 * which is the paper's two-sample statistic written in terms of the estimate's variance, so
 * unequal arms and running plug-in variances fit the same formula. The always-valid p-value is the
 * running minimum of 1/Λ; the interval is the running intersection of {θ : Λ(θ) < 1/α}. That set
 * is exactly Robbins' two-sided normal-mixture confidence sequence (Howard, Ramdas, McAuliffe &
 * Sekhon 2021, eq. 14) in intrinsic time t = 1/v with ρ = 1/τ², so normalMixtureConfidenceSequence
 * below is the same object seen from the interval side.
 *
 * The variance is estimated, not known, so the guarantee is asymptotic; minSamplesPerArm keeps the
 * first, noisiest looks out. bench/ab/simulate.ts measures what that costs (nothing visible at
 * 100 per arm per look).
 */

import type { SampleSummary } from './tests';

export interface MsprtOptions {
  /** Variance of the normal mixing distribution over the effect θ (in squared units of the metric). Fixed in advance. */
  tau2: number;
  /** Type-I error: reject H0 once the always-valid p-value reaches it. Default 0.05. */
  alpha?: number;
  /** The null difference A − B. Default 0. */
  theta0?: number;
  /** Looks where either arm has fewer observations are skipped: a plug-in variance from a handful of points is not to be trusted. Default 30. */
  minSamplesPerArm?: number;
}

/** Everything the monitor carries between looks: plain JSON (no Infinity), so it survives a Temporal payload or continue-as-new. */
export interface MsprtState {
  pValue: number;
  /** Running intersection of the per-look intervals; null until the first informative look. */
  ci: [number, number] | null;
  /** Informative looks so far. */
  looks: number;
  /** Last cumulative sample sizes seen, to catch per-batch summaries passed where cumulative ones belong. */
  nA: number;
  nB: number;
}

export interface MsprtResult {
  /** Always-valid p-value for H0: θ = θ0; non-increasing over looks. */
  pValue: number;
  /** Always-valid confidence interval for θ = meanA − meanB at level 1 − α; null until the first informative look. Can come out empty (lower > upper) only if the data are not stationary. */
  ci: [number, number] | null;
  /** pValue ≤ α: stop and declare a difference. Once true it stays true. */
  reject: boolean;
  /** This look's θ̂ = meanA − meanB (NaN when the look was skipped). */
  estimate: number;
  /** This look's sqrt(v) (NaN when skipped). */
  standardError: number;
  /** This look's log Λ (0 when skipped). */
  logLikelihoodRatio: number;
  /** Whether this look was used; false below minSamplesPerArm or with zero estimated variance. */
  informative: boolean;
  looks: number;
}

export interface Msprt {
  /** Feed the cumulative summaries of everything seen so far in each arm (not the latest batch alone). */
  update(summaryA: SampleSummary, summaryB: SampleSummary): MsprtResult;
  /** A copy of the state; pass it to createMsprt to resume. */
  state(): MsprtState;
  readonly options: Readonly<Required<MsprtOptions>>;
}

function resolveOptions(options: MsprtOptions): Required<MsprtOptions> {
  const { tau2, alpha = 0.05, theta0 = 0, minSamplesPerArm = 30 } = options;
  if (!(Number.isFinite(tau2) && tau2 > 0)) throw new RangeError(`tau2 must be finite and > 0 (got ${tau2})`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`);
  if (!Number.isFinite(theta0)) throw new RangeError(`theta0 must be finite (got ${theta0})`);
  if (!(Number.isInteger(minSamplesPerArm) && minSamplesPerArm >= 2)) throw new RangeError(`minSamplesPerArm must be an integer >= 2 (got ${minSamplesPerArm})`);
  return { tau2, alpha, theta0, minSamplesPerArm };
}

/** log Λ of the normal-mixture SPRT for an estimate with variance v, mixing variance τ², null θ0. */
export function msprtLogLikelihoodRatio(estimate: number, variance: number, tau2: number, theta0 = 0): number {
  const d = estimate - theta0;
  return 0.5 * Math.log(variance / (variance + tau2)) + (tau2 * d * d) / (2 * variance * (variance + tau2));
}

/**
 * Half-width of the normal-mixture confidence sequence at the look where the estimate's variance
 * is v: sqrt( v(v + τ²)/τ² · (log((v + τ²)/v) − 2·log α) ). Equivalently |S_t| ≤ sqrt((t + ρ)·log((t + ρ)/(ρα²)))
 * in Howard et al.'s intrinsic time t = 1/v, ρ = 1/τ².
 */
export function normalMixtureRadius(variance: number, tau2: number, alpha: number): number {
  return Math.sqrt(((variance * (variance + tau2)) / tau2) * (Math.log1p(tau2 / variance) - 2 * Math.log(alpha)));
}

/** This look's interval {θ : Λ(θ) < 1/α}, before intersecting with earlier looks. */
export function normalMixtureConfidenceSequence(estimate: number, variance: number, tau2: number, alpha: number): [number, number] {
  const r = normalMixtureRadius(variance, tau2, alpha);
  return [estimate - r, estimate + r];
}

/**
 * The τ² whose boundary is tightest (smallest |z| needed to reject) when the estimate's variance
 * is v — pick v for the sample size at which stopping matters most, e.g. the planned maximum.
 * The rejection threshold in z is (1 + 1/r)(log(1 + r) − 2·log α) with r = τ²/v, minimised where
 * r = log(1 + r) − 2·log α (r ≈ 8.2 at α = 0.05), found by fixed-point iteration (a contraction).
 */
export function msprtTau2ForVariance(variance: number, alpha = 0.05): number {
  if (!(Number.isFinite(variance) && variance > 0)) throw new RangeError(`variance must be finite and > 0 (got ${variance})`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`);
  const c = -2 * Math.log(alpha);
  let r = c;
  for (let i = 0; i < 200; i++) {
    const next = c + Math.log1p(r);
    if (Math.abs(next - r) <= 1e-15 * next) {
      r = next;
      break;
    }
    r = next;
  }
  return r * variance;
}

/** The |z| = |θ̂ − θ0|/sqrt(v) at which the mSPRT rejects when the estimate's variance is v. */
export function msprtCriticalZ(variance: number, tau2: number, alpha = 0.05): number {
  return normalMixtureRadius(variance, tau2, alpha) / Math.sqrt(variance);
}

/** Per-observation summary of a binary metric: mean p̂ and variance p̂(1 − p̂). */
export function proportionSummary(successes: number, n: number): SampleSummary {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be an integer >= 0 (got ${n})`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) throw new RangeError(`successes must be an integer in [0, n] (got ${successes} of ${n})`);
  if (n === 0) return { n: 0, mean: NaN, variance: NaN };
  const p = successes / n;
  return { n, mean: p, variance: p * (1 - p) };
}

export function initialMsprtState(): MsprtState {
  return { pValue: 1, ci: null, looks: 0, nA: 0, nB: 0 };
}

/**
 * One look, as a pure function: the state after this look and what to report. createMsprt wraps
 * this; workflow code that keeps its own state can call it directly.
 */
export function msprtStep(
  state: MsprtState,
  summaryA: SampleSummary,
  summaryB: SampleSummary,
  options: MsprtOptions,
): { state: MsprtState; result: MsprtResult } {
  const o = resolveOptions(options);
  for (const [name, s] of [
    ['summaryA', summaryA],
    ['summaryB', summaryB],
  ] as const) {
    if (!Number.isInteger(s.n) || s.n < 0) throw new RangeError(`${name}.n must be an integer >= 0 (got ${s.n})`);
  }
  if (summaryA.n < state.nA || summaryB.n < state.nB) {
    throw new RangeError(
      `sample sizes went down (A ${state.nA} → ${summaryA.n}, B ${state.nB} → ${summaryB.n}): update() takes cumulative summaries, not the latest batch`,
    );
  }
  const variance = summaryA.variance / summaryA.n + summaryB.variance / summaryB.n;
  const estimate = summaryA.mean - summaryB.mean;
  const informative =
    summaryA.n >= o.minSamplesPerArm && summaryB.n >= o.minSamplesPerArm && Number.isFinite(estimate) && Number.isFinite(variance) && variance > 0;
  if (!informative) {
    const next = { ...state, ci: state.ci ? ([...state.ci] as [number, number]) : null, nA: summaryA.n, nB: summaryB.n };
    return {
      state: next,
      result: {
        pValue: state.pValue,
        ci: next.ci ? [...next.ci] : null,
        reject: state.pValue <= o.alpha,
        estimate: NaN,
        standardError: NaN,
        logLikelihoodRatio: 0,
        informative: false,
        looks: state.looks,
      },
    };
  }
  const logLikelihoodRatio = msprtLogLikelihoodRatio(estimate, variance, o.tau2, o.theta0);
  const pValue = Math.min(state.pValue, Math.exp(-logLikelihoodRatio));
  const [lo, hi] = normalMixtureConfidenceSequence(estimate, variance, o.tau2, o.alpha);
  const ci: [number, number] = state.ci ? [Math.max(state.ci[0], lo), Math.min(state.ci[1], hi)] : [lo, hi];
  const next: MsprtState = { pValue, ci, looks: state.looks + 1, nA: summaryA.n, nB: summaryB.n };
  return {
    state: next,
    result: {
      pValue,
      ci: [...ci],
      reject: pValue <= o.alpha,
      estimate,
      standardError: Math.sqrt(variance),
      logLikelihoodRatio,
      informative: true,
      looks: next.looks,
    },
  };
}

/** A streaming mSPRT monitor; `initial` resumes from a saved state(). */
export function createMsprt(options: MsprtOptions, initial: MsprtState = initialMsprtState()): Msprt {
  const resolved = Object.freeze(resolveOptions(options));
  let state: MsprtState = { ...initial, ci: initial.ci ? [...initial.ci] : null };
  return {
    options: resolved,
    update(summaryA, summaryB) {
      const step = msprtStep(state, summaryA, summaryB, resolved);
      state = step.state;
      return step.result;
    },
    state: () => ({ ...state, ci: state.ci ? [...state.ci] : null }),
  };
}

// ---------------------------------------------------------------------------------------------
// More than two arms
// ---------------------------------------------------------------------------------------------

/**
 * Bonferroni-adjusted p-values, min(1, m·p). Always-valid p-values stay valid under it at any
 * stopping time, so each arm-vs-control mSPRT can be judged against α with adjusted p-values
 * (or run at α/m, see bonferroniAlpha).
 */
export function bonferroni(pValues: readonly number[]): number[] {
  const m = pValues.length;
  return pValues.map((p) => Math.min(1, p * m));
}

/** The per-comparison α that keeps the family-wise error at most alpha over m comparisons. */
export function bonferroniAlpha(alpha: number, comparisons: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`);
  if (!Number.isInteger(comparisons) || comparisons < 1) throw new RangeError(`comparisons must be an integer >= 1 (got ${comparisons})`);
  return alpha / comparisons;
}

/**
 * Holm's step-down adjusted p-values (uniformly more powerful than Bonferroni, same family-wise
 * guarantee, needs only that each p-value be valid — which an always-valid p-value is at any
 * stopping time). Returned in the input's order.
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
