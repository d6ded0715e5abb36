/**
 * Gaussian-process Bayesian optimisation: random startup trials, then a Matérn 5/2 ARD GP on the
 * unit-scaled space, fitted afresh for every proposal (no state carried between calls, so replay
 * gives the same proposal), and the configuration maximising log EI. Running trials are added at
 * the GP's own prediction ("kriging believer"): the posterior variance collapses there and the
 * improvement over the believed value vanishes, so parallel proposals do not pile onto one point.
 */
import { createRng } from '../random';
import { makeEncoding, encode } from './gp-encoding';
import { fitHyper, GpPosterior } from './gp-model';
import { warpLosses } from './gp-warp';
import { maximizeAcquisition } from './gp-optimize';
import type { OptionSpec } from './options';
import { optionOr } from './options';
import { randomParams } from './random-sampler';
import type { SampleContext, Sampler } from './sampler';
import type { Params } from './space';
import { byNumber, hasValue, otherTrials } from './trial';

export const GP_OPTIONS: Record<string, OptionSpec> = {
  nStartupTrials: { kind: 'integer', min: 1 },
  nCandidates: { kind: 'integer', min: 1 },
  nLocalSearch: { kind: 'integer', min: 0 },
  fitRestarts: { kind: 'integer', min: 0 },
  deterministicObjective: { kind: 'boolean' },
  warpOutput: { kind: 'boolean' },
};

export interface GpConfig {
  nStartupTrials: number;
  nCandidates: number;
  nLocalSearch: number;
  fitRestarts: number;
  deterministicObjective: boolean;
  warpOutput: boolean;
}

const MIN_NOISE = 1e-6;
const FIT_MAX_ITER = 60;

export class GpSampler implements Sampler {
  readonly name = 'gp';
  readonly config: GpConfig;

  constructor(options: Record<string, unknown> = {}) {
    this.config = {
      nStartupTrials: optionOr(options, 'nStartupTrials', 10),
      nCandidates: optionOr(options, 'nCandidates', 1024),
      nLocalSearch: optionOr(options, 'nLocalSearch', 5),
      fitRestarts: optionOr(options, 'fitRestarts', 1),
      deterministicObjective: optionOr(options, 'deterministicObjective', false),
      warpOutput: optionOr(options, 'warpOutput', true),
    };
  }

  sample(ctx: SampleContext): Params {
    const rng = createRng(ctx.seed);
    const trials = byNumber(otherTrials(ctx.trials, ctx.trialNumber));
    const enc = makeEncoding(ctx.space);
    const rows: Float64Array[] = [];
    const raw: number[] = [];
    const params: Params[] = [];
    for (const t of trials.filter(hasValue)) {
      const x = encode(enc, t.params);
      if (!x) continue;
      rows.push(x);
      // Internally always maximised.
      raw.push(ctx.direction === 'minimize' ? -t.value : t.value);
      params.push(t.params);
    }
    if (rows.length < this.config.nStartupTrials) return randomParams(ctx.space, rng);

    // Warping works on losses (lower is better); the GP maximises.
    const y = this.config.warpOutput ? Float64Array.from(warpLosses(clipInfinite(raw).map((v) => -v)), (v) => -v) : standardize(raw);
    const D = enc.D;
    const X = stack(rows, D);
    const hyper = fitHyper(X, y, D, rng, {
      restarts: this.config.fitRestarts,
      maxIter: FIT_MAX_ITER,
      minNoise: MIN_NOISE,
      deterministic: this.config.deterministicObjective,
    });
    let post = new GpPosterior(X, y, D, hyper);

    const running = trials
      .filter((t) => t.state === 'running')
      .map((t) => encode(enc, t.params))
      .filter((x): x is Float64Array => x !== undefined);
    let bestIndex = 0;
    for (let i = 1; i < y.length; i++) if (y[i] > y[bestIndex]) bestIndex = i;
    let incumbent = y[bestIndex];
    if (running.length > 0) {
      const lies = running.map((x) => post.predict(x).mean);
      post = new GpPosterior(stack([...rows, ...running], D), Float64Array.from([...y, ...lies]), D, hyper);
      // The believed values count as observed, incumbent included: otherwise a running trial at a
      // predicted optimum keeps its full EI and the next worker proposes the same point again.
      for (const v of lies) incumbent = Math.max(incumbent, v);
    }
    return maximizeAcquisition(
      enc,
      post,
      incumbent,
      rng,
      { nCandidates: this.config.nCandidates, nLocalSearch: this.config.nLocalSearch },
      this.config.nLocalSearch > 0 ? [params[bestIndex]] : [],
    );
  }
}

function stack(rows: Float64Array[], D: number): Float64Array {
  const X = new Float64Array(rows.length * D);
  rows.forEach((r, i) => X.set(r, i * D));
  return X;
}

/** Infinities clipped to the finite extremes, as Optuna does. */
function clipInfinite(values: number[]): number[] {
  const finite = values.filter(Number.isFinite);
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 0;
  return values.map((x) => Math.min(hi, Math.max(lo, x)));
}

/** Zero mean, unit variance. */
function standardize(values: number[]): Float64Array {
  const v = clipInfinite(values);
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
  return Float64Array.from(v, (x) => (x - mean) / Math.max(sd, 1e-12));
}
