/**
 * Whether a string can be stored as PostgreSQL text (and echoed back as JSON) unchanged. PostgreSQL
 * refuses a NUL byte in text (SQLSTATE 22021) and a lone UTF-16 surrogate has no UTF-8 form (Node
 * would silently turn it into U+FFFD, so what is stored differs from what was sent). Checked at the
 * edge, once, so a string that passes never fails a batched INSERT later.
 */

// The common case (no NUL, no surrogate at all) is one scan of a character class.
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` cannot be stored as sent ("contains a NUL byte"), or undefined when it can. */
export function textProblem(s: string): string | undefined {
  if (!SUSPECT.test(s)) return undefined;
  if (s.includes('\u0000')) return 'contains a NUL byte';
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

/** The message a route answers 400 with: the field, then the problem (`unitKey: contains a NUL byte`). */
export function checkText(field: string, s: string): string | undefined {
  const problem = textProblem(s);
  return problem === undefined ? undefined : `${field}: ${problem}`;
}

/** Strict UTF-8 decoding of a raw body: invalid bytes are refused, never replaced by U+FFFD. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` with what text cannot hold written as `\uXXXX` escapes: for messages about a bad value. */
export function escapeUnstorable(s: string): string {
  return s.replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
