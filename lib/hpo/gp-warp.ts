/**
 * Output warping for the GP: a Yeo–Johnson power transform of the observed losses, λ chosen by
 * maximum likelihood (as HEBO does). Objectives with heavy tails (Rosenbrock-like valleys, losses
 * that blow up for bad learning rates) otherwise leave a stationary GP fitting a few huge values
 * and flattening everything near the optimum, where the search needs resolution.
 *
 * λ is kept in [0.5, 1]: compressing the bad tail, never stretching it, and never fully. Stronger
 * compression (λ down to −1, as HEBO allows) won 5–10× on Rosenbrock and Branin in our runs but
 * made the GP settle for the first good branch of a conditional space: the flattened bad values
 * stop lending unexplored regions the optimism that sends EI there.
 */

const LAMBDAS = [0.5, 0.6, 0.7, 0.8, 0.9, 1];

export function yeoJohnson(x: number, lambda: number): number {
  if (x >= 0) return Math.abs(lambda) < 1e-12 ? Math.log1p(x) : (Math.pow(x + 1, lambda) - 1) / lambda;
  const l2 = 2 - lambda;
  return Math.abs(l2) < 1e-12 ? -Math.log1p(-x) : -(Math.pow(1 - x, l2) - 1) / l2;
}

function standardize(v: readonly number[]): number[] {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
  return v.map((x) => (x - mean) / Math.max(sd, 1e-12));
}

/**
 * Standardised, warped copies of `losses` (lower is better on input and output). The identity
 * (λ = 1) is among the candidates, so a well-behaved objective is left essentially as it is.
 */
export function warpLosses(losses: readonly number[]): number[] {
  const z = standardize(losses);
  let best = z;
  let bestLl = -Infinity;
  for (const lambda of LAMBDAS) {
    const t = z.map((x) => yeoJohnson(x, lambda));
    const mean = t.reduce((s, x) => s + x, 0) / t.length;
    const variance = t.reduce((s, x) => s + (x - mean) ** 2, 0) / t.length;
    if (!(variance > 0) || !Number.isFinite(variance)) continue;
    let jac = 0;
    for (const x of z) jac += Math.sign(x) * Math.log1p(Math.abs(x));
    const ll = -0.5 * t.length * Math.log(variance) + (lambda - 1) * jac;
    if (ll > bestLl) {
      bestLl = ll;
      best = t;
    }
  }
  return standardize(best);
}
