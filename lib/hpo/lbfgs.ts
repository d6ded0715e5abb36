/**
 * A small L-BFGS minimiser (two-loop recursion, backtracking Armijo line search) for the GP's
 * kernel hyperparameters: a dozen unknowns, a smooth objective, and a budget of a few dozen
 * evaluations, where L-BFGS needs far fewer of them than plain gradient steps.
 */

export type Objective = (x: Float64Array) => { f: number; g: Float64Array };

export interface LbfgsOptions {
  maxIter: number;
  /** Stop once every gradient component is below this. */
  gtol: number;
  memory?: number;
  /** Box on every coordinate: keeps exp(x) away from overflow and degenerate kernels. */
  lower?: number;
  upper?: number;
}

export function lbfgs(fn: Objective, x0: Float64Array, opts: LbfgsOptions): { x: Float64Array; f: number } {
  const n = x0.length;
  const m = opts.memory ?? 8;
  const lo = opts.lower ?? -Infinity;
  const hi = opts.upper ?? Infinity;
  const clamp = (v: Float64Array) => v.map((z) => Math.min(hi, Math.max(lo, z)));
  let x: Float64Array = clamp(x0);
  let { f, g } = fn(x);
  if (!Number.isFinite(f)) return { x, f };
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i] * b[i];
    return s;
  };

  for (let iter = 0; iter < opts.maxIter; iter++) {
    let gmax = 0;
    for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    if (gmax < opts.gtol) break;

    // Two-loop recursion: d = -H g.
    const q = Float64Array.from(g);
    const alpha = new Array<number>(S.length);
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = dot(S[k], q) / dot(Y[k], S[k]);
      for (let i = 0; i < n; i++) q[i] -= alpha[k] * Y[k][i];
    }
    const gamma = S.length ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, gmax);
    for (let i = 0; i < n; i++) q[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      const beta = dot(Y[k], q) / dot(Y[k], S[k]);
      for (let i = 0; i < n; i++) q[i] += (alpha[k] - beta) * S[k][i];
    }
    const d = q.map((v) => -v);
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (stale curvature pairs): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i] / Math.max(1, gmax);
      slope = dot(g, d);
    }

    let step = 1;
    let accepted: { x: Float64Array; f: number; g: Float64Array } | undefined;
    for (let ls = 0; ls < 20; ls++) {
      const xn = clamp(x.map((v, i) => v + step * d[i]));
      const r = fn(xn);
      if (Number.isFinite(r.f) && r.f <= f + 1e-4 * step * slope) {
        accepted = { x: xn, f: r.f, g: r.g };
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;

    const s = accepted.x.map((v, i) => v - x[i]);
    const y = accepted.g.map((v, i) => v - g[i]);
    if (dot(s, y) > 1e-10) {
      S.push(s);
      Y.push(y);
      if (S.length > m) {
        S.shift();
        Y.shift();
      }
    }
    const improvement = f - accepted.f;
    x = accepted.x;
    f = accepted.f;
    g = accepted.g;
    if (improvement <= 1e-10 * Math.max(1, Math.abs(f))) break;
  }
  return { x, f };
}
