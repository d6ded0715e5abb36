/**
 * A minimal protobuf wire-format writer: just enough to serialise ONNX models without pulling a
 * protobuf runtime (and its code generation) into the trainer.
 *
 * Wire format reference: https://protobuf.dev/programming-guides/encoding/
 */

export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  I32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const MAX_FIELD_NUMBER = 2 ** 29 - 1;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

const utf8 = new TextEncoder();

/**
 * Accepts anything an int32/int64/uint64/enum/bool field can hold. Negative values are written as
 * their 64-bit two's complement (10 bytes), which is what protobuf mandates for int32 and int64
 * alike, so one routine serves every non-zigzag integer type.
 */
export type VarintValue = number | bigint | boolean;

function toUint64(value: VarintValue): number | bigint {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      // Beyond 2^53 a number has already lost the bits we would write; make the caller use bigint.
      throw new RangeError(`varint value ${value} is not a safe integer; pass a bigint instead`);
    }
    return value >= 0 ? value : BigInt.asUintN(64, BigInt(value));
  }
  if (value < INT64_MIN || value > UINT64_MAX) {
    throw new RangeError(`varint value ${value} does not fit in 64 bits`);
  }
  return BigInt.asUintN(64, value);
}

export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** A varint with no tag: used for tags, lengths and packed elements. */
  rawVarint(value: VarintValue): this {
    let v = toUint64(value);
    this.reserve(10);
    if (typeof v === 'number') {
      // Division rather than >>> because safe integers exceed the 32 bits bitwise ops keep.
      while (v > 0x7f) {
        this.buf[this.len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.len++] = v;
    } else {
      while (v > 0x7fn) {
        this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buf[this.len++] = Number(v);
    }
    return this;
  }

  rawBytes(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  tag(field: number, wireType: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD_NUMBER) {
      throw new RangeError(`invalid protobuf field number ${field}`);
    }
    // field * 8 rather than << 3: field numbers up to 2^29 would overflow a signed 32-bit shift.
    return this.rawVarint(field * 8 + wireType);
  }

  /** int32, int64, uint32, uint64, enum or bool field. */
  varint(field: number, value: VarintValue): this {
    return this.tag(field, WireType.VARINT).rawVarint(value);
  }

  /** `float` field (fixed32, IEEE 754 single, little-endian). */
  float(field: number, value: number): this {
    this.tag(field, WireType.I32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, value, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, WireType.LEN).rawVarint(value.length).rawBytes(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /**
   * A nested message, either already encoded or built by a callback on a fresh writer. The
   * callback form exists because a length prefix must precede the body, so the body has to be
   * complete before it is copied in.
   */
  message(field: number, body: Uint8Array | ((w: ProtoWriter) => void)): this {
    if (body instanceof Uint8Array) return this.bytes(field, body);
    const inner = new ProtoWriter();
    body(inner);
    return this.tag(field, WireType.LEN).rawVarint(inner.len).rawBytes(inner.buf.subarray(0, inner.len));
  }

  /**
   * Packed repeated int32/int64/uint64/enum/bool. An empty list writes nothing: a zero-length
   * packed field and an absent one decode identically, and protoc-generated code omits it.
   */
  packedVarints(field: number, values: ArrayLike<VarintValue>): this {
    if (values.length === 0) return this;
    const body = new ProtoWriter();
    for (let i = 0; i < values.length; i++) body.rawVarint(values[i]);
    return this.bytes(field, body.finish());
  }

  /** Packed repeated float (fixed32 elements). */
  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const body = new Uint8Array(values.length * 4);
    const view = new DataView(body.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    return this.bytes(field, body);
  }

  /** A copy of the bytes written, so the writer may be reused or dropped without aliasing. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** The varint encoding of a single value, without a tag. */
export function encodeVarint(value: VarintValue): Uint8Array {
  return new ProtoWriter().rawVarint(value).finish();
}
