/**
 * Distribution functions for the experiment statistics: standard normal, Student t, chi-square,
 * and the special functions under them. Pure and deterministic (only IEEE arithmetic and Math's
 * elementary functions), so they can run inside Temporal workflow code.
 *
 * Accuracy is checked against SciPy in distributions.test.ts. Upper tails are computed directly,
 * never as 1 − cdf, because p-values live in the upper tail and 1 − cdf loses every digit there.
 */

const LN_SQRT_2PI = 0.9189385332046727418; // log(sqrt(2π))
const INV_SQRT_2PI = 0.3989422804014326779; // 1/sqrt(2π)
const SQRT_32 = 5.656854249492380195;
const TINY = 1e-300; // Lentz's guard against a zero denominator

// ---------------------------------------------------------------------------------------------
// Standard normal
// ---------------------------------------------------------------------------------------------

// W. J. Cody's rational Chebyshev approximations (ANORM, netlib specfun; Math. Comp. 1969),
// with relative accuracy near machine precision over the whole range, tails included.
const CODY_A = [2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249, 0.065682337918207449113];
const CODY_B = [47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956];
const CODY_C = [
  0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226, 2494.5375852903726711,
  6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218, 1.0765576773720192317e-8,
];
const CODY_D = [
  22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755, 18615.571640885098091,
  34900.952721145977266, 38912.003286093271411, 19685.429676859990727,
];
const CODY_P = [0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466, 2.9112874951168792e-5, 0.02307344176494017303];
const CODY_Q = [1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244, 7.29751555083966205e-5];

/**
 * exp(−y²/2) without the rounding error of y² wrecking the tail: y = ysq + r with ysq a multiple
 * of 1/16, so ysq² is exact and only the small remainder term carries rounding.
 */
function expMinusHalfSquare(y: number): number {
  const ysq = Math.trunc(y * 16) / 16;
  const del = (y - ysq) * (y + ysq);
  return Math.exp(-ysq * ysq * 0.5) * Math.exp(-del * 0.5);
}

/** [P(Z ≤ x), P(Z > x)], each to near machine precision relative to itself. */
function normalTails(x: number): [number, number] {
  if (Number.isNaN(x)) return [NaN, NaN];
  const y = Math.abs(x);
  if (y <= 0.67448975) {
    let num = 0;
    let den = 0;
    if (y > 1.1e-16) {
      const xsq = x * x;
      num = CODY_A[4] * xsq;
      den = xsq;
      for (let i = 0; i < 3; i++) {
        num = (num + CODY_A[i]) * xsq;
        den = (den + CODY_B[i]) * xsq;
      }
    }
    const t = (x * (num + CODY_A[3])) / (den + CODY_B[3]);
    return [0.5 + t, 0.5 - t];
  }
  let tail: number; // P(Z > |x|)
  if (y <= SQRT_32) {
    let num = CODY_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + CODY_C[i]) * y;
      den = (den + CODY_D[i]) * y;
    }
    tail = expMinusHalfSquare(y) * ((num + CODY_C[7]) / (den + CODY_D[7]));
  } else if (y < 38.5) {
    // Past 38.5 the tail is below the smallest subnormal double.
    const xsq = 1 / (x * x);
    let num = CODY_P[5] * xsq;
    let den = xsq;
    for (let i = 0; i < 4; i++) {
      num = (num + CODY_P[i]) * xsq;
      den = (den + CODY_Q[i]) * xsq;
    }
    const r = (xsq * (num + CODY_P[4])) / (den + CODY_Q[4]);
    tail = expMinusHalfSquare(y) * ((INV_SQRT_2PI - r) / y);
  } else {
    tail = 0;
  }
  return x > 0 ? [1 - tail, tail] : [tail, 1 - tail];
}

/** Standard normal P(Z ≤ x). */
export function normalCdf(x: number): number {
  return normalTails(x)[0];
}

/** Standard normal P(Z > x), accurate deep into the upper tail (x up to ~38). */
export function normalSf(x: number): number {
  return normalTails(x)[1];
}

/** Standard normal density. */
export function normalPdf(x: number): number {
  return INV_SQRT_2PI * expMinusHalfSquare(Math.abs(x));
}

// Wichura's AS 241 (PPND16, Appl. Statist. 1988): about 1e-16 relative accuracy.
const AS241_A = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457,
  67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const AS241_B = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
  28729.085735721942674, 5226.495278852854561,
];
const AS241_C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258,
  0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
];
const AS241_D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
const AS241_E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123, 0.026532189526576123093,
  0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
];
const AS241_F = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
];

function horner(coefficients: readonly number[], x: number): number {
  let acc = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) acc = acc * x + coefficients[i];
  return acc;
}

/** Standard normal quantile: the x with P(Z ≤ x) = p. NaN outside [0, 1]. */
export function normalPpf(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(AS241_A, r)) / horner(AS241_B, r);
  }
  // 1 − p is exact here (Sterbenz), so the upper half loses nothing beyond p's own rounding.
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = horner(AS241_C, r) / horner(AS241_D, r);
  } else {
    r -= 5;
    value = horner(AS241_E, r) / horner(AS241_F, r);
  }
  return q < 0 ? -value : value;
}

/** The x with P(Z > x) = q; exact for tiny q, where normalPpf(1 − q) would have rounded q away. */
export function normalIsf(q: number): number {
  return -normalPpf(q);
}

// ---------------------------------------------------------------------------------------------
// Gamma and beta functions
// ---------------------------------------------------------------------------------------------

/**
 * δ(z) = logΓ(z) − [(z − ½)·log z − z + log√(2π)] for z ≥ 10, by the Stirling series; the first
 * term left out is 3617/(122400·z^15), 3e-17 at z = 10. Keeping δ separate lets differences of log-gammas
 * of large arguments cancel analytically instead of in floating point.
 */
function stirlingCorrection(z: number): number {
  const r = 1 / z;
  const r2 = r * r;
  return r * (1 / 12 + r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 / 156))))));
}

/** log Γ(x) for x > 0 (NaN otherwise); absolute error around 1e-15, relative away from x = 1, 2. */
export function logGamma(x: number): number {
  if (Number.isNaN(x) || x <= 0) return NaN;
  if (x === Infinity) return Infinity;
  if (x === 1 || x === 2) return 0; // the shifted sum below leaves ~1e-15 where the answer is exactly 0
  let z = x;
  let prod = 1;
  // Γ(x) = Γ(x + k) / (x(x+1)…(x+k−1)): shift up to where the Stirling series is accurate.
  while (z < 10) {
    prod *= z;
    z += 1;
  }
  return (z - 0.5) * Math.log(z) - z + LN_SQRT_2PI + stirlingCorrection(z) - Math.log(prod);
}

/**
 * log B(a, b). When an argument is large the log-gammas are huge and nearly cancel, so the
 * difference is taken analytically (Stirling) and only the small corrections are subtracted.
 */
export function logBeta(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b) || a <= 0 || b <= 0) return NaN;
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (q < 10) return logGamma(p) + logGamma(q) - logGamma(p + q);
  if (p >= 10) {
    const corr = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p + q);
    return -0.5 * Math.log(q) + LN_SQRT_2PI + corr + (p - 0.5) * Math.log(p / (p + q)) + q * Math.log1p(-p / (p + q));
  }
  // p < 10 ≤ q: logΓ(q) − logΓ(p+q) = −(q − ½)·log1p(p/q) − p·log(p+q) + p + δ(q) − δ(p+q).
  const corr = stirlingCorrection(q) - stirlingCorrection(p + q);
  return logGamma(p) + corr - (q - 0.5) * Math.log1p(p / q) - p * Math.log(p + q) + p;
}

/** log(1 + u) − u without cancellation for small u (|u| < ½ by the atanh series). */
function log1pMinusX(u: number): number {
  if (Math.abs(u) >= 0.5) return Math.log1p(u) - u;
  // log1p(u) = 2·atanh(s), s = u/(2+u), and u − 2s = s·u exactly in real arithmetic.
  const s = u / (2 + u);
  const s2 = s * s;
  let term = s * s2;
  let sum = 0;
  for (let k = 3; k < 200; k += 2) {
    const add = term / k;
    sum += add;
    if (Math.abs(add) <= Math.abs(sum) * 1e-17) break;
    term *= s2;
  }
  return -s * u + 2 * sum;
}

/** log(v/v0) − (v − v0)/v0; far from v0 the log of the ratio is exact where log1p(u) is not. */
function logRatioMinusX(v: number, v0: number): number {
  const u = (v - v0) / v0;
  return Math.abs(u) < 0.5 ? log1pMinusX(u) : Math.log(v / v0) - u;
}

/** log(x^a · e^−x / Γ(a)), the prefactor of the incomplete gamma function. */
function logGammaFront(a: number, x: number): number {
  if (a < 10) return a * Math.log(x) - x - logGamma(a);
  // a·log x − x − logΓ(a) = a·(log(x/a) − u) + ½·log a − log√(2π) − δ(a), u = (x − a)/a:
  // the two huge terms are never formed, so large-df chi-square tails keep their digits.
  return a * logRatioMinusX(x, a) + 0.5 * Math.log(a) - LN_SQRT_2PI - stirlingCorrection(a);
}

function maxIterations(a: number, b = 0): number {
  // The continued fractions and the series need O(sqrt(max(a, b))) terms near the mean.
  return 1000 + Math.ceil(50 * Math.sqrt(Math.max(a, b)));
}

/** [P(a, x), Q(a, x)]: regularised lower and upper incomplete gamma functions. */
export function regularizedGamma(a: number, x: number): [number, number] {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return [NaN, NaN];
  if (x === 0) return [0, 1];
  if (x === Infinity) return [1, 0];
  const front = logGammaFront(a, x);
  const limit = maxIterations(a);
  if (x < a + 1) {
    // Series for P: converges fast below the mean.
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; ; i++) {
      if (i > limit) throw new Error(`regularizedGamma: series did not converge (a=${a}, x=${x})`);
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * Number.EPSILON) break;
    }
    const lower = Math.min(1, sum * Math.exp(front));
    return [lower, 1 - lower];
  }
  // Continued fraction for Q (modified Lentz): converges fast above the mean.
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; ; i++) {
    if (i > limit) throw new Error(`regularizedGamma: continued fraction did not converge (a=${a}, x=${x})`);
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < Number.EPSILON) break;
  }
  const upper = Math.min(1, Math.exp(front) * h);
  return [1 - upper, upper];
}

/**
 * Continued fraction for I_x(a, b) (Numerical Recipes' betacf, modified Lentz), with y = 1 − x.
 *
 * The odd partial numerators are close to −1 when x is near 1 and a is large (the t distribution
 * at large df), so the textbook 1 + d·D loses up to log10(a) digits to cancellation. Here 1 + d_odd
 * is formed from y exactly (x + y = 1),
 *   1 + d_(2m+1) = [(2m+1−b)·a + m(3m+2−b) + (a+m)(a+b+m)·y] / ((a+2m)(a+2m+1)),
 * and the even steps carry C − 1 and D − 1 (both small) so the next odd step never subtracts.
 */
function betaContinuedFraction(a: number, b: number, x: number, y: number): number {
  // With b ≤ 2m + 1 every term of the y-form is non-negative; otherwise that form itself cancels
  // and the plain 1 + d_odd is the better-conditioned one.
  const onePlusOdd = (m: number): number =>
    b <= 2 * m + 1
      ? ((2 * m + 1 - b) * a + m * (3 * m + 2 - b) + (a + m) * (a + b + m) * y) / ((a + 2 * m) * (a + 2 * m + 1))
      : 1 - ((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
  let d = onePlusOdd(0);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let c = 1;
  let h = d;
  const limit = maxIterations(a, b);
  for (let m = 1; ; m++) {
    if (m > limit) throw new Error(`regularizedBeta: continued fraction did not converge (a=${a}, b=${b}, x=${x})`);
    const m2 = 2 * m;
    // Even step: for large a (the case the rewriting is for) its coefficient is O(m·|b − m|/a²),
    // so C and D stay near 1 and their offsets from 1 are kept without rounding them into the 1.
    const even = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    let dEven = 1 + even * d;
    if (Math.abs(dEven) < TINY) dEven = TINY;
    dEven = 1 / dEven;
    const dMinus1 = -even * d * dEven;
    const cMinus1 = even / c;
    let cEven = 1 + cMinus1;
    if (Math.abs(cEven) < TINY) cEven = TINY;
    h *= dEven * cEven;
    // Odd step.
    const onePlus = onePlusOdd(m);
    const odd = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = onePlus + odd * dMinus1;
    if (Math.abs(d) < TINY) d = TINY;
    d = 1 / d;
    c = (onePlus + cMinus1) / cEven;
    if (Math.abs(c) < TINY) c = TINY;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < Number.EPSILON && Math.abs(dEven * cEven - 1) < Number.EPSILON) break;
  }
  return h;
}

/** log(x^a · y^b / B(a, b)), the prefactor of the incomplete beta function. */
function logBetaFront(a: number, b: number, x: number, y: number, logX: number, logY: number): number {
  if (a < 10 || b < 10) return a * logX + b * logY - logBeta(a, b);
  // Around the mean x0 = a/(a+b): a·log(x/x0) + b·log(y/y0) = a·(log1p(u) − u) + b·(log1p(w) − w)
  // because a·u + b·w = 0 exactly; with logB's Stirling form the huge terms cancel on paper.
  const x0 = a / (a + b);
  const y0 = b / (a + b);
  const corr = stirlingCorrection(a) + stirlingCorrection(b) - stirlingCorrection(a + b);
  return a * logRatioMinusX(x, x0) + b * logRatioMinusX(y, y0) + 0.5 * Math.log((a * b) / (a + b)) - LN_SQRT_2PI - corr;
}

/**
 * [I_x(a, b), 1 − I_x(a, b)]. The caller passes y = 1 − x (and optionally log x, log y)
 * computed without cancellation; whichever tail is smaller is evaluated directly.
 */
export function regularizedBeta(a: number, b: number, x: number, y = 1 - x, logX = Math.log(x), logY = Math.log(y)): [number, number] {
  if ([a, b, x, y].some(Number.isNaN) || a <= 0 || b <= 0 || x < 0 || y < 0) return [NaN, NaN];
  if (x === 0) return [0, 1];
  if (y === 0) return [1, 0];
  const front = logBetaFront(a, b, x, y, logX, logY);
  if (x < (a + 1) / (a + b + 2)) {
    const lower = Math.min(1, (Math.exp(front) * betaContinuedFraction(a, b, x, y)) / a);
    return [lower, 1 - lower];
  }
  const upper = Math.min(1, (Math.exp(front) * betaContinuedFraction(b, a, y, x)) / b);
  return [1 - upper, upper];
}

// ---------------------------------------------------------------------------------------------
// Student t
// ---------------------------------------------------------------------------------------------

/** [P(T ≤ t), P(T > t)] for Student's t with df > 0 degrees of freedom (df may be fractional). */
function studentTTails(t: number, df: number): [number, number] {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return [NaN, NaN];
  if (df === Infinity) return normalTails(t);
  if (t === Infinity) return [1, 0];
  if (t === -Infinity) return [0, 1];
  if (t === 0) return [0.5, 0.5];
  // P(|T| > |t|) = I_x(df/2, ½) with x = df/(df + t²); form x, 1 − x and their logs separately
  // so neither tail loses digits to cancellation.
  const at = Math.abs(t);
  let x: number;
  let y: number;
  let logX: number;
  let logY: number;
  const t2 = at * at;
  if (t2 === Infinity || t2 > 1e300) {
    const r = df / at / at;
    x = r;
    y = 1;
    logX = Math.log(df) - 2 * Math.log(at);
    logY = 0;
  } else {
    x = df / (df + t2);
    y = t2 / (df + t2);
    logX = -Math.log1p(t2 / df);
    logY = -Math.log1p(df / t2);
  }
  const [twoSided, inner] = regularizedBeta(df / 2, 0.5, x, y, logX, logY);
  const tail = 0.5 * twoSided;
  const body = 0.5 + 0.5 * inner;
  return t > 0 ? [body, tail] : [tail, body];
}

/** Student t P(T ≤ t). */
export function studentTCdf(t: number, df: number): number {
  return studentTTails(t, df)[0];
}

/** Student t P(T > t). */
export function studentTSf(t: number, df: number): number {
  return studentTTails(t, df)[1];
}

/** Student t density. */
export function studentTPdf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return NaN;
  if (df === Infinity) return normalPdf(t);
  return Math.exp(-logBeta(df / 2, 0.5) - 0.5 * Math.log(df) - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** Student t quantile: the t with P(T ≤ t) = p. */
export function studentTPpf(p: number, df: number): number {
  if (Number.isNaN(p) || Number.isNaN(df) || p < 0 || p > 1 || df <= 0) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df === Infinity) return normalPpf(p);
  // Solve in the smaller tail, q = P(T > t) with t > 0, on log q, where Newton's method is
  // nearly linear even for heavy tails; a bracket keeps every step safe.
  const q = p < 0.5 ? p : 1 - p;
  const logQ = Math.log(q);
  let lo = 0;
  let hi = Math.max(1, normalIsf(q));
  while (studentTSf(hi, df) > q) {
    lo = hi;
    hi *= 2;
    if (hi === Infinity) break;
  }
  let t = Math.min(hi, Math.max(lo, normalIsf(q)));
  if (!(t > lo && t < hi)) t = (lo + hi) / 2;
  for (let i = 0; i < 200; i++) {
    const sf = studentTSf(t, df);
    const f = Math.log(sf) - logQ; // decreasing in t
    if (f === 0) break;
    if (f > 0) lo = t;
    else hi = t;
    // d log sf / dt = −pdf/sf
    let next = t + (f * sf) / studentTPdf(t, df);
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    if (Math.abs(next - t) <= 4 * Number.EPSILON * Math.abs(t) || hi - lo <= 4 * Number.EPSILON * hi) {
      t = next;
      break;
    }
    t = next;
  }
  return p < 0.5 ? -t : t;
}

// ---------------------------------------------------------------------------------------------
// Chi-square
// ---------------------------------------------------------------------------------------------

/** Chi-square P(X ≤ x) with df > 0 degrees of freedom. */
export function chiSquareCdf(x: number, df: number): number {
  if (Number.isNaN(x) || Number.isNaN(df) || df <= 0) return NaN;
  if (x <= 0) return 0;
  return regularizedGamma(df / 2, x / 2)[0];
}

/** Chi-square P(X > x) with df > 0 degrees of freedom. */
export function chiSquareSf(x: number, df: number): number {
  if (Number.isNaN(x) || Number.isNaN(df) || df <= 0) return NaN;
  if (x <= 0) return 1;
  return regularizedGamma(df / 2, x / 2)[1];
}
