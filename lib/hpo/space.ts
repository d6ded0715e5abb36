/**
 * Search spaces: the parameter kinds every sampler understands, their validation at the edge, and
 * which parameters a conditional space activates. Validation happens once, where a user's space
 * enters the system, so samplers can trust every bound, step and condition they are handed.
 */

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

/** The parameter is active only when `param` is active and takes one of these values. */
export interface Condition {
  param: string;
  equals: ParamValue[];
}

export type ParamSpec =
  | { type: 'float'; low: number; high: number; log?: boolean; step?: number; condition?: Condition }
  | { type: 'int'; low: number; high: number; log?: boolean; step?: number; condition?: Condition }
  | { type: 'categorical'; choices: ParamValue[]; condition?: Condition };

export type NumericSpec = Extract<ParamSpec, { type: 'float' | 'int' }>;
export type CategoricalSpec = Extract<ParamSpec, { type: 'categorical' }>;

export type SearchSpace = Record<string, ParamSpec>;

export type ParseResult = { ok: true; space: SearchSpace } | { ok: false; message: string };

const NUMERIC_KEYS = new Set(['type', 'low', 'high', 'log', 'step', 'condition']);
const CATEGORICAL_KEYS = new Set(['type', 'choices', 'condition']);
const CONDITION_KEYS = new Set(['param', 'equals']);

/** Relative tolerance for "step divides high - low" with floats (0.1 does not divide 0.3 exactly). */
const STEP_TOLERANCE = 1e-9;

class SpaceError extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isParamValue = (v: unknown): v is ParamValue =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

export function parseSearchSpace(raw: unknown): ParseResult {
  try {
    return { ok: true, space: parseOrThrow(raw) };
  } catch (e) {
    if (e instanceof SpaceError) return { ok: false, message: e.message };
    throw e;
  }
}

function parseOrThrow(raw: unknown): SearchSpace {
  if (!isRecord(raw)) throw new SpaceError('search space must be an object mapping parameter names to specs');
  const names = Object.keys(raw);
  if (names.length === 0) throw new SpaceError('search space is empty');
  const space: SearchSpace = {};
  for (const name of names) {
    if (name.length === 0) throw new SpaceError('parameter names must not be empty');
    space[name] = parseSpec(name, raw[name]);
  }
  for (const name of names) checkCondition(name, space);
  checkAcyclic(space);
  return space;
}

function parseSpec(name: string, raw: unknown): ParamSpec {
  const fail = (msg: string): never => {
    throw new SpaceError(`parameter "${name}": ${msg}`);
  };
  if (!isRecord(raw)) return fail('spec must be an object');
  const type = raw.type;
  if (type !== 'float' && type !== 'int' && type !== 'categorical') {
    return fail(`type must be "float", "int" or "categorical" (got ${show(type)})`);
  }
  const allowed = type === 'categorical' ? CATEGORICAL_KEYS : NUMERIC_KEYS;
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key)) fail(`unknown key "${key}" for a ${type} parameter (allowed: ${[...allowed].join(', ')})`);
  }
  const condition = raw.condition === undefined ? undefined : parseConditionShape(name, raw.condition);

  if (type === 'categorical') {
    const choices = raw.choices;
    if (!Array.isArray(choices)) return fail('choices must be an array');
    if (choices.length === 0) return fail('choices must not be empty');
    const seen = new Set<string>();
    for (const c of choices) {
      if (!isParamValue(c)) fail(`choice ${show(c)} must be a finite number, a string or a boolean`);
      // Typed key: the number 1 and the string "1" are different choices.
      const key = `${typeof c}:${String(c)}`;
      if (seen.has(key)) fail(`duplicate choice ${show(c)}`);
      seen.add(key);
    }
    return { type, choices: [...(choices as ParamValue[])], ...(condition && { condition }) };
  }

  const { low, high, log, step } = raw;
  if (typeof low !== 'number' || !Number.isFinite(low)) return fail(`low must be a finite number (got ${show(low)})`);
  if (typeof high !== 'number' || !Number.isFinite(high)) return fail(`high must be a finite number (got ${show(high)})`);
  if (log !== undefined && typeof log !== 'boolean') return fail(`log must be true or false (got ${show(log)})`);
  if (step !== undefined && (typeof step !== 'number' || !Number.isFinite(step) || step <= 0)) {
    return fail(`step must be a finite number > 0 (got ${show(step)})`);
  }
  if (type === 'int') {
    if (!Number.isSafeInteger(low)) fail(`low (${low}) must be an integer`);
    if (!Number.isSafeInteger(high)) fail(`high (${high}) must be an integer`);
    if (step !== undefined && !Number.isSafeInteger(step)) fail(`step (${step}) must be an integer`);
  }
  if (low >= high) fail(`low (${low}) must be < high (${high})`);
  if (log === true) {
    if (low <= 0) fail(`low (${low}) must be > 0 when log is true`);
    // A log scale and an evenly spaced grid contradict each other (Optuna refuses them too).
    if (step !== undefined && !(type === 'int' && step === 1)) fail(`step cannot be combined with log`);
  }
  if (step !== undefined) {
    const span = high - low;
    const k = Math.round(span / (step as number));
    if (k < 1 || Math.abs(k * (step as number) - span) > STEP_TOLERANCE * Math.max(Math.abs(span), 1)) {
      fail(`step ${step} does not divide high - low (${span})`);
    }
  }
  return {
    type,
    low,
    high,
    ...(log === true && { log: true }),
    ...(step !== undefined && { step: step as number }),
    ...(condition && { condition }),
  };
}

function parseConditionShape(name: string, raw: unknown): Condition {
  const fail = (msg: string): never => {
    throw new SpaceError(`parameter "${name}": condition ${msg}`);
  };
  if (!isRecord(raw)) return fail('must be an object { param, equals }');
  for (const key of Object.keys(raw)) if (!CONDITION_KEYS.has(key)) fail(`has unknown key "${key}" (allowed: param, equals)`);
  if (typeof raw.param !== 'string' || raw.param.length === 0) return fail('param must be a parameter name');
  if (!Array.isArray(raw.equals) || raw.equals.length === 0) return fail('equals must be a non-empty array of values');
  for (const v of raw.equals) if (!isParamValue(v)) fail(`value ${show(v)} must be a finite number, a string or a boolean`);
  return { param: raw.param, equals: [...(raw.equals as ParamValue[])] };
}

function checkCondition(name: string, space: SearchSpace): void {
  const cond = space[name].condition;
  if (!cond) return;
  const fail = (msg: string): never => {
    throw new SpaceError(`parameter "${name}": condition ${msg}`);
  };
  if (cond.param === name) fail('refers to the parameter itself');
  const parent = space[cond.param];
  if (!parent) return fail(`refers to unknown parameter "${cond.param}"`);
  // A value the parent can never take is almost always a typo; catching it here beats a
  // parameter that silently never activates.
  for (const v of cond.equals) {
    if (!isPossibleValue(parent, v)) fail(`value ${show(v)} is not a possible value of "${cond.param}"`);
  }
}

function checkAcyclic(space: SearchSpace): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new SpaceError(`parameter "${name}": conditions form a cycle (${cycle.join(' -> ')})`);
    }
    state.set(name, 'visiting');
    const cond = space[name].condition;
    if (cond) visit(cond.param, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(space)) visit(name, []);
}

/** Whether `v` lies in the parameter's domain (choices, bounds, integrality and step). */
export function isPossibleValue(spec: ParamSpec, v: ParamValue): boolean {
  if (spec.type === 'categorical') return spec.choices.some((c) => c === v);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < spec.low || v > spec.high) return false;
  if (spec.type === 'int' && !Number.isInteger(v)) return false;
  if (spec.step === undefined) return true;
  const k = (v - spec.low) / spec.step;
  return Math.abs(k - Math.round(k)) <= STEP_TOLERANCE * Math.max(1, Math.abs(k));
}

/**
 * Parameter names with every condition ahead of the parameters it gates, ties in declaration
 * order. Samplers walk this order so a parent's value is known before its children are decided.
 */
export function topologicalOrder(space: SearchSpace): string[] {
  const out: string[] = [];
  const placed = new Set<string>();
  const place = (name: string): void => {
    if (placed.has(name)) return;
    const cond = space[name].condition;
    if (cond) place(cond.param);
    placed.add(name);
    out.push(name);
  };
  for (const name of Object.keys(space)) place(name);
  return out;
}

/** Whether `name` is active, given the values chosen so far for the parameters it depends on. */
export function isActive(space: SearchSpace, name: string, params: Params): boolean {
  let spec = space[name];
  // Walk up the chain: a parent that is itself inactive makes the child inactive too.
  for (;;) {
    const cond = spec.condition;
    if (!cond) return true;
    const v = params[cond.param];
    if (v === undefined || !cond.equals.some((e) => e === v)) return false;
    spec = space[cond.param];
  }
}

/** The parameters that `params` activates, in declaration order. */
export function activeParams(space: SearchSpace, params: Params): string[] {
  return Object.keys(space).filter((name) => isActive(space, name, params));
}
