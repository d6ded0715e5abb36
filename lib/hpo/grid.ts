/**
 * The grid of a search space: the values each parameter takes, and a numbering of the grid points
 * that maps both ways, so the grid sampler can pick "the k-th point not yet tried" without holding
 * the whole grid in memory when the space has no conditions.
 */
import { gridCount, numericInfo, snap } from './numeric';
import type { ParamValue, Params, SearchSpace } from './space';
import { isActive, isPossibleValue, topologicalOrder } from './space';

/** Per-parameter grid values: an explicit list, or a count of evenly spaced points (log-spaced when log). */
export type GridPoints = Record<string, ParamValue[] | number>;

/** Grid points are addressed with 32-bit draws; a grid beyond that is not searchable exhaustively anyway. */
export const MAX_GRID_SIZE = 2 ** 32;
/** A conditional grid is listed point by point, which bounds its size by memory. */
export const MAX_CONDITIONAL_GRID_SIZE = 1_000_000;

export interface Grid {
  readonly size: number;
  at(index: number): Params;
  indexOf(params: Params): number | undefined;
}

const keyOf = (v: ParamValue): string => `${typeof v}:${String(v)}`;

export function gridValues(space: SearchSpace, gridPoints: GridPoints = {}): Record<string, ParamValue[]> {
  for (const name of Object.keys(gridPoints)) {
    if (!(name in space)) throw new Error(`grid: gridPoints names unknown parameter "${name}"`);
  }
  const out: Record<string, ParamValue[]> = {};
  for (const [name, spec] of Object.entries(space)) {
    const override = gridPoints[name];
    if (Array.isArray(override)) {
      if (override.length === 0) throw new Error(`grid: gridPoints for "${name}" is empty`);
      for (const v of override) {
        if (!isPossibleValue(spec, v)) throw new Error(`grid: gridPoints value ${JSON.stringify(v)} is outside parameter "${name}"`);
      }
      out[name] = dedupe(override);
    } else if (spec.type === 'categorical') {
      if (override !== undefined) throw new Error(`grid: gridPoints for categorical "${name}" must list values`);
      out[name] = [...spec.choices];
    } else {
      const info = numericInfo(spec);
      if (override !== undefined) {
        if (!Number.isSafeInteger(override) || override < 2) {
          throw new Error(`grid: gridPoints for "${name}" must be a list of values or an integer count ≥ 2`);
        }
        const lo = info.log ? Math.log(info.low) : info.low;
        const hi = info.log ? Math.log(info.high) : info.high;
        const pts: number[] = [];
        for (let k = 0; k < override; k++) {
          const t = lo + ((hi - lo) * k) / (override - 1);
          pts.push(snap(info, info.log ? Math.exp(t) : t));
        }
        out[name] = dedupe(pts);
      } else if (info.step === 0) {
        throw new Error(`grid: float parameter "${name}" needs a step or a gridPoints entry`);
      } else {
        const n = gridCount(info);
        if (n > MAX_GRID_SIZE) throw new Error(`grid: parameter "${name}" has ${n} values, too many for a grid`);
        out[name] = Array.from({ length: n }, (_, k) => snap(info, info.low + k * info.step));
      }
    }
  }
  return out;
}

function dedupe(values: ParamValue[]): ParamValue[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = keyOf(v);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function buildGrid(space: SearchSpace, gridPoints: GridPoints = {}): Grid {
  const values = gridValues(space, gridPoints);
  const conditional = Object.values(space).some((s) => s.condition !== undefined);
  return conditional ? listedGrid(space, values) : productGrid(space, values);
}

export function gridSize(space: SearchSpace, gridPoints: GridPoints = {}): number {
  return buildGrid(space, gridPoints).size;
}

/** Without conditions the grid is a Cartesian product: mixed-radix numbering, nothing stored. */
function productGrid(space: SearchSpace, values: Record<string, ParamValue[]>): Grid {
  const names = Object.keys(space);
  const radices = names.map((n) => values[n].length);
  const size = radices.reduce((a, b) => a * b, 1);
  if (size > MAX_GRID_SIZE) throw new Error(`grid: ${size} points exceed the limit of ${MAX_GRID_SIZE}`);
  const lookup = names.map((n) => new Map(values[n].map((v, i) => [keyOf(v), i])));
  return {
    size,
    at(index) {
      const out: Params = {};
      let rest = index;
      for (let d = names.length - 1; d >= 0; d--) {
        out[names[d]] = values[names[d]][rest % radices[d]];
        rest = Math.floor(rest / radices[d]);
      }
      // Declaration order, whatever order the digits were peeled off in.
      return Object.fromEntries(names.map((n) => [n, out[n]]));
    },
    indexOf(params) {
      let index = 0;
      for (let d = 0; d < names.length; d++) {
        const v = params[names[d]];
        const i = v === undefined ? undefined : lookup[d].get(keyOf(v));
        if (i === undefined) return undefined;
        index = index * radices[d] + i;
      }
      return index;
    },
  };
}

/**
 * With conditions, a point is an assignment of the active parameters only: an inactive parameter
 * must not multiply the grid. Listed in a fixed order (parents first, values in grid order).
 */
function listedGrid(space: SearchSpace, values: Record<string, ParamValue[]>): Grid {
  const order = topologicalOrder(space);
  const declared = Object.keys(space);
  const points: Params[] = [];
  const assign: Params = {};
  const walk = (i: number): void => {
    if (points.length > MAX_CONDITIONAL_GRID_SIZE) {
      throw new Error(`grid: a conditional grid may have at most ${MAX_CONDITIONAL_GRID_SIZE} points`);
    }
    if (i === order.length) {
      points.push(Object.fromEntries(declared.filter((n) => n in assign).map((n) => [n, assign[n]])));
      return;
    }
    const name = order[i];
    if (!isActive(space, name, assign)) return walk(i + 1);
    for (const v of values[name]) {
      assign[name] = v;
      walk(i + 1);
    }
    delete assign[name];
  };
  walk(0);
  const canon = (p: Params): string => JSON.stringify(declared.filter((n) => n in p).map((n) => [n, keyOf(p[n])]));
  const index = new Map(points.map((p, i) => [canon(p), i]));
  return {
    size: points.length,
    at: (i) => ({ ...points[i] }),
    indexOf(params) {
      // Only the parameters the point activates take part; extras from a sloppy caller do not.
      const active: Params = {};
      for (const name of order) {
        if (!isActive(space, name, active)) continue;
        if (params[name] === undefined) return undefined;
        active[name] = params[name];
      }
      return index.get(canon(active));
    },
  };
}
