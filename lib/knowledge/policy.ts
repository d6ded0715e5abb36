/**
 * The validation policy: every threshold and default of the knowledge workflow in one place.
 * The CLI may override each; the workflow checks the result before anything runs.
 */
import type { ReviewDecision } from './types';
import type { Checked } from '../pipeline/training-input';

export interface ValidationPolicy {
  /** Below this a candidate is rejected outright. */
  minConfidence: number;
  /** A fact whose combined confidence reaches this is accepted without a reviewer. */
  acceptConfidence: number;
  /** Independent sources that accept a fact on their own, whatever each one's confidence. */
  corroborationSources: number;
  /** How long borderline facts wait for a reviewer, in seconds. */
  reviewTimeoutSeconds: number;
  /** What a borderline fact becomes when nobody decides before the deadline. */
  reviewDefault: ReviewDecision;
}

/**
 * Rejecting on timeout keeps the graph's precision: an unreviewed borderline fact is, by
 * definition, one the system was not sure enough about to accept alone.
 */
export const DEFAULT_POLICY: ValidationPolicy = {
  minConfidence: 0.5,
  acceptConfidence: 0.85,
  corroborationSources: 2,
  reviewTimeoutSeconds: 24 * 3600,
  reviewDefault: 'reject',
};

export function checkPolicy(p: Partial<ValidationPolicy> | undefined): Checked<ValidationPolicy> {
  const v = { ...DEFAULT_POLICY, ...stripUndefined(p ?? {}) };
  const unit = (name: string, x: number) => (typeof x === 'number' && x >= 0 && x <= 1 ? undefined : `${name} must be between 0 and 1 (got ${String(x)})`);
  const err =
    unit('minConfidence', v.minConfidence) ??
    unit('acceptConfidence', v.acceptConfidence) ??
    (v.acceptConfidence < v.minConfidence ? `acceptConfidence (${v.acceptConfidence}) must be ≥ minConfidence (${v.minConfidence})` : undefined) ??
    (Number.isInteger(v.corroborationSources) && v.corroborationSources >= 2 && v.corroborationSources <= 100
      ? undefined
      : `corroborationSources must be an integer from 2 to 100 (got ${String(v.corroborationSources)})`) ??
    (typeof v.reviewTimeoutSeconds === 'number' && v.reviewTimeoutSeconds >= 1 && v.reviewTimeoutSeconds <= 30 * 86400
      ? undefined
      : `review timeout must be between 1 second and 30 days (got ${String(v.reviewTimeoutSeconds)} s)`) ??
    (v.reviewDefault === 'accept' || v.reviewDefault === 'reject' ? undefined : `review default must be accept or reject (got ${String(v.reviewDefault)})`);
  return err ? { ok: false, message: err } : { ok: true, value: v };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as Partial<T>;
}

/** `90s`, `15m`, `24h`, `2d` or plain seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'];
  return n > 0 ? n : undefined;
}
