/**
 * The standard normal's CDF, its log, its inverse, and interval masses, accurate far into the
 * tails. TPE's truncated kernels and the GP's log expected improvement both live out there: a
 * naive 1 - Φ(x) turns into 0 or a negative number long before the search is done with it.
 *
 * erf/erfc follow FreeBSD msun's s_erf.c (Sun Microsystems, 1993: "Permission to use, copy,
 * modify, and distribute this software is freely granted, provided that this notice is
 * preserved."), the same rational approximations Optuna's TPE uses. Everything here is plain
 * IEEE arithmetic plus Math.exp/log, so results are bit-identical for a given JavaScript engine.
 */

const erx = 8.45062911510467529297e-1;
const efx = 1.28379167095512586316e-1;
const pp = [1.28379167095512558561e-1, -3.25042107247001499370e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3, -2.37630166566501626084e-5];
const qq = [1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4, -3.96022827877536812320e-6];
const pa = [-2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1, -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.16637559486879084300e-3];
const qa = [1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1, 1.36370839120290507362e-2, 1.19844998467991074170e-2];
const ra = [-9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1, -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592];
const sa = [1, 1.96512716674392571292e1, 1.37657754143519042600e2, 4.34565877475229228821e2, 6.45387271733267880336e2, 4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2];
const rb = [-9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2, -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2];
const sb = [1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3, 2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1];

const SQRT2 = Math.SQRT2;
export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

function poly(c: readonly number[], x: number): number {
  let r = c[c.length - 1];
  for (let i = c.length - 2; i >= 0; i--) r = r * x + c[i];
  return r;
}

// msun clears the low 32 bits of x before squaring so exp(-x*x) can be split without rounding.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
function clearLowWord(x: number): number {
  f64[0] = x;
  u32[LOW_WORD] = 0;
  return f64[0];
}

/** exp(x²)·erfc(x) for x ≥ 1.25, where the tail formula's exp(-x²) factor cancels exactly. */
function erfcxTail(x: number): number {
  const s = 1 / (x * x);
  const rs = x < 1 / 0.35 ? poly(ra, s) / poly(sa, s) : poly(rb, s) / poly(sb, s);
  return Math.exp(-0.5625 + rs) / x;
}

/** erfc(x) for x ≥ 1.25. */
function erfcTail(x: number): number {
  if (x >= 28) return 0;
  const s = 1 / (x * x);
  const rs = x < 1 / 0.35 ? poly(ra, s) / poly(sa, s) : poly(rb, s) / poly(sb, s);
  const z = clearLowWord(x);
  return (Math.exp(-z * z - 0.5625) * Math.exp((z - x) * (z + x) + rs)) / x;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 2 ** -28) return x + efx * x;
    const z = x * x;
    return x + x * (poly(pp, z) / poly(qq, z));
  }
  const sign = x < 0 ? -1 : 1;
  if (ax < 1.25) return sign * (erx + poly(pa, ax - 1) / poly(qa, ax - 1));
  if (ax >= 6) return sign;
  return sign * (1 - erfcTail(ax));
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < 2 ** -56) return 1 - x;
    const z = x * x;
    const y = poly(pp, z) / poly(qq, z);
    if (x < 0.25) return 1 - (x + x * y);
    return 0.5 - (x * y + (x - 0.5));
  }
  if (ax < 1.25) {
    const r = poly(pa, ax - 1) / poly(qa, ax - 1);
    return x >= 0 ? 1 - erx - r : 1 + (erx + r);
  }
  if (x > 0) return erfcTail(ax);
  return ax < 6 ? 2 - erfcTail(ax) : 2;
}

/** exp(x²)·erfc(x) for x ≥ 0 (the scaled complement, finite where erfc underflows). */
export function erfcx(x: number): number {
  if (x < 1.25) return Math.exp(x * x) * erfc(x);
  return erfcxTail(x);
}

/** Φ(x), the standard normal CDF. */
export function ndtr(x: number): number {
  return 0.5 * erfc(-x / SQRT2);
}

/** log Φ(x), finite down to x ≈ -1e154. */
export function logNdtr(x: number): number {
  if (x > 0) return Math.log1p(-ndtr(-x));
  if (x > -5) return Math.log(ndtr(x));
  const t = -x / SQRT2;
  return Math.log(0.5 * erfcxTail(t)) - t * t;
}

/** log of the standard normal density. */
export function logPhi(x: number): number {
  return -0.5 * x * x - LOG_SQRT_2PI;
}

// Acklam's rational approximation, polished by one Halley step on Φ to full double precision.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** Φ⁻¹(p) for p in (0, 1); most accurate for p ≤ 0.5, which is how the callers use it. */
export function ndtri(p: number): number {
  if (!(p > 0)) return p === 0 ? -Infinity : NaN;
  if (!(p < 1)) return p === 1 ? Infinity : NaN;
  let x: number;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  } else if (p <= 1 - P_LOW) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log1p(-p));
    x = -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  // Halley's step; the error term uses the tail that is accurate for this p.
  const e = p <= 0.5 ? ndtr(x) - p : 1 - p - ndtr(-x);
  const u = e * SQRT_2PI * Math.exp(0.5 * x * x);
  return x - u / (1 + (x * u) / 2);
}

/** log(Φ(b) - Φ(a)) for a < b, computed in whichever tail keeps it accurate. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  // Below -10 a tail holds < 1e-23 of the mass, invisible next to 1: skip its erfc.
  return Math.log1p(-(a < -10 ? 0 : ndtr(a)) - (b > 10 ? 0 : ndtr(-b)));
}

function logDiff(logP: number, logQ: number): number {
  return logP + Math.log1p(-Math.exp(logQ - logP));
}

/**
 * The q-quantile of the standard normal truncated to [a, b]. The inverse is taken in the tail
 * where the target probability is small, so it keeps its precision on either side.
 */
export function truncNormPpf(q: number, a: number, b: number): number {
  let x: number;
  if (a < 0 && b > 0) {
    const phiA = ndtr(a);
    const phiNegB = ndtr(-b);
    const mass = 1 - phiA - phiNegB;
    const lower = phiA + q * mass;
    x = lower <= 0.5 ? ndtri(lower) : -ndtri(phiNegB + (1 - q) * mass);
  } else if (b <= 0) {
    const phiA = ndtr(a);
    x = ndtri(phiA + q * (ndtr(b) - phiA));
  } else {
    const phiNegB = ndtr(-b);
    x = -ndtri(phiNegB + (1 - q) * (ndtr(-a) - phiNegB));
  }
  return Math.min(b, Math.max(a, x));
}
