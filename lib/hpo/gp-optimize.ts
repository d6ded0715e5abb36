/**
 * Maximising log EI over a mixed, possibly conditional space: many random configurations to find
 * the promising basins, then a few local refinements (gradient ascent on the active numeric
 * coordinates, followed by one pass over the discrete neighbours: other categories, ±1 step).
 */
import type { Rng } from '../random';
import { logEi } from './gp-acquisition';
import type { Encoding } from './gp-encoding';
import { decode, encode } from './gp-encoding';
import type { GpPosterior } from './gp-model';
import { snap } from './numeric';
import { randomParams } from './random-sampler';
import type { Params } from './space';

export interface AcqOptions {
  nCandidates: number;
  nLocalSearch: number;
}

const MAX_ASCENT_STEPS = 40;

export function maximizeAcquisition(
  enc: Encoding,
  post: GpPosterior,
  best: number,
  rng: Rng,
  opts: AcqOptions,
  starts: Params[],
): Params {
  const value = (x: Float64Array) => {
    const p = post.predict(x);
    return logEi(p.mean, Math.sqrt(p.variance), best).value;
  };

  const scored: Array<{ params: Params; value: number }> = [];
  for (let i = 0; i < opts.nCandidates; i++) {
    const params = randomParams(enc.space, rng);
    scored.push({ params, value: value(encode(enc, params)!) });
  }
  // Stable order on ties: the earliest drawn wins, so results never depend on sort internals.
  const ranked = scored.map((s, i) => ({ ...s, i })).sort((a, b) => b.value - a.value || a.i - b.i);
  const seeds = [...starts, ...ranked.slice(0, Math.max(0, opts.nLocalSearch - starts.length)).map((r) => r.params)];

  let winner = ranked[0];
  for (const seed of seeds) {
    const refined = refine(enc, post, best, rng, seed);
    if (refined.value > winner.value) winner = { ...refined, i: -1 };
  }
  return winner.params;
}

function refine(enc: Encoding, post: GpPosterior, best: number, rng: Rng, start: Params): { params: Params; value: number } {
  const D = enc.D;
  const grad = { mean: new Float64Array(D), variance: new Float64Array(D) };
  const evalAt = (x: Float64Array, withGrad: boolean) => {
    const p = post.predict(x, withGrad ? grad : undefined);
    const sd = Math.sqrt(p.variance);
    return { sd, ...logEi(p.mean, sd, best) };
  };

  // Gradient ascent over the numeric coordinates the start activates; categories stay put here.
  const mask = enc.params.filter((p) => p.info && start[p.name] !== undefined).map((p) => p.offset);
  let x = encode(enc, start)!;
  let cur = evalAt(x, true);
  let stepLen = 0.1;
  for (let it = 0; it < MAX_ASCENT_STEPS && mask.length > 0; it++) {
    const g = new Float64Array(D);
    let norm = 0;
    for (const d of mask) {
      g[d] = cur.dMean * grad.mean[d] + (cur.dSd * grad.variance[d]) / (2 * cur.sd);
      norm += g[d] * g[d];
    }
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12)) break;
    let moved = false;
    for (; stepLen >= 1e-4; stepLen /= 2) {
      const xn = Float64Array.from(x);
      for (const d of mask) xn[d] = Math.min(1, Math.max(0, x[d] + (stepLen * g[d]) / norm));
      const next = evalAt(xn, true);
      if (next.value > cur.value) {
        x = xn;
        cur = next;
        moved = true;
        stepLen = Math.min(0.5, stepLen * 2);
        break;
      }
    }
    if (!moved) break;
  }

  // Snap onto valid values, then try the discrete neighbours once.
  let params = decode(enc, x);
  let val = evalAt(encode(enc, params)!, false).value;
  for (const p of enc.params) {
    if (params[p.name] === undefined) continue;
    const alternatives: Params[] = [];
    if (p.choices) {
      for (const c of p.choices) if (c !== params[p.name]) alternatives.push({ ...params, [p.name]: c });
    } else if (p.info && p.info.step > 0) {
      const v = params[p.name] as number;
      for (const dv of [-p.info.step, p.info.step]) {
        const w = snap(p.info, v + dv);
        if (w !== v) alternatives.push({ ...params, [p.name]: w });
      }
    }
    for (const alt of alternatives) {
      // A switched category may activate children that have no value yet: draw them.
      const complete = fillActive(enc, alt, rng);
      const v = evalAt(encode(enc, complete)!, false).value;
      if (v > val) {
        params = complete;
        val = v;
      }
    }
  }
  return { params, value: val };
}

function fillActive(enc: Encoding, params: Params, rng: Rng): Params {
  return randomParams(enc.space, rng, params);
}
