/**
 * The GP's view of a configuration: a point in [0, 1]^D. Numbers map linearly from their working
 * scale (log for log parameters, widened by half a step when discrete), categories one-hot.
 * An inactive parameter sits at a fixed neutral point (0.5, or all-zero one-hot), so every
 * configuration of a conditional space still has one well-defined encoding.
 */
import type { NumericInfo } from './numeric';
import { fromWorking, numericInfo, toWorking } from './numeric';
import type { ParamValue, Params, SearchSpace } from './space';
import { isActive, topologicalOrder } from './space';

export interface EncodedParam {
  name: string;
  offset: number;
  /** 1 for numbers, the number of choices for categories. */
  width: number;
  info?: NumericInfo;
  choices?: ParamValue[];
}

export interface Encoding {
  D: number;
  params: EncodedParam[];
  order: string[];
  space: SearchSpace;
}

export function makeEncoding(space: SearchSpace): Encoding {
  const params: EncodedParam[] = [];
  let offset = 0;
  for (const [name, spec] of Object.entries(space)) {
    if (spec.type === 'categorical') {
      params.push({ name, offset, width: spec.choices.length, choices: spec.choices });
      offset += spec.choices.length;
    } else {
      params.push({ name, offset, width: 1, info: numericInfo(spec) });
      offset += 1;
    }
  }
  return { D: offset, params, order: topologicalOrder(space), space };
}

/** Unit-cube point of `params`; undefined if a value lies outside the space. */
export function encode(enc: Encoding, params: Params, out = new Float64Array(enc.D)): Float64Array | undefined {
  out.fill(0);
  for (const p of enc.params) {
    const v = params[p.name];
    if (p.info) {
      if (v === undefined) {
        out[p.offset] = 0.5;
        continue;
      }
      if (typeof v !== 'number' || !(v >= p.info.low && v <= p.info.high)) return undefined;
      out[p.offset] = (toWorking(p.info, v) - p.info.lowT) / (p.info.highT - p.info.lowT);
    } else if (v !== undefined) {
      const c = p.choices!.indexOf(v);
      if (c < 0) return undefined;
      out[p.offset + c] = 1;
    }
  }
  return out;
}

/** Configuration nearest to a unit-cube point, parents decided before the children they gate. */
export function decode(enc: Encoding, x: Float64Array): Params {
  const byName = new Map(enc.params.map((p) => [p.name, p]));
  const out: Params = {};
  for (const name of enc.order) {
    if (!isActive(enc.space, name, out)) continue;
    const p = byName.get(name)!;
    if (p.info) {
      const u = Math.min(1, Math.max(0, x[p.offset]));
      out[name] = fromWorking(p.info, p.info.lowT + u * (p.info.highT - p.info.lowT));
    } else {
      let best = 0;
      for (let c = 1; c < p.width; c++) if (x[p.offset + c] > x[p.offset + best]) best = c;
      out[name] = p.choices![best];
    }
  }
  return Object.fromEntries(Object.keys(enc.space).filter((n) => n in out).map((n) => [n, out[n]]));
}
