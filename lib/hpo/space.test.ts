import { describe, expect, it } from 'vitest';
import { activeParams, parseSearchSpace, topologicalOrder } from './space';

const message = (raw: unknown): string => {
  const r = parseSearchSpace(raw);
  if (r.ok) throw new Error('expected a validation failure');
  return r.message;
};

describe('parseSearchSpace', () => {
  it('accepts every kind and normalises the specs', () => {
    const r = parseSearchSpace({
      lr: { type: 'float', low: 1e-5, high: 1, log: true },
      depth: { type: 'int', low: 1, high: 10, step: 3 },
      drop: { type: 'float', low: 0, high: 0.5, step: 0.1 },
      kind: { type: 'categorical', choices: ['a', 'b', 1, true] },
      mom: { type: 'float', low: 0, high: 1, condition: { param: 'kind', equals: ['a'] } },
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.space.depth).toEqual({ type: 'int', low: 1, high: 10, step: 3 });
  });

  it.each([
    [{}, 'search space is empty'],
    [[], 'search space must be an object mapping parameter names to specs'],
    [{ lr: { type: 'float', low: 0, high: 1, log: true } }, 'parameter "lr": low (0) must be > 0 when log is true'],
    [{ depth: { type: 'int', low: 0, high: 10, step: 3 } }, 'parameter "depth": step 3 does not divide high - low (10)'],
    [{ x: { type: 'float', low: 0, high: 1, condition: { param: 'kind', equals: ['a'] } } }, 'parameter "x": condition refers to unknown parameter "kind"'],
    [{ x: { type: 'float', low: 1, high: 1 } }, 'parameter "x": low (1) must be < high (1)'],
    [{ x: { type: 'float', low: 2, high: 1 } }, 'parameter "x": low (2) must be < high (1)'],
    [{ x: { type: 'float', low: 0, high: Infinity } }, 'parameter "x": high must be a finite number (got Infinity)'],
    [{ x: { type: 'float', low: NaN, high: 1 } }, 'parameter "x": low must be a finite number (got NaN)'],
    [{ x: { type: 'float', low: 0, high: 1, scale: 2 } }, 'parameter "x": unknown key "scale" for a float parameter (allowed: type, low, high, log, step, condition)'],
    [{ c: { type: 'categorical', choices: [] } }, 'parameter "c": choices must not be empty'],
    [{ c: { type: 'categorical', choices: ['a', 'a'] } }, 'parameter "c": duplicate choice "a"'],
    [{ c: { type: 'categorical', choices: [1, 'x', null] } }, 'parameter "c": choice null must be a finite number, a string or a boolean'],
    [{ x: { type: 'int', low: 0.5, high: 3 } }, 'parameter "x": low (0.5) must be an integer'],
    [{ x: { type: 'float', low: 1, high: 10, log: true, step: 1 } }, 'parameter "x": step cannot be combined with log'],
    [{ x: { type: 'float', low: 0, high: 1, step: 0 } }, 'parameter "x": step must be a finite number > 0 (got 0)'],
    [{ x: { type: 'double', low: 0, high: 1 } }, 'parameter "x": type must be "float", "int" or "categorical" (got "double")'],
    [
      { a: { type: 'categorical', choices: ['x'], condition: { param: 'b', equals: ['y'] } }, b: { type: 'categorical', choices: ['y'], condition: { param: 'a', equals: ['x'] } } },
      'parameter "a": conditions form a cycle (a -> b -> a)',
    ],
    [{ a: { type: 'categorical', choices: ['x'], condition: { param: 'a', equals: ['x'] } } }, 'parameter "a": condition refers to the parameter itself'],
    [
      { k: { type: 'categorical', choices: ['a', 'b'] }, x: { type: 'float', low: 0, high: 1, condition: { param: 'k', equals: ['c'] } } },
      'parameter "x": condition value "c" is not a possible value of "k"',
    ],
    [{ x: { type: 'float', low: 0, high: 1, condition: { param: 'k' } }, k: { type: 'categorical', choices: [1] } }, 'parameter "x": condition equals must be a non-empty array of values'],
  ])('rejects %j with one clear line', (raw, expected) => {
    expect(message(raw)).toBe(expected);
  });

  it('accepts float steps that divide the range up to rounding (0.1 into 0.3)', () => {
    expect(parseSearchSpace({ x: { type: 'float', low: 0, high: 0.3, step: 0.1 } }).ok).toBe(true);
  });
});

describe('activeParams', () => {
  const r = parseSearchSpace({
    model: { type: 'categorical', choices: ['tree', 'linear'] },
    depth: { type: 'int', low: 1, high: 8, condition: { param: 'model', equals: ['tree'] } },
    leafPenalty: { type: 'float', low: 0, high: 1, condition: { param: 'depth', equals: [6, 7, 8] } },
    l2: { type: 'float', low: 1e-6, high: 1, log: true, condition: { param: 'model', equals: ['linear'] } },
  });
  if (!r.ok) throw new Error(r.message);
  const space = r.space;

  it('follows conditions, including chains through conditional parents', () => {
    expect(activeParams(space, { model: 'tree', depth: 7 })).toEqual(['model', 'depth', 'leafPenalty']);
    expect(activeParams(space, { model: 'tree', depth: 2 })).toEqual(['model', 'depth']);
    expect(activeParams(space, { model: 'linear', depth: 7 })).toEqual(['model', 'l2']);
    expect(activeParams(space, {})).toEqual(['model']);
  });

  it('orders parents before children', () => {
    const order = topologicalOrder({ b: space.leafPenalty, ...space });
    expect(order.indexOf('depth')).toBeLessThan(order.indexOf('leafPenalty'));
    expect(order.indexOf('model')).toBeLessThan(order.indexOf('depth'));
  });
});
