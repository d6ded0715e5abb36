/**
 * A minimal protobuf wire-format reader, the counterpart of ./protobuf. It exists because
 * onnxruntime-node exposes a model's inputs and outputs but not its metadata_props, and serving
 * needs those (e.g. the class labels) without a protobuf runtime. It only splits a message into
 * fields; interpreting them is up to the caller.
 */

import { WireType } from './protobuf';

export type ProtoField =
  | { field: number; wireType: typeof WireType.VARINT; value: bigint }
  | { field: number; wireType: typeof WireType.I64; value: Uint8Array }
  | { field: number; wireType: typeof WireType.LEN; value: Uint8Array }
  | { field: number; wireType: typeof WireType.I32; value: Uint8Array };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function readVarint(bytes: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (pos >= bytes.length) throw new Error('truncated varint');
    const b = bytes[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [BigInt.asUintN(64, result), pos];
  }
  throw new Error('varint longer than 10 bytes');
}

/** Splits one message into its top-level fields, in wire order. Sub-arrays alias `bytes`. */
export function* readFields(bytes: Uint8Array): Generator<ProtoField> {
  let pos = 0;
  while (pos < bytes.length) {
    const [key, afterKey] = readVarint(bytes, pos);
    pos = afterKey;
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field < 1) throw new Error(`invalid field number ${field} at byte ${pos}`);
    switch (wireType) {
      case WireType.VARINT: {
        const [value, next] = readVarint(bytes, pos);
        pos = next;
        yield { field, wireType: WireType.VARINT, value };
        break;
      }
      case WireType.I64:
        if (pos + 8 > bytes.length) throw new Error(`truncated fixed64 field ${field}`);
        yield { field, wireType: WireType.I64, value: bytes.subarray(pos, pos + 8) };
        pos += 8;
        break;
      case WireType.I32:
        if (pos + 4 > bytes.length) throw new Error(`truncated fixed32 field ${field}`);
        yield { field, wireType: WireType.I32, value: bytes.subarray(pos, pos + 4) };
        pos += 4;
        break;
      case WireType.LEN: {
        const [size, next] = readVarint(bytes, pos);
        const end = next + Number(size);
        if (end > bytes.length) throw new Error(`truncated length-delimited field ${field}`);
        yield { field, wireType: WireType.LEN, value: bytes.subarray(next, end) };
        pos = end;
        break;
      }
      default:
        // Groups (3, 4) are proto2-only and never appear in ONNX.
        throw new Error(`unsupported wire type ${wireType} for field ${field}`);
    }
  }
}

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
