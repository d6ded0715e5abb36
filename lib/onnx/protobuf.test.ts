import { describe, expect, it } from 'vitest';
import { ProtoWriter, encodeVarint } from './protobuf';
import { readFields } from './protobuf-reader';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('varint', () => {
  it.each<[number | bigint | boolean, string]>([
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [150, '9601'],
    [true, '01'],
    [2 ** 31, '8080808008'],
    [2 ** 32 + 1, '8180808010'],
    [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
    [2n ** 63n, '80808080808080808001'],
    [2n ** 64n - 1n, 'ffffffffffffffffff01'],
    // Negative int32/int64 are sign-extended to 64 bits: always 10 bytes.
    [-1, 'ffffffffffffffffff01'],
    [-1n, 'ffffffffffffffffff01'],
    [-(2n ** 63n), '80808080808080808001'],
  ])('encodes %s', (value, expected) => {
    expect(hex(encodeVarint(value))).toBe(expected);
  });

  it('rejects values it cannot represent exactly', () => {
    expect(() => encodeVarint(2 ** 53)).toThrow(/safe integer/);
    expect(() => encodeVarint(1.5)).toThrow(/safe integer/);
    expect(() => encodeVarint(Number.NaN)).toThrow(/safe integer/);
    expect(() => encodeVarint(2n ** 64n)).toThrow(/64 bits/);
    expect(() => encodeVarint(-(2n ** 63n) - 1n)).toThrow(/64 bits/);
  });
});

describe('ProtoWriter', () => {
  // The examples from https://protobuf.dev/programming-guides/encoding/
  it('writes a varint field', () => {
    expect(hex(new ProtoWriter().varint(1, 150).finish())).toBe('089601');
  });

  it('writes a string field', () => {
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
  });

  it('writes UTF-8 strings with their byte length', () => {
    expect(hex(new ProtoWriter().string(1, 'é').finish())).toBe('0a02c3a9');
  });

  it('writes a nested message from a callback or from bytes', () => {
    expect(hex(new ProtoWriter().message(3, (w) => w.varint(1, 150)).finish())).toBe('1a03089601');
    const inner = new ProtoWriter().varint(1, 150).finish();
    expect(hex(new ProtoWriter().message(3, inner).finish())).toBe('1a03089601');
  });

  it('writes doubly nested messages and an empty one', () => {
    const bytes = new ProtoWriter()
      .message(1, (a) => a.message(2, (b) => b.string(1, 'x')))
      .message(2, () => {})
      .finish();
    expect(hex(bytes)).toBe('0a0512030a0178' + '1200');
  });

  it('writes a packed repeated varint field', () => {
    expect(hex(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish())).toBe('2206038e029ea705');
    expect(hex(new ProtoWriter().packedVarints(4, [1n, -1]).finish())).toBe('220b01ffffffffffffffffff01');
    expect(new ProtoWriter().packedVarints(4, []).finish()).toHaveLength(0);
  });

  it('writes fixed32 floats, alone and packed', () => {
    expect(hex(new ProtoWriter().float(1, 1).finish())).toBe('0d0000803f');
    expect(hex(new ProtoWriter().packedFloats(5, [1, -2]).finish())).toBe('2a080000803f000000c0');
  });

  it('uses multi-byte tags for large field numbers', () => {
    expect(hex(new ProtoWriter().varint(20, 2).finish())).toBe('a00102');
    expect(() => new ProtoWriter().varint(0, 1)).toThrow(/field number/);
    expect(() => new ProtoWriter().varint(2 ** 29, 1)).toThrow(/field number/);
  });

  it('grows past its initial buffer', () => {
    const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const bytes = new ProtoWriter().varint(1, 7).bytes(2, big).varint(3, 9).finish();
    const fields = [...readFields(bytes)];
    expect(fields.map((f) => f.field)).toEqual([1, 2, 3]);
    expect(fields[1].value).toEqual(big);
  });
});

describe('readFields', () => {
  it('reads back what the writer wrote', () => {
    const bytes = new ProtoWriter()
      .varint(1, -1)
      .float(2, 0.5)
      .string(3, 'hi')
      .message(4, (w) => w.varint(1, 300))
      .finish();
    const fields = [...readFields(bytes)];
    expect(fields.map((f) => [f.field, f.wireType])).toEqual([[1, 0], [2, 5], [3, 2], [4, 2]]);
    expect(fields[0].value).toBe(2n ** 64n - 1n);
    expect(new DataView((fields[1].value as Uint8Array).slice().buffer).getFloat32(0, true)).toBe(0.5);
    expect(Buffer.from(fields[2].value as Uint8Array).toString()).toBe('hi');
    expect([...readFields(fields[3].value as Uint8Array)][0].value).toBe(300n);
  });

  it('rejects truncated input', () => {
    expect(() => [...readFields(Uint8Array.of(0x08, 0x96))]).toThrow(/truncated/);
    expect(() => [...readFields(Uint8Array.of(0x12, 0x05, 0x61))]).toThrow(/truncated/);
  });
});
