import { describe, expect, it } from 'vitest';
import { requestIdOf } from './request-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdOf', () => {
  it('keeps a plain caller id', () => {
    expect(requestIdOf('trace-42:a.b_c')).toBe('trace-42:a.b_c');
  });
  it('replaces a missing, repeated, oversized or unsafe id with a new UUID', () => {
    for (const h of [undefined, '', ['a', 'b'], 'x'.repeat(129), 'a b', 'a\nfake log line', '{"json":1}']) expect(requestIdOf(h)).toMatch(UUID);
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
  });
});
