/**
 * A Gaussian process with a Matérn 5/2 ARD kernel on the unit-scaled inputs: hyperparameter fitting
 * by maximum a posteriori marginal likelihood (Optuna's priors), and the posterior mean and variance
 * with their gradients for the acquisition search.
 *
 *   k(x, x') = s · m(r²),  r² = Σ_d ρ_d (x_d − x'_d)²,  m(r²) = (1 + √5 r + 5/3 r²) e^{−√5 r}
 *
 * ρ_d is the inverse squared lengthscale of dimension d.
 */
import type { Rng } from '../random';
import { choleskyInPlace, inverseFromCholesky, solveLower, solveUpperT } from './gp-linalg';
import { lbfgs } from './lbfgs';

export interface GpHyper {
  rho: Float64Array;
  scale: number;
  noise: number;
}

export interface FitOptions {
  /** Extra random starts for the hyperparameter search, besides the default start. */
  restarts: number;
  maxIter: number;
  minNoise: number;
  /** Noise pinned at minNoise: for objectives that return the same value for the same input. */
  deterministic: boolean;
}


export function matern(r2: number): number {
  const r = Math.sqrt(5 * r2);
  return (1 + r + (5 / 3) * r2) * Math.exp(-r);
}

/** dm/d(r²): finite at r = 0, unlike the derivative with respect to r. */
export function maternDeriv(r2: number): number {
  const r = Math.sqrt(5 * r2);
  return (-5 / 6) * (1 + r) * Math.exp(-r);
}

/** Log prior of the hyperparameters and its gradient with respect to the raw (log) parameters. */
function logPrior(rho: Float64Array, scale: number, noiseExcess: number, noise: number, grad: Float64Array): number {
  const D = rho.length;
  let lp = 0;
  // Optuna's heuristic priors: lengthscales pulled towards 1, a Gamma(2, 1) signal variance and a
  // Gamma(1.1, 30) noise variance that prefers small noise.
  for (let d = 0; d < D; d++) {
    lp -= 0.1 / rho[d] + 0.1 * rho[d];
    grad[d] = 0.1 / rho[d] - 0.1 * rho[d];
  }
  lp += Math.log(scale) - scale;
  grad[D] = 1 - scale;
  lp += 0.1 * Math.log(noise) - 30 * noise;
  grad[D + 1] = (0.1 / noise - 30) * noiseExcess;
  return lp;
}

/**
 * Pairwise squared differences per dimension, upper triangle only (pair p = (i, j), i < j), reused
 * by every evaluation of the likelihood.
 */
function pairDiffs(X: Float64Array, n: number, D: number): Float64Array {
  const out = new Float64Array(((n * (n - 1)) / 2) * D);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, p++) {
      for (let d = 0; d < D; d++) {
        const diff = X[i * D + d] - X[j * D + d];
        out[p * D + d] = diff * diff;
      }
    }
  }
  return out;
}

export function fitHyper(X: Float64Array, y: Float64Array, D: number, rng: Rng, opts: FitOptions): GpHyper {
  const n = y.length;
  const sqd = pairDiffs(X, n, D);
  const nPairs = (n * (n - 1)) / 2;
  const r2 = new Float64Array(nPairs);
  const kp = new Float64Array(nPairs); // m(r²) per pair
  const dkp = new Float64Array(nPairs); // dm/d(r²) per pair
  const C = new Float64Array(n * n);
  const W = new Float64Array(n * n);
  const work = new Float64Array(n * n);
  const gradPrior = new Float64Array(D + 2);

  // Raw parameters: log ρ (D of them), log s, log(noise − minNoise).
  const unpack = (raw: Float64Array) => {
    const rho = raw.subarray(0, D).map(Math.exp);
    const scale = Math.exp(raw[D]);
    const excess = opts.deterministic ? 0 : Math.exp(raw[D + 1]);
    return { rho, scale, excess, noise: opts.minNoise + excess };
  };

  const objective = (raw: Float64Array) => {
    const { rho, scale, excess, noise } = unpack(raw);
    const g = new Float64Array(D + 2);
    for (let p = 0; p < nPairs; p++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += rho[d] * sqd[p * D + d];
      r2[p] = s;
      const r = Math.sqrt(5 * s);
      const e = Math.exp(-r);
      kp[p] = (1 + r + (5 / 3) * s) * e;
      dkp[p] = (-5 / 6) * (1 + r) * e;
    }
    let p = 0;
    for (let i = 0; i < n; i++) {
      C[i * n + i] = scale + noise;
      for (let j = i + 1; j < n; j++, p++) C[i * n + j] = C[j * n + i] = scale * kp[p];
    }
    if (!choleskyInPlace(C, n)) return { f: Infinity, g };
    const L = C;
    const alpha = solveUpperT(L, n, solveLower(L, n, y));
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += Math.log(L[i * n + i]);
    let quad = 0;
    for (let i = 0; i < n; i++) quad += alpha[i] * y[i];
    const mll = -logDet - 0.5 * quad;
    const lp = logPrior(rho, scale, excess, noise, gradPrior);

    // d mll / dθ = −½ tr(W dC/dθ), W = C⁻¹ − ααᵀ.
    inverseFromCholesky(L, n, W, work);
    let traceW = 0;
    for (let i = 0; i < n; i++) traceW += W[i * n + i] - alpha[i] * alpha[i];
    let sumWK = 0;
    p = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++, p++) {
        const w = W[i * n + j] - alpha[i] * alpha[j];
        sumWK += w * scale * kp[p];
        const c = w * scale * dkp[p];
        for (let d = 0; d < D; d++) g[d] -= c * sqd[p * D + d];
      }
    }
    for (let d = 0; d < D; d++) g[d] *= rho[d];
    g[D] = -0.5 * (traceW * scale + 2 * sumWK);
    g[D + 1] = opts.deterministic ? 0 : -0.5 * traceW * excess;
    // Minimise the negative log posterior.
    for (let k = 0; k < D + 2; k++) g[k] = -(g[k] + gradPrior[k]);
    return { f: -(mll + lp), g };
  };

  const starts: Float64Array[] = [new Float64Array(D + 2)]; // ρ = s = 1, noise ≈ 1: Optuna's start
  for (let r = 0; r < opts.restarts; r++) {
    const raw = new Float64Array(D + 2);
    for (let d = 0; d < D; d++) raw[d] = -2 + 4 * rng.next();
    raw[D] = -1 + 2 * rng.next();
    raw[D + 1] = Math.log(1e-3) + 2 * rng.next() * Math.log(10);
    starts.push(raw);
  }
  let best: { x: Float64Array; f: number } | undefined;
  for (const x0 of starts) {
    const res = lbfgs(objective, x0, { maxIter: opts.maxIter, gtol: 1e-2, lower: -12, upper: 12 });
    if (!best || res.f < best.f) best = res;
  }
  const { rho, scale, noise } = unpack(best!.x);
  return { rho: Float64Array.from(rho), scale, noise };
}

/** The fitted posterior: everything the acquisition needs, precomputed once. */
export class GpPosterior {
  readonly n: number;
  private readonly L: Float64Array;
  private readonly alpha: Float64Array;
  private readonly kbuf: Float64Array;
  private readonly dkbuf: Float64Array;
  private readonly vbuf: Float64Array;

  constructor(
    readonly X: Float64Array,
    y: Float64Array,
    readonly D: number,
    readonly hyper: GpHyper,
  ) {
    const n = y.length;
    this.n = n;
    const C = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      C[i * n + i] = hyper.scale + hyper.noise;
      for (let j = i + 1; j < n; j++) C[i * n + j] = C[j * n + i] = hyper.scale * matern(this.r2(X, i, X, j));
    }
    // Duplicate inputs with tiny noise can defeat the factorisation; add jitter until it holds.
    let jitter = 1e-10 * hyper.scale;
    const base = Float64Array.from(C);
    while (!choleskyInPlace(C, n)) {
      C.set(base);
      for (let i = 0; i < n; i++) C[i * n + i] += jitter;
      jitter *= 10;
    }
    this.L = C;
    this.alpha = solveUpperT(C, n, solveLower(C, n, y));
    this.kbuf = new Float64Array(n);
    this.dkbuf = new Float64Array(n);
    this.vbuf = new Float64Array(n);
  }

  private r2(A: Float64Array, i: number, B: Float64Array, j: number): number {
    const { D } = this;
    const rho = this.hyper.rho;
    let s = 0;
    for (let d = 0; d < D; d++) {
      const diff = A[i * D + d] - B[j * D + d];
      s += rho[d] * diff * diff;
    }
    return s;
  }

  /** Posterior mean and variance at x; with `grad`, their gradients with respect to x too. */
  predict(x: Float64Array, grad?: { mean: Float64Array; variance: Float64Array }): { mean: number; variance: number } {
    const { n, D, X, alpha } = this;
    const { rho, scale } = this.hyper;
    const k = this.kbuf;
    const dk = this.dkbuf;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const r2 = this.r2(x, 0, X, i);
      const r = Math.sqrt(5 * r2);
      const e = Math.exp(-r);
      k[i] = scale * ((1 + r + (5 / 3) * r2) * e);
      if (grad) dk[i] = scale * ((-5 / 6) * (1 + r) * e);
      mean += k[i] * alpha[i];
    }
    const v = solveLower(this.L, n, k, this.vbuf);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i] * v[i];
    const variance = Math.max(scale - vv, 1e-12 * scale);
    if (grad) {
      const w = solveUpperT(this.L, n, v); // C⁻¹ k
      for (let d = 0; d < D; d++) {
        let gm = 0;
        let gv = 0;
        for (let i = 0; i < n; i++) {
          const dkd = dk[i] * 2 * rho[d] * (x[d] - X[i * D + d]);
          gm += dkd * alpha[i];
          gv -= 2 * w[i] * dkd;
        }
        grad.mean[d] = gm;
        grad.variance[d] = gv;
      }
    }
    return { mean, variance };
  }
}
