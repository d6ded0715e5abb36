/**
 * Power and expected sample size of the two-sample mSPRT (always-valid.ts) when the effect is
 * real, computed numerically instead of simulated, so a planner can size a test before it starts.
 *
 * With n observations per arm and s² = σ²_A + σ²_B (the variance of one pair's difference), the
 * estimate θ̂ has variance v = s²/n. In the information time t = n/s², W(t) = t·θ̂ is a Brownian
 * motion with drift δ (the true effect), and the mSPRT keeps going while |θ̂| is inside the
 * normal-mixture radius, i.e. while |W| < t·radius(1/t). The density of W among paths not yet
 * stopped is carried across `looks` evenly spaced looks on a grid (Gaussian transition, mass per
 * bin from normal CDF differences); what crosses a boundary at a look is that look's rejection.
 * Looks are discrete, as in the workflow: more frequent looks only add power.
 *
 * Variances are taken as known. The workflow plugs in estimates, which bench/decisions/ab.ts
 * measures against these figures.
 */
import { normalCdf } from './distributions';
import { normalMixtureRadius } from './always-valid';

export interface MsprtOperatingInput {
  /** True difference of means δ (arm − control), metric units. The test is two-sided: the sign does not matter. */
  effect: number;
  /** σ²_A + σ²_B: per-observation variance of the arm plus that of the control. */
  pairVariance: number;
  /** Mixing variance τ² of the mSPRT. */
  tau2: number;
  alpha: number;
  /** Observations per arm at the last look (the planned maximum). */
  maxSamplePerArm: number;
  /** Evenly spaced looks up to the maximum. Default 100. */
  looks?: number;
  /** Grid points for W. Default 600 (power accurate to about 0.1 percentage point). */
  gridPoints?: number;
}

export interface MsprtOperating {
  /** P(the mSPRT rejects by the last look | effect). */
  power: number;
  /** E[observations per arm when the test stops], counting a test that never rejects at the maximum. */
  expectedSamplePerArm: number;
}

export function msprtOperatingCharacteristics(input: MsprtOperatingInput): MsprtOperating {
  const { effect, pairVariance, tau2, alpha, maxSamplePerArm, looks = 100, gridPoints = 600 } = input;
  if (!Number.isFinite(effect)) throw new RangeError(`effect must be finite (got ${effect})`);
  if (!(pairVariance > 0 && Number.isFinite(pairVariance))) throw new RangeError(`pairVariance must be finite and > 0 (got ${pairVariance})`);
  if (!(tau2 > 0 && Number.isFinite(tau2))) throw new RangeError(`tau2 must be finite and > 0 (got ${tau2})`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${alpha})`);
  if (!(maxSamplePerArm > 0 && Number.isFinite(maxSamplePerArm))) throw new RangeError(`maxSamplePerArm must be finite and > 0 (got ${maxSamplePerArm})`);
  if (!(Number.isInteger(looks) && looks >= 1)) throw new RangeError(`looks must be an integer >= 1 (got ${looks})`);
  if (!(Number.isInteger(gridPoints) && gridPoints >= 50)) throw new RangeError(`gridPoints must be an integer >= 50 (got ${gridPoints})`);

  const delta = Math.abs(effect);
  const tMax = maxSamplePerArm / pairVariance;
  const dt = tMax / looks;
  const bound = (k: number) => k * dt * normalMixtureRadius(1 / (k * dt), tau2, alpha); // |W| at which look k rejects
  // The boundary widens with t, so the last look's bounds the grid: anything beyond has been rejected.
  const B = bound(looks);
  const h = (2 * B) / gridPoints;
  const x = Array.from({ length: gridPoints }, (_, i) => -B + (i + 0.5) * h);

  // Transition of W over one look: N(δ·dt, dt), as mass per bin offset.
  const sd = Math.sqrt(dt);
  const mu = delta * dt;
  const reach = Math.ceil((8 * sd + Math.abs(mu)) / h) + 1;
  const kernel = new Float64Array(2 * reach + 1);
  for (let d = -reach; d <= reach; d++) kernel[d + reach] = normalCdf((d * h + h / 2 - mu) / sd) - normalCdf((d * h - h / 2 - mu) / sd);

  // First look: W(dt) ~ N(δ·dt, dt) from W(0) = 0.
  let density = new Float64Array(gridPoints);
  for (let i = 0; i < gridPoints; i++) density[i] = normalCdf((x[i]! + h / 2 - mu) / sd) - normalCdf((x[i]! - h / 2 - mu) / sd);
  let alive = 1; // P(not stopped before this look) — mass beyond the grid is beyond the last boundary, so rejected
  let power = 0;
  let expected = 0;
  for (let k = 1; k <= looks; k++) {
    const b = bound(k);
    let survived = 0;
    for (let i = 0; i < gridPoints; i++) {
      if (Math.abs(x[i]!) >= b) density[i] = 0;
      else survived += density[i]!;
    }
    const stoppedHere = alive - survived;
    power += stoppedHere;
    expected += stoppedHere * k * dt * pairVariance;
    alive = survived;
    if (k === looks || alive < 1e-12) break;
    const next = new Float64Array(gridPoints);
    for (let i = 0; i < gridPoints; i++) {
      const m = density[i]!;
      if (m === 0) continue;
      const lo = Math.max(0, i - reach);
      const hi = Math.min(gridPoints - 1, i + reach);
      for (let j = lo; j <= hi; j++) next[j]! += m * kernel[j - i + reach]!;
    }
    density = next;
  }
  expected += alive * maxSamplePerArm;
  return { power: Math.min(1, Math.max(0, power)), expectedSamplePerArm: expected };
}
