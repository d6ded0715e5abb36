/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011; Watanabe 2023, arXiv 2304.11127), with
 * Optuna 5's defaults: multivariate kernels over the parameters every finished trial has, an
 * independent (one-dimensional) fallback for conditional parameters, and the constant liar.
 * Each proposal draws candidates from l(x) and keeps the one with the largest log l(x) − log g(x).
 */
import { createRng } from '../random';
import type { Rng } from '../random';
import type { OptionSpec } from './options';
import { optionOr } from './options';
import { randomParams } from './random-sampler';
import type { SampleContext, Sampler } from './sampler';
import type { ParamSpec, ParamValue, Params, SearchSpace } from './space';
import { isActive, topologicalOrder } from './space';
import { ParzenEstimator } from './tpe-parzen';
import type { ParzenParameters } from './tpe-parzen';
import { defaultGamma, splitTrials } from './tpe-split';
import type { Trial } from './trial';
import { byNumber, isFinished, otherTrials } from './trial';

export const TPE_OPTIONS: Record<string, OptionSpec> = {
  nStartupTrials: { kind: 'integer', min: 0 },
  nEiCandidates: { kind: 'integer', min: 1 },
  priorWeight: { kind: 'number', min: 0 },
  considerMagicClip: { kind: 'boolean' },
  considerEndpoints: { kind: 'boolean' },
  multivariate: { kind: 'boolean' },
  constantLiar: { kind: 'boolean' },
};

export interface TpeConfig extends ParzenParameters {
  nStartupTrials: number;
  nEiCandidates: number;
  multivariate: boolean;
  constantLiar: boolean;
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  readonly config: TpeConfig;

  constructor(options: Record<string, unknown> = {}) {
    this.config = {
      nStartupTrials: optionOr(options, 'nStartupTrials', 10),
      nEiCandidates: optionOr(options, 'nEiCandidates', 24),
      priorWeight: optionOr(options, 'priorWeight', 1.0),
      considerMagicClip: optionOr(options, 'considerMagicClip', true),
      considerEndpoints: optionOr(options, 'considerEndpoints', false),
      multivariate: optionOr(options, 'multivariate', true),
      constantLiar: optionOr(options, 'constantLiar', true),
    };
  }

  sample(ctx: SampleContext): Params {
    const { space } = ctx;
    const rng = createRng(ctx.seed);
    const trials = byNumber(otherTrials(ctx.trials, ctx.trialNumber));
    const finished = trials.filter(isFinished);
    if (finished.length < this.config.nStartupTrials) return randomParams(space, rng);

    // Running trials have no value yet; with the liar they still count, as bad ones.
    const pool = this.config.constantLiar ? trials.filter((t) => isFinished(t) || t.state === 'running') : finished;
    const { below, above } = splitTrials(pool, defaultGamma(finished.length), ctx.direction);

    const order = topologicalOrder(space);
    const joint: Params = {};
    if (this.config.multivariate) {
      // Only parameters every finished trial has can share kernels; the rest fall back to 1-D.
      const names = order.filter((n) => !isSingle(space[n]) && finished.every((t) => n in t.params));
      if (names.length > 0) Object.assign(joint, this.sampleGroup(space, names, below, above, rng));
    }

    const out: Params = {};
    for (const name of order) {
      if (!isActive(space, name, out)) continue;
      const spec = space[name];
      if (name in joint) out[name] = joint[name];
      else if (spec.type === 'categorical' && isSingle(spec)) out[name] = spec.choices[0];
      else out[name] = this.sampleGroup(space, [name], below, above, rng)[name];
    }
    return Object.fromEntries(Object.keys(space).filter((n) => n in out).map((n) => [n, out[n]]));
  }

  private sampleGroup(space: SearchSpace, names: string[], below: Trial[], above: Trial[], rng: Rng): Params {
    const specs = names.map((n) => space[n]);
    const l = new ParzenEstimator(specs, observations(specs, names, below), this.config);
    const g = new ParzenEstimator(specs, observations(specs, names, above), this.config);
    const candidates = l.sample(rng, this.config.nEiCandidates);
    const ll = l.logPdf(candidates);
    const lg = g.logPdf(candidates);
    let best = 0;
    let bestScore = -Infinity;
    for (let i = 0; i < candidates.length; i++) {
      const score = ll[i] - lg[i];
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    }
    const out: Params = {};
    names.forEach((n, d) => (out[n] = toExternal(specs[d], candidates[best][d])));
    return out;
  }
}

function isSingle(spec: ParamSpec): boolean {
  return spec.type === 'categorical' && spec.choices.length === 1;
}

/** Internal rows of the trials that have every parameter in `names` (Optuna skips the others). */
function observations(specs: ParamSpec[], names: string[], trials: Trial[]): number[][] {
  const rows: number[][] = [];
  outer: for (const t of trials) {
    const row: number[] = [];
    for (let d = 0; d < names.length; d++) {
      const v = t.params[names[d]];
      if (v === undefined) continue outer;
      const x = toInternal(specs[d], v);
      if (x === undefined) continue outer;
      row.push(x);
    }
    rows.push(row);
  }
  return rows;
}

/** Categories as choice indices; a value outside the space (edited space, foreign trial) is skipped. */
function toInternal(spec: ParamSpec, v: ParamValue): number | undefined {
  if (spec.type === 'categorical') {
    const i = spec.choices.indexOf(v);
    return i < 0 ? undefined : i;
  }
  if (typeof v !== 'number' || !(v >= spec.low && v <= spec.high)) return undefined;
  return v;
}

function toExternal(spec: ParamSpec, x: number): ParamValue {
  return spec.type === 'categorical' ? spec.choices[x] : x;
}
