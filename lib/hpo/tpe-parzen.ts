/**
 * TPE's Parzen estimator: a weighted mixture with one kernel per observation plus a prior kernel,
 * each kernel a product over dimensions (truncated Gaussians for numbers, smoothed one-hot rows for
 * categories). With several dimensions this is Optuna's multivariate TPE: a candidate takes all its
 * coordinates from the same kernel, so the density keeps the correlations between parameters.
 *
 * Values are "internal": numbers as they are, categories as choice indices.
 */
import type { Rng } from '../random';
import type { NumericInfo } from './numeric';
import { fromWorking, numericInfo, toWorking } from './numeric';
import { LOG_SQRT_2PI, logGaussMass, truncNormPpf } from './normal';
import type { ParamSpec } from './space';

export interface ParzenParameters {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
}

const EPS = 1e-12;

/** Optuna's default_weights: the 25 newest count fully, older ones ramp down linearly. */
export function defaultWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const out: number[] = [];
  for (let i = 0; i < ramp; i++) out.push(ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1));
  for (let i = 0; i < 25; i++) out.push(1);
  return out;
}

interface NumericDim {
  kind: 'numeric';
  info: NumericInfo;
  mu: Float64Array;
  sigma: Float64Array;
  /** Standardised truncation bounds per kernel. */
  a: Float64Array;
  b: Float64Array;
  /** log of each kernel's probability mass inside the bounds. */
  logMass: Float64Array;
  invSigma: Float64Array;
  /** −log √(2π) − log σ − logMass: the kernel's log density is this minus z²/2. */
  logNorm: Float64Array;
  /** One kernel index per distinct (mu, sigma), and each kernel's entry in that list. */
  uniqueKernel: number[];
  kernelOf: Int32Array;
}

interface CategoricalDim {
  kind: 'categorical';
  nChoices: number;
  /** nKernels × nChoices, row-normalised. */
  prob: Float64Array;
  logProb: Float64Array;
}

type Dim = NumericDim | CategoricalDim;

export class ParzenEstimator {
  readonly nKernels: number;
  private readonly cumWeights: Float64Array;
  private readonly logWeights: Float64Array;
  private readonly dims: Dim[];

  /** `observations[i][d]`: internal value of dimension d in the i-th observation, oldest first. */
  constructor(specs: readonly ParamSpec[], observations: readonly (readonly number[])[], params: ParzenParameters) {
    const n = observations.length;
    const w = n === 0 ? [1] : [...defaultWeights(n), params.priorWeight];
    const total = w.reduce((s, x) => s + x, 0);
    this.nKernels = w.length;
    this.cumWeights = new Float64Array(w.length);
    this.logWeights = new Float64Array(w.length);
    let acc = 0;
    for (let k = 0; k < w.length; k++) {
      acc += w[k] / total;
      this.cumWeights[k] = acc;
      this.logWeights[k] = Math.log(w[k] / total);
    }
    this.dims = specs.map((spec, d) => {
      const column = observations.map((o) => o[d]);
      return spec.type === 'categorical'
        ? categoricalDim(spec.choices.length, column, params)
        : numericDim(numericInfo(spec), column, params);
    });
  }

  /** `size` draws, each a row of internal values. */
  sample(rng: Rng, size: number): number[][] {
    const out: number[][] = [];
    for (let i = 0; i < size; i++) {
      const k = this.pickKernel(rng.next());
      const row: number[] = [];
      for (const dim of this.dims) {
        if (dim.kind === 'categorical') {
          const u = rng.next();
          let c = 0;
          let cum = dim.prob[k * dim.nChoices];
          while (c < dim.nChoices - 1 && cum <= u) cum += dim.prob[k * dim.nChoices + ++c];
          row.push(c);
        } else {
          const z = truncNormPpf(rng.next(), dim.a[k], dim.b[k]);
          row.push(fromWorking(dim.info, dim.mu[k] + dim.sigma[k] * z));
        }
      }
      out.push(row);
    }
    return out;
  }

  /** log density (mass, for discrete dimensions) of each row under the mixture. */
  logPdf(rows: readonly (readonly number[])[]): Float64Array {
    const K = this.nKernels;
    const m = rows.length;
    // terms[i·K + k]: log weight of kernel k plus its log density at row i, summed over dimensions.
    const terms = new Float64Array(m * K);
    for (let i = 0; i < m; i++) terms.set(this.logWeights, i * K);
    for (let d = 0; d < this.dims.length; d++) {
      const dim = this.dims[d];
      if (dim.kind === 'categorical') {
        for (let i = 0; i < m; i++) {
          const x = rows[i][d];
          for (let k = 0, o = i * K; k < K; k++) terms[o + k] += dim.logProb[k * dim.nChoices + x];
        }
      } else if (dim.info.step === 0) {
        const { mu, invSigma, logNorm } = dim;
        for (let i = 0; i < m; i++) {
          const t = toWorking(dim.info, rows[i][d]);
          for (let k = 0, o = i * K; k < K; k++) {
            const z = (t - mu[k]) * invSigma[k];
            terms[o + k] += logNorm[k] - 0.5 * z * z;
          }
        }
      } else {
        addDiscreteTerms(dim, rows, d, K, terms);
      }
    }
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) out[i] = logSumExp(terms, i * K, K);
    return out;
  }

  private pickKernel(u: number): number {
    const cw = this.cumWeights;
    for (let k = 0; k < cw.length - 1; k++) if (u < cw[k]) return k;
    return cw.length - 1;
  }
}

function logSumExp(v: Float64Array, offset: number, length: number): number {
  let max = -Infinity;
  for (let i = offset; i < offset + length; i++) if (v[i] > max) max = v[i];
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = offset; i < offset + length; i++) s += Math.exp(v[i] - max);
  return Math.log(s) + max;
}

/**
 * A discrete value owns the step-wide cell around it on the working scale; its mass under each
 * kernel is an interval mass, costly in the tails. Candidates repeat values and kernels repeat
 * (centre, width) pairs, so each distinct pair is computed once (Optuna deduplicates the same way).
 */
function addDiscreteTerms(dim: NumericDim, rows: readonly (readonly number[])[], d: number, K: number, terms: Float64Array): void {
  const values: number[] = [];
  const valueIndex = new Map<number, number>();
  const rowValue = rows.map((r) => {
    let j = valueIndex.get(r[d]);
    if (j === undefined) {
      j = values.length;
      valueIndex.set(r[d], j);
      values.push(r[d]);
    }
    return j;
  });
  const { uniqueKernel, kernelOf } = dim;
  const U = uniqueKernel.length;
  const cell = new Float64Array(values.length * U);
  const half = dim.info.step / 2;
  values.forEach((x, j) => {
    const left = toWorking(dim.info, x - half);
    const right = toWorking(dim.info, x + half);
    for (let u = 0; u < U; u++) {
      const k = uniqueKernel[u];
      const s = dim.sigma[k];
      cell[j * U + u] = logGaussMass((left - dim.mu[k]) / s, (right - dim.mu[k]) / s) - dim.logMass[k];
    }
  });
  for (let i = 0; i < rows.length; i++) {
    const base = rowValue[i] * U;
    for (let k = 0, o = i * K; k < K; k++) terms[o + k] += cell[base + kernelOf[k]];
  }
}

function categoricalDim(nChoices: number, observed: number[], params: ParzenParameters): CategoricalDim {
  const n = observed.length;
  const K = n === 0 ? 1 : n + 1;
  const prob = new Float64Array(K * nChoices);
  if (n === 0) {
    prob.fill(1 / nChoices);
  } else {
    // Every kernel, the prior's included, gets the prior weight spread over all choices, so no
    // choice ever has probability zero and g(x) cannot veto a category outright.
    prob.fill(params.priorWeight / K);
    for (let i = 0; i < n; i++) prob[i * nChoices + observed[i]] += 1;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let c = 0; c < nChoices; c++) s += prob[k * nChoices + c];
      if (s > 0) for (let c = 0; c < nChoices; c++) prob[k * nChoices + c] /= s;
    }
  }
  const logProb = prob.map(Math.log);
  return { kind: 'categorical', nChoices, prob, logProb };
}

function numericDim(info: NumericInfo, observed: number[], params: ParzenParameters): NumericDim {
  const lo = info.lowT;
  const hi = info.highT;
  const mus = observed.map((x) => toWorking(info, x));
  const sigmas = bandwidths(mus, lo, hi, params);
  // The prior kernel: centred, as wide as the range, so every region keeps some density.
  mus.push(0.5 * (lo + hi));
  sigmas.push(hi - lo);
  const K = mus.length;
  const dim: NumericDim = {
    kind: 'numeric',
    info,
    mu: Float64Array.from(mus),
    sigma: Float64Array.from(sigmas),
    a: new Float64Array(K),
    b: new Float64Array(K),
    logMass: new Float64Array(K),
    invSigma: new Float64Array(K),
    logNorm: new Float64Array(K),
    uniqueKernel: [],
    kernelOf: new Int32Array(K),
  };
  // Only discrete dimensions look kernels up by (mu, sigma); continuous ones use them directly.
  const seen = info.step > 0 ? new Map<number, Map<number, number>>() : undefined;
  for (let k = 0; k < K; k++) {
    const mu = dim.mu[k];
    const sigma = dim.sigma[k];
    const bySigma = seen?.get(mu);
    const u = bySigma?.get(sigma);
    if (u !== undefined) {
      // Same kernel as an earlier one: share its numbers.
      const j = dim.uniqueKernel[u];
      dim.kernelOf[k] = u;
      dim.a[k] = dim.a[j];
      dim.b[k] = dim.b[j];
      dim.logMass[k] = dim.logMass[j];
      dim.invSigma[k] = dim.invSigma[j];
      dim.logNorm[k] = dim.logNorm[j];
      continue;
    }
    if (seen) {
      if (bySigma) bySigma.set(sigma, dim.uniqueKernel.length);
      else seen.set(mu, new Map([[sigma, dim.uniqueKernel.length]]));
    }
    dim.kernelOf[k] = dim.uniqueKernel.length;
    dim.uniqueKernel.push(k);
    dim.a[k] = (lo - mu) / sigma;
    dim.b[k] = (hi - mu) / sigma;
    dim.logMass[k] = logGaussMass(dim.a[k], dim.b[k]);
    dim.invSigma[k] = 1 / sigma;
    dim.logNorm[k] = -LOG_SQRT_2PI - Math.log(sigma) - dim.logMass[k];
  }
  return dim;
}

/**
 * Optuna's bandwidth rule: each kernel as wide as the larger gap to its sorted neighbours (the
 * bounds count as neighbours), the extreme kernels looking inward only unless considerEndpoints,
 * then clipped to [range / min(100, n + 2), range] by the magic clip.
 */
export function bandwidths(mus: readonly number[], low: number, high: number, params: ParzenParameters): number[] {
  const n = mus.length;
  if (n === 0) return [];
  const order = mus.map((_, i) => i).sort((i, j) => mus[i] - mus[j] || i - j);
  const s = [low, ...order.map((i) => mus[i]), high];
  const sorted: number[] = [];
  for (let i = 0; i < n; i++) sorted.push(Math.max(s[i + 1] - s[i], s[i + 2] - s[i + 1]));
  if (!params.considerEndpoints && s.length >= 4) {
    sorted[0] = s[2] - s[1];
    sorted[n - 1] = s[n] - s[n - 1];
  }
  const maxSigma = high - low;
  const minSigma = params.considerMagicClip ? (high - low) / Math.min(100, n + 2) : EPS;
  const out = new Array<number>(n);
  for (let r = 0; r < n; r++) out[order[r]] = Math.min(maxSigma, Math.max(minSigma, sorted[r]));
  return out;
}
