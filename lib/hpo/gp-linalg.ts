/**
 * The dense linear algebra a small GP needs, on row-major Float64Arrays: Cholesky, triangular
 * solves and the inverse from the factor. Written out because the library must stay pure,
 * dependency-free and bit-for-bit reproducible; at n ≤ a few hundred plain loops are fast enough.
 */

/** Lower Cholesky factor of the n×n SPD matrix `a` (overwritten); false if not positive definite. */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / ljj;
    }
    for (let k = j + 1; k < n; k++) a[rj + k] = 0;
  }
  return true;
}

/** Solves L x = b (L lower, n×n); returns x. */
export function solveLower(L: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[ri + k] * out[k];
    out[i] = s / L[ri + i];
  }
  return out;
}

/** Solves Lᵀ x = b (L lower, n×n); returns x. */
export function solveUpperT(L: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * out[k];
    out[i] = s / L[i * n + i];
  }
  return out;
}

/**
 * (L Lᵀ)⁻¹ from the lower factor L. L⁻¹ is built transposed (row j holds column j of L⁻¹) so
 * that every inner loop below walks memory contiguously.
 */
export function inverseFromCholesky(L: Float64Array, n: number, out: Float64Array = new Float64Array(n * n), work: Float64Array = new Float64Array(n * n)): Float64Array {
  const ut = work; // ut[j·n + i] = (L⁻¹)[i][j], zero for i < j
  ut.fill(0);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    ut[rj + j] = 1 / L[j * n + j];
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let k = j; k < i; k++) s -= L[ri + k] * ut[rj + k];
      ut[rj + i] = s / L[ri + i];
    }
  }
  // (L⁻ᵀ L⁻¹)[i][j] = Σ_k (L⁻¹)[k][i] (L⁻¹)[k][j] = Σ_{k ≥ max(i,j)} ut[i][k] ut[j][k].
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = i; k < n; k++) s += ut[ri + k] * ut[rj + k];
      out[ri + j] = s;
      out[rj + i] = s;
    }
  }
  return out;
}
