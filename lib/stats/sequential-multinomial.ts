/**
 * Anytime-valid test that counts follow planned proportions — the sequential sample-ratio-mismatch
 * (SRM) check. Lindon & Malek, "Anytime-valid inference for multinomial count data" (NeurIPS 2022):
 * under H0 (each unit lands in category i with probability p0_i) the Dirichlet-multinomial mixture
 *
 *     e_n = [Γ(Σα) / Γ(Σα + n)] · Π_i Γ(α_i + x_i) / Γ(α_i)  /  Π_i p0_i^{x_i}
 *
 * is a nonnegative martingale with mean 1 (the marginal likelihood under a Dirichlet(α) prior over
 * the proportions, divided by the likelihood under p0). By Ville's inequality P(ever e_n ≥ 1/α) ≤ α,
 * so the check may run after every batch, as often as anyone likes, and a correct split is halted
 * at most α of the time. A chi-square test re-run at each look has no such bound: its false halts
 * grow with the number of looks.
 *
 * e_n depends only on the cumulative counts (the mixture is exchangeable), so a caller needs no
 * state between looks: stopping at the first look with e_n ≥ 1/α is the whole procedure.
 */

import { logGamma } from './distributions';

export interface SequentialMultinomialOptions {
  /** Level: reject once the e-value reaches 1/alpha. Default 0.001 (the usual SRM level). */
  alpha?: number;
  /**
   * Σα of the Dirichlet prior, centred on the null (α_i = concentration · p0_i). It sets which
   * departures the test is quickest to see: the prior's standard deviation of a share p is about
   * sqrt(p(1 − p)/(concentration + 1)), 1.6 percentage points at 50/50 with the default 1000 — the
   * size of skew a broken assignment or a leaky filter usually makes. Smaller halts gross skews
   * sooner; larger finds sub-percent skews at very large n. Any fixed value keeps the guarantee.
   */
  concentration?: number;
}

export interface SequentialMultinomialResult {
  /** log e_n; finite always (the e-value itself can overflow a double). */
  logEValue: number;
  /** e_n, capped at 1e300 so it survives JSON. */
  eValue: number;
  /** 1/alpha: the e-value at which the test rejects. */
  threshold: number;
  /** e_n ≥ 1/alpha: the counts are not from the planned proportions. */
  reject: boolean;
  /** The counts tested, as given. */
  counts: number[];
  expectedProportions: number[];
}

export const DEFAULT_SRM_CONCENTRATION = 1000;
const E_VALUE_CAP = 1e300;

/** log of the Dirichlet-multinomial mixture e-value for `counts` against proportions `p0`, with Dirichlet parameters `prior`. */
export function dirichletMultinomialLogEValue(counts: readonly number[], p0: readonly number[], prior: readonly number[]): number {
  if (counts.length < 2 || counts.length !== p0.length || counts.length !== prior.length) {
    throw new RangeError(`counts, proportions and prior need the same length >= 2 (got ${counts.length}, ${p0.length}, ${prior.length})`);
  }
  for (const x of counts) if (!(Number.isInteger(x) && x >= 0)) throw new RangeError(`counts must be integers >= 0 (got ${counts.join(', ')})`);
  for (const a of prior) if (!(Number.isFinite(a) && a > 0)) throw new RangeError(`prior parameters must be finite and > 0 (got ${prior.join(', ')})`);
  for (const p of p0) if (!(p > 0 && p < 1)) throw new RangeError(`proportions must be in (0, 1) (got ${p0.join(', ')})`);
  const total = p0.reduce((s, p) => s + p, 0);
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`proportions must sum to 1 (got ${total})`);
  const n = counts.reduce((s, x) => s + x, 0);
  if (n === 0) return 0;
  const a0 = prior.reduce((s, a) => s + a, 0);
  let log = logGamma(a0) - logGamma(a0 + n);
  for (let i = 0; i < counts.length; i++) {
    const x = counts[i]!;
    if (x === 0) continue;
    log += logGamma(prior[i]! + x) - logGamma(prior[i]!) - x * Math.log(p0[i]!);
  }
  return log;
}

/** The sequential SRM test at one look: counts so far (cumulative) against the planned proportions. */
export function sequentialMultinomialTest(
  counts: readonly number[],
  expectedProportions: readonly number[],
  options: SequentialMultinomialOptions = {},
): SequentialMultinomialResult {
  const { alpha = 0.001, concentration = DEFAULT_SRM_CONCENTRATION } = options;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`);
  if (!(Number.isFinite(concentration) && concentration > 0)) throw new RangeError(`concentration must be finite and > 0 (got ${concentration})`);
  const logEValue = dirichletMultinomialLogEValue(
    counts,
    expectedProportions,
    expectedProportions.map((p) => concentration * p),
  );
  const threshold = 1 / alpha;
  return {
    logEValue,
    eValue: logEValue >= Math.log(E_VALUE_CAP) ? E_VALUE_CAP : Math.exp(logEValue),
    threshold,
    // Compared on the log scale, so an e-value past the cap still rejects.
    reject: logEValue >= Math.log(threshold),
    counts: [...counts],
    expectedProportions: [...expectedProportions],
  };
}
