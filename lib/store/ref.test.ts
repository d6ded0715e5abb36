import { describe, expect, it } from 'vitest';
import { checkBlob, parseRef, refOf, sha256Hex } from './ref';

const enc = (s: string) => new TextEncoder().encode(s);

describe('store refs', () => {
  it('names bytes by their sha256 and size', () => {
    expect(refOf(enc('hello\n'))).toEqual({ sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03', size: 6 });
  });

  it('accepts the blob its ref names, and no other', () => {
    const ref = refOf(enc('abc'));
    expect(() => checkBlob('n', ref, enc('abc'))).not.toThrow();
    expect(() => checkBlob('n', ref, enc('abd'))).toThrow(/sha256 .* its ref says/);
    expect(() => checkBlob('n', ref, enc('ab'))).toThrow(/2 bytes, its ref says 3/);
  });

  it('parses a ref, naming what is wrong with a bad one', () => {
    const ref = refOf(enc('x'));
    expect(parseRef('n', enc(JSON.stringify(ref)))).toEqual(ref);
    expect(() => parseRef('n', enc('{'))).toThrow(/not JSON/);
    expect(() => parseRef('n', enc(JSON.stringify({ sha256: 'zz', size: 1 })))).toThrow(/sha256: sha256 must be 64/);
    expect(() => parseRef('n', enc(JSON.stringify({ sha256: sha256Hex(enc('x')), size: -1 })))).toThrow(/size/);
  });
});
