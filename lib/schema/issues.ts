/**
 * zod issues as the edge's one-line messages: `field: problem`, the field written as a client
 * would write it (`items[3].label`, `instances[1][2]`, `body` for the whole body). Unknown fields are
 * named before anything else is checked, as the hand-written checks did; otherwise the first issue
 * in document order wins.
 */
import { z } from 'zod';
import { textProblem } from '../text/storable';

export interface Problem {
  /** The field, as in the message; `body` for the body as a whole. */
  field: string;
  message: string;
}

export function fieldOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? 'body' : out;
}

export function firstProblem(error: z.ZodError): Problem {
  const issues = error.issues;
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  const issue = unknown ?? issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const field = fieldOf([...issue.path, issue.keys[0]!]);
    return { field, message: `${field}: ${issue.message}` };
  }
  const field = fieldOf(issue.path);
  return { field, message: `${field}: ${issue.message}` };
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string; field?: string };

/** safeParse, with the first problem as one line. */
export function check<S extends z.ZodType>(schema: S, input: unknown): Checked<z.output<S>> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const p = firstProblem(r.error);
  return { ok: false, message: p.message, field: p.field };
}

/**
 * A string PostgreSQL can store as sent (no NUL, no lone surrogate; lib/text/storable.ts), of 1 to
 * `max` characters; `message` for anything else.
 */
export function storableString(max: number, message = `must be a non-empty string of at most ${max} characters`) {
  return z
    .string({ error: message })
    .min(1, { error: message })
    .max(max, { error: message })
    .superRefine((s, ctx) => {
      const problem = textProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: s });
    });
}

/** A finite JSON number (zod's number already refuses NaN and ±Infinity). */
export function finiteNumber(message = 'must be a finite number') {
  return z.number({ error: message });
}
