/**
 * Log expected improvement (Ament et al. 2023, "Unexpected improvements to expected improvement"):
 * EI itself underflows to exactly 0 over most of the space once the GP is confident, leaving the
 * candidate search flat; its logarithm stays finite and informative everywhere.
 */
import { erfcx, logNdtr, logPhi, ndtr } from './normal';

const SQRT_HALF_PI = Math.sqrt(Math.PI / 2);

/** log h(z), h(z) = φ(z) + z Φ(z): EI of a unit-variance posterior whose mean is z above the best. */
export function logH(z: number): number {
  if (z > -1) return Math.log(Math.exp(logPhi(z)) + z * ndtr(z));
  const t = -z;
  // h(z) = φ(z) (1 − t M(t)), M the Mills ratio Φ(−t)/φ(t) = √(π/2) erfcx(t/√2).
  if (t < 1e4) return logPhi(z) + Math.log1p(-t * SQRT_HALF_PI * erfcx(t / Math.SQRT2));
  // Far tail: 1 − t M(t) ≈ 1/t², where the difference above has cancelled to noise.
  return logPhi(z) - 2 * Math.log(t);
}

/** log EI for a maximised objective, with d logEI / d mean and d logEI / d sd. */
export function logEi(mean: number, sd: number, best: number): { value: number; dMean: number; dSd: number } {
  const z = (mean - best) / sd;
  const lh = logH(z);
  // d EI/d mean = Φ(z) and d EI/d sd = φ(z); divided by EI = sd·h(z) in log space.
  return {
    value: Math.log(sd) + lh,
    dMean: Math.exp(logNdtr(z) - lh) / sd,
    dSd: Math.exp(logPhi(z) - lh) / sd,
  };
}
