import { describe, expect, it } from 'vitest';
import { checkText, decodeUtf8, escapeUnstorable, textProblem } from './storable';

describe('textProblem', () => {
  it('passes ordinary text, astral characters and empty strings', () => {
    for (const s of ['', 'user-42', 'héllo wörld', 'emoji 😀 pair', '日本語', '\t\n tabs']) expect(textProblem(s)).toBeUndefined();
  });

  it('names a NUL byte anywhere in the string', () => {
    for (const s of ['\u0000', 'a\u0000', '\u0000b', 'a\u0000b']) expect(textProblem(s)).toBe('contains a NUL byte');
  });

  it('names lone surrogates, high or low, at either end or in the middle', () => {
    for (const s of ['\uD800', 'a\uD83D', '\uDE00b', 'a\uDC00\uD800b', 'x\uD83D\uD83D\uDE00']) expect(textProblem(s)).toMatch(/lone UTF-16 surrogate/);
  });

  it('checkText prefixes the field', () => {
    expect(checkText('unitKey', 'a\u0000')).toBe('unitKey: contains a NUL byte');
    expect(checkText('items[2].label', 'ok')).toBeUndefined();
  });
});

describe('decodeUtf8', () => {
  it('decodes valid UTF-8 and refuses invalid bytes instead of replacing them', () => {
    expect(decodeUtf8(Buffer.from('{"a":"é😀"}'))).toBe('{"a":"é😀"}');
    expect(decodeUtf8(Uint8Array.from([0x7b, 0xff, 0x7d]))).toBeUndefined();
    // An encoded surrogate (CESU-8) is not UTF-8 either.
    expect(decodeUtf8(Uint8Array.from([0xed, 0xa0, 0x80]))).toBeUndefined();
  });
});

describe('escapeUnstorable', () => {
  it('escapes NUL and lone surrogates, keeps everything else', () => {
    expect(escapeUnstorable('a\u0000b\uD800c 😀')).toBe('a\\u0000b\\ud800c 😀');
    expect(textProblem(escapeUnstorable('\uDC00\u0000'))).toBeUndefined();
  });
});
