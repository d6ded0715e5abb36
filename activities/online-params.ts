/**
 * A registered softmax-regression version's parameters, read back from its ONNX: the initializers
 * (mean, scale, weights, bias) and the class labels in its metadata. The ONNX in MLflow is the
 * version's record, so an online model warm-starts from exactly what that version serves.
 */
import type { SoftmaxRegressionParams } from '../lib/models/types';
import { readModelMetadata } from '../lib/onnx/model';
import { decodeUtf8, readFields } from '../lib/onnx/protobuf-reader';
import { SOFTMAX_REGRESSION_META_KEYS } from '../lib/onnx/softmax-regression-graph';

// onnx.proto field numbers.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR = { dims: 1, dataType: 2, floatData: 4, name: 8, rawData: 9 } as const;
const FLOAT = 1;

interface Tensor {
  dims: number[];
  values: number[];
}

function readTensor(bytes: Uint8Array): { name: string; tensor: Tensor } {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  let values: number[] = [];
  for (const f of readFields(bytes)) {
    if (f.field === TENSOR.name && f.wireType === 2) name = decodeUtf8(f.value);
    else if (f.field === TENSOR.dims && f.wireType === 0) dims.push(Number(f.value));
    else if (f.field === TENSOR.dataType && f.wireType === 0) dataType = Number(f.value);
    else if ((f.field === TENSOR.rawData || f.field === TENSOR.floatData) && f.wireType === 2) {
      // raw_data and packed float_data are both little-endian float32 runs.
      const view = new DataView(f.value.buffer, f.value.byteOffset, f.value.byteLength);
      values = Array.from({ length: f.value.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
    }
  }
  if (dataType !== FLOAT) throw new Error(`initializer ${name} is not float32 (data type ${dataType})`);
  return { name, tensor: { dims, values } };
}

export function softmaxParamsFromOnnx(model: Uint8Array): SoftmaxRegressionParams {
  const meta = readModelMetadata(model);
  const family = meta[SOFTMAX_REGRESSION_META_KEYS.family];
  if (family !== 'softmax-regression') throw new Error(`the ONNX is a ${family ?? 'model without a flywheel family'}, not a softmax-regression`);
  const classes = JSON.parse(meta[SOFTMAX_REGRESSION_META_KEYS.classes] ?? 'null') as string[] | null;
  if (!Array.isArray(classes)) throw new Error('the ONNX has no class labels in its metadata');
  const found = new Map<string, Tensor>();
  for (const f of readFields(model)) {
    if (f.field !== MODEL_GRAPH || f.wireType !== 2) continue;
    for (const g of readFields(f.value)) {
      if (g.field !== GRAPH_INITIALIZER || g.wireType !== 2) continue;
      const t = readTensor(g.value);
      found.set(t.name, t.tensor);
    }
  }
  const need = (name: string, length: number): number[] => {
    const t = found.get(name);
    if (!t) throw new Error(`the ONNX has no initializer ${name}`);
    if (t.values.length !== length) throw new Error(`initializer ${name} has ${t.values.length} values, expected ${length}`);
    return t.values;
  };
  const nFeatures = found.get('mean')?.values.length ?? 0;
  const C = classes.length;
  return { family: 'softmax-regression', nFeatures, classes, mean: need('mean', nFeatures), scale: need('scale', nFeatures), weights: need('weights', nFeatures * C), bias: need('bias', C) };
}
