/**
 * One description of a numeric parameter's geometry, shared by every sampler so that random, TPE
 * and GP agree on what "step", "log" and "int" mean and snap proposals onto the same values.
 */
import type { NumericSpec } from './space';

export interface NumericInfo {
  low: number;
  high: number;
  /** 0 for a continuous float; ints step by 1 unless told otherwise. */
  step: number;
  log: boolean;
  isInt: boolean;
  /** Bounds of the working scale: widened by half a step when discrete, then logged when log. */
  lowT: number;
  highT: number;
}

export function numericInfo(spec: NumericSpec): NumericInfo {
  const isInt = spec.type === 'int';
  const step = spec.step ?? (isInt ? 1 : 0);
  const log = spec.log === true;
  // Widening by half a step gives the end values the same share of the working range as interior
  // ones; without it the two endpoints would be sampled half as often.
  const lo = spec.low - step / 2;
  const hi = spec.high + step / 2;
  return {
    low: spec.low,
    high: spec.high,
    step,
    log,
    isInt,
    lowT: log ? Math.log(lo) : lo,
    highT: log ? Math.log(hi) : hi,
  };
}

/** To the working scale (log when log). */
export function toWorking(info: NumericInfo, x: number): number {
  return info.log ? Math.log(x) : x;
}

/** From the working scale back to the nearest valid value of the parameter. */
export function fromWorking(info: NumericInfo, t: number): number {
  return snap(info, info.log ? Math.exp(t) : t);
}

/** The nearest valid value: on the step grid, integral for ints, within [low, high]. */
export function snap(info: NumericInfo, x: number): number {
  let v = x;
  if (info.step > 0) {
    const k = Math.round((x - info.low) / info.step);
    v = info.low + k * info.step;
    // 0 + 3 * 0.1 is 0.30000000000000004: users expect the grid value they wrote down.
    if (!info.isInt) v = Number(v.toPrecision(15));
  }
  if (info.isInt) v = Math.round(v);
  return Math.min(info.high, Math.max(info.low, v));
}

/** Number of values on a discrete parameter's grid (Infinity for a continuous float). */
export function gridCount(info: NumericInfo): number {
  if (info.step === 0) return Infinity;
  return Math.round((info.high - info.low) / info.step) + 1;
}
