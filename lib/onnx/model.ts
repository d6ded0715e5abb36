/**
 * A small typed builder for ONNX ModelProto bytes. Field numbers follow onnx/onnx.proto; where
 * onnx.proto (proto2) and onnx.proto3 differ only in packing, we emit what the reference `onnx`
 * Python serialiser emits, so byte-level consumers that handle only one form still read us.
 */

import { ProtoWriter, WireType } from './protobuf';
import { decodeUtf8, readFields } from './protobuf-reader';

/** Element types we can declare and store. Extend DATA_TYPE and writeTensorData together. */
export type ElemType = 'float32' | 'float64' | 'int32' | 'int64';

/** TensorProto.DataType values. */
const DATA_TYPE: Record<ElemType, number> = {
  float32: 1,
  int32: 6,
  int64: 7,
  float64: 11,
};

/** A dimension: a fixed size, or a symbolic name (dim_param) such as "batch". */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: ElemType;
  shape: readonly Dim[];
}

export interface TensorSpec {
  name: string;
  elemType: ElemType;
  dims: readonly number[];
  /** Row-major. int64 tensors accept bigints or safe-integer numbers. */
  data: ArrayLike<number> | ArrayLike<bigint>;
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number | bigint }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: TensorSpec }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'ints'; value: readonly (number | bigint)[] }
  | { type: 'strings'; value: readonly string[] };

/** Constructors so call sites read `attr.int(1)` instead of spelling out the union. */
export const attr = {
  float: (value: number): AttributeValue => ({ type: 'float', value }),
  int: (value: number | bigint): AttributeValue => ({ type: 'int', value }),
  string: (value: string): AttributeValue => ({ type: 'string', value }),
  tensor: (value: TensorSpec): AttributeValue => ({ type: 'tensor', value }),
  floats: (value: readonly number[]): AttributeValue => ({ type: 'floats', value }),
  ints: (value: readonly (number | bigint)[]): AttributeValue => ({ type: 'ints', value }),
  strings: (value: readonly string[]): AttributeValue => ({ type: 'strings', value }),
};

/** AttributeProto.AttributeType values. */
const ATTRIBUTE_TYPE: Record<AttributeValue['type'], number> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  floats: 6,
  ints: 7,
  strings: 8,
};

export interface NodeSpec {
  opType: string;
  /** Use '' for an omitted optional input, as ONNX does. */
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  /** Operator set domain; '' (the default) is the standard ai.onnx set. */
  domain?: string;
  /** Written in insertion order. */
  attributes?: Readonly<Record<string, AttributeValue>>;
  docString?: string;
}

export interface GraphSpec {
  name: string;
  /** Topologically sorted, as ONNX requires. */
  nodes: readonly NodeSpec[];
  initializers?: readonly TensorSpec[];
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  docString?: string;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface ModelSpec {
  irVersion: number;
  /** Version of the default (ai.onnx) operator set. */
  opsetVersion: number;
  /** Further operator sets, e.g. { domain: 'ai.onnx.ml', version: 3 }. */
  extraOpsets?: readonly OpsetImport[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphSpec;
  metadata?: Readonly<Record<string, string>>;
}

// ---- field numbers (onnx.proto) ----
const Model = { irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, docString: 6, graph: 7, opsetImport: 8, metadataProps: 14 } as const;
const Graph = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12 } as const;
const Node = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, docString: 6, domain: 7 } as const;
const Attribute = { name: 1, f: 2, i: 3, s: 4, t: 5, floats: 7, ints: 8, strings: 9, type: 20 } as const;
const Tensor = { dims: 1, dataType: 2, name: 8, rawData: 9 } as const;
const ValueInfoF = { name: 1, type: 2 } as const;
const TypeF = { tensorType: 1 } as const;
const TypeTensor = { elemType: 1, shape: 2 } as const;
const Shape = { dim: 1 } as const;
const Dimension = { dimValue: 1, dimParam: 2 } as const;
const Opset = { domain: 1, version: 2 } as const;
const Entry = { key: 1, value: 2 } as const;

function checkDims(what: string, dims: readonly number[]): number {
  let count = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${what}: invalid dimension ${d}`);
    count *= d;
  }
  return count;
}

/**
 * Tensor data always goes in raw_data (little-endian, as the spec requires regardless of host):
 * it is the most compact form for floats and the one onnxruntime copies without per-element
 * decoding.
 */
function tensorRawData(t: TensorSpec): Uint8Array {
  const count = checkDims(`tensor '${t.name}'`, t.dims);
  if (t.data.length !== count) {
    throw new Error(`tensor '${t.name}': ${t.data.length} values for dims [${t.dims.join(', ')}] (expected ${count})`);
  }
  const width = t.elemType === 'float32' || t.elemType === 'int32' ? 4 : 8;
  const out = new Uint8Array(count * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const v = t.data[i];
    switch (t.elemType) {
      case 'float32':
      case 'float64':
        if (typeof v !== 'number') throw new Error(`tensor '${t.name}': element ${i} is not a number`);
        if (t.elemType === 'float32') view.setFloat32(i * 4, v, true);
        else view.setFloat64(i * 8, v, true);
        break;
      case 'int32':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
          throw new Error(`tensor '${t.name}': element ${i} (${v}) is not an int32`);
        }
        view.setInt32(i * 4, v, true);
        break;
      case 'int64': {
        if (typeof v === 'number' && !Number.isSafeInteger(v)) {
          throw new Error(`tensor '${t.name}': element ${i} (${v}) is not a safe integer; use bigint`);
        }
        view.setBigInt64(i * 8, BigInt.asIntN(64, BigInt(v)), true);
        break;
      }
    }
  }
  return out;
}

function writeTensor(w: ProtoWriter, t: TensorSpec): void {
  // dims is a plain (unpacked) repeated int64 in onnx.proto.
  for (const d of t.dims) w.varint(Tensor.dims, d);
  w.varint(Tensor.dataType, DATA_TYPE[t.elemType]);
  w.string(Tensor.name, t.name);
  w.bytes(Tensor.rawData, tensorRawData(t));
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(ValueInfoF.name, v.name);
  w.message(ValueInfoF.type, (type) =>
    type.message(TypeF.tensorType, (tensor) => {
      tensor.varint(TypeTensor.elemType, DATA_TYPE[v.elemType]);
      tensor.message(TypeTensor.shape, (shape) => {
        for (const d of v.shape) {
          shape.message(Shape.dim, (dim) => {
            if (typeof d === 'string') dim.string(Dimension.dimParam, d);
            else dim.varint(Dimension.dimValue, d);
          });
        }
      });
    }),
  );
}

function writeAttribute(w: ProtoWriter, name: string, a: AttributeValue): void {
  w.string(Attribute.name, name);
  // Values are written even when they equal the proto3 default (e.g. keepdims=0): onnx.proto is
  // proto2, where presence is observable, so a reader may treat an absent value as unset.
  switch (a.type) {
    case 'float':
      w.float(Attribute.f, a.value);
      break;
    case 'int':
      w.varint(Attribute.i, a.value);
      break;
    case 'string':
      w.string(Attribute.s, a.value);
      break;
    case 'tensor':
      w.message(Attribute.t, (t) => writeTensor(t, a.value));
      break;
    case 'floats':
      // floats/ints are unpacked repeated fields in onnx.proto.
      for (const f of a.value) w.float(Attribute.floats, f);
      break;
    case 'ints':
      for (const i of a.value) w.varint(Attribute.ints, i);
      break;
    case 'strings':
      for (const s of a.value) w.string(Attribute.strings, s);
      break;
  }
  w.varint(Attribute.type, ATTRIBUTE_TYPE[a.type]);
}

function writeNode(w: ProtoWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.string(Node.input, i);
  for (const o of n.outputs) w.string(Node.output, o);
  if (n.name) w.string(Node.name, n.name);
  w.string(Node.opType, n.opType);
  for (const [name, a] of Object.entries(n.attributes ?? {})) {
    w.message(Node.attribute, (aw) => writeAttribute(aw, name, a));
  }
  if (n.docString) w.string(Node.docString, n.docString);
  if (n.domain) w.string(Node.domain, n.domain);
}

/**
 * Catches wiring mistakes (typos in value names, out-of-order nodes) here, with the graph's own
 * names, instead of as an opaque load failure inside onnxruntime.
 */
function validateGraph(g: GraphSpec): void {
  if (!g.name) throw new Error('graph name must not be empty');
  const defined = new Set<string>();
  const define = (name: string, what: string): void => {
    if (!name) throw new Error(`graph '${g.name}': ${what} has an empty name`);
    if (defined.has(name)) throw new Error(`graph '${g.name}': value '${name}' is defined more than once`);
    defined.add(name);
  };
  const initializerNames = new Set<string>();
  for (const t of g.initializers ?? []) {
    define(t.name, 'an initializer');
    initializerNames.add(t.name);
  }
  for (const v of g.inputs) {
    // An input may share an initializer's name: the initializer is then an overridable default.
    if (!initializerNames.has(v.name)) define(v.name, 'an input');
    for (const d of v.shape) {
      if (typeof d === 'number') checkDims(`input '${v.name}'`, [d]);
      else if (!d) throw new Error(`input '${v.name}': empty symbolic dimension`);
    }
  }
  g.nodes.forEach((n, idx) => {
    const label = `node ${idx} (${n.name || n.opType})`;
    if (!n.opType) throw new Error(`graph '${g.name}': ${label} has no op type`);
    for (const i of n.inputs) {
      if (i && !defined.has(i)) throw new Error(`graph '${g.name}': ${label} reads '${i}', which is not defined before it`);
    }
    for (const o of n.outputs) define(o, `an output of ${label}`);
  });
  for (const v of g.outputs) {
    if (!defined.has(v.name)) throw new Error(`graph '${g.name}': output '${v.name}' is never produced`);
  }
}

export function encodeModel(spec: ModelSpec): Uint8Array {
  validateGraph(spec.graph);
  const g = spec.graph;
  const w = new ProtoWriter();
  w.varint(Model.irVersion, spec.irVersion);
  if (spec.producerName) w.string(Model.producerName, spec.producerName);
  if (spec.producerVersion) w.string(Model.producerVersion, spec.producerVersion);
  if (spec.domain) w.string(Model.domain, spec.domain);
  if (spec.modelVersion !== undefined) w.varint(Model.modelVersion, spec.modelVersion);
  if (spec.docString) w.string(Model.docString, spec.docString);
  w.message(Model.graph, (gw) => {
    for (const n of g.nodes) gw.message(Graph.node, (nw) => writeNode(nw, n));
    gw.string(Graph.name, g.name);
    for (const t of g.initializers ?? []) gw.message(Graph.initializer, (tw) => writeTensor(tw, t));
    if (g.docString) gw.string(Graph.docString, g.docString);
    for (const v of g.inputs) gw.message(Graph.input, (vw) => writeValueInfo(vw, v));
    for (const v of g.outputs) gw.message(Graph.output, (vw) => writeValueInfo(vw, v));
  });
  const opsets: OpsetImport[] = [{ domain: '', version: spec.opsetVersion }, ...(spec.extraOpsets ?? [])];
  for (const o of opsets) {
    w.message(Model.opsetImport, (ow) => {
      if (o.domain) ow.string(Opset.domain, o.domain);
      ow.varint(Opset.version, o.version);
    });
  }
  // Sorted so equal inputs give equal bytes whatever order the caller built the record in;
  // artefacts can then be compared and deduplicated by content hash.
  const metadata = spec.metadata ?? {};
  for (const key of Object.keys(metadata).sort()) {
    const value = metadata[key];
    if (typeof value !== 'string') throw new Error(`metadata '${key}' must be a string`);
    w.message(Model.metadataProps, (ew) => ew.string(Entry.key, key).string(Entry.value, value));
  }
  return w.finish();
}

/**
 * Reads ModelProto.metadata_props back from model bytes, skipping everything else. Needed because
 * onnxruntime-node's InferenceSession does not expose model metadata.
 */
export function readModelMetadata(model: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readFields(model)) {
    if (f.field !== Model.metadataProps || f.wireType !== WireType.LEN) continue;
    let key = '';
    let value = '';
    for (const e of readFields(f.value)) {
      if (e.wireType !== WireType.LEN) continue;
      if (e.field === Entry.key) key = decodeUtf8(e.value);
      else if (e.field === Entry.value) value = decodeUtf8(e.value);
    }
    out[key] = value;
  }
  return out;
}

/** A graph input or output as read back from model bytes: the element type is ONNX's
 * TensorProto.DataType number, a dimension is its size, its symbolic name, or undefined when unset. */
export interface GraphValue {
  name: string;
  dataType: number;
  /** undefined when the value declares no shape at all (rank unknown). */
  shape: Array<number | string | undefined> | undefined;
}

/**
 * Reads the graph's declared inputs (less those fed by initializers, which older IR versions list
 * as inputs) and outputs from model bytes, so callers can describe a model they did not build.
 */
export function readGraphIo(model: Uint8Array): { inputs: GraphValue[]; outputs: GraphValue[] } {
  const inputs: GraphValue[] = [];
  const outputs: GraphValue[] = [];
  const initializers = new Set<string>();
  let sawGraph = false;
  for (const f of readFields(model)) {
    if (f.field !== Model.graph || f.wireType !== WireType.LEN) continue;
    sawGraph = true;
    for (const g of readFields(f.value)) {
      if (g.wireType !== WireType.LEN) continue;
      if (g.field === Graph.input) inputs.push(readValueInfo(g.value));
      else if (g.field === Graph.output) outputs.push(readValueInfo(g.value));
      else if (g.field === Graph.initializer) {
        for (const t of readFields(g.value)) if (t.field === Tensor.name && t.wireType === WireType.LEN) initializers.add(decodeUtf8(t.value));
      }
    }
  }
  if (!sawGraph) throw new Error('not an ONNX model: no graph');
  return { inputs: inputs.filter((i) => !initializers.has(i.name)), outputs };
}

function readValueInfo(bytes: Uint8Array): GraphValue {
  const out: GraphValue = { name: '', dataType: 0, shape: undefined };
  for (const v of readFields(bytes)) {
    if (v.wireType !== WireType.LEN) continue;
    if (v.field === ValueInfoF.name) out.name = decodeUtf8(v.value);
    else if (v.field === ValueInfoF.type) {
      for (const t of readFields(v.value)) {
        if (t.field !== TypeF.tensorType || t.wireType !== WireType.LEN) continue;
        for (const tt of readFields(t.value)) {
          if (tt.field === TypeTensor.elemType && tt.wireType === WireType.VARINT) out.dataType = Number(tt.value);
          else if (tt.field === TypeTensor.shape && tt.wireType === WireType.LEN) {
            out.shape = [];
            for (const d of readFields(tt.value)) {
              if (d.field !== Shape.dim || d.wireType !== WireType.LEN) continue;
              let dim: number | string | undefined;
              for (const dv of readFields(d.value)) {
                if (dv.field === Dimension.dimValue && dv.wireType === WireType.VARINT) dim = Number(BigInt.asIntN(64, dv.value));
                else if (dv.field === Dimension.dimParam && dv.wireType === WireType.LEN) dim = decodeUtf8(dv.value);
              }
              out.shape.push(dim);
            }
          }
        }
      }
    }
  }
  return out;
}
