/**
 * Exports a trained softmax regression as an ONNX graph that any ONNX runtime can serve:
 *
 *   features ─ Sub(mean) ─ Div(scale) ─ MatMul(weights) ─ Add(bias) = logits ┬ Softmax(axis=1) → probabilities
 *                                                                            └ ArgMax(axis=1)  → label
 *
 * Standardisation stays in the graph (rather than being folded into the weights) so the served
 * model computes exactly what the trainer's formula says and accepts raw feature vectors.
 */

import type { SoftmaxRegressionParams } from '../models/types';
import { attr, encodeModel, type NodeSpec } from './model';

export const SOFTMAX_REGRESSION_IR_VERSION = 8;
export const SOFTMAX_REGRESSION_OPSET = 17;

/** Names of the graph's input and outputs, for callers that build feeds or read results. */
export const SOFTMAX_REGRESSION_IO = {
  input: 'features',
  probabilities: 'probabilities',
  label: 'label',
} as const;

/** Metadata keys this exporter owns; callers may not set them to other values. */
export const SOFTMAX_REGRESSION_META_KEYS = {
  family: 'flywheel.family',
  classes: 'flywheel.classes',
  nFeatures: 'flywheel.n_features',
} as const;

/**
 * Version of this exporter's graph layout (not of the package); bump it when the graph changes
 * so consumers can tell layouts apart.
 */
const PRODUCER_VERSION = '1';

function checkVector(name: string, values: unknown, length: number): void {
  if (!Array.isArray(values)) throw new Error(`softmax regression: ${name} must be an array`);
  if (values.length !== length) {
    throw new Error(`softmax regression: ${name} has ${values.length} values, expected ${length}`);
  }
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    // Math.fround catches values that are finite in float64 but overflow the float32 we store.
    if (typeof v !== 'number' || !Number.isFinite(Math.fround(v))) {
      throw new Error(`softmax regression: ${name}[${i}] = ${String(v)} is not a finite float32`);
    }
  }
}

/** Throws an Error naming the first inconsistency; shapes are checked before any value. */
export function validateSoftmaxRegressionParams(params: SoftmaxRegressionParams): void {
  if (params.family !== 'softmax-regression') {
    throw new Error(`softmax regression: unexpected family '${String(params.family)}'`);
  }
  const { nFeatures, classes } = params;
  if (!Number.isSafeInteger(nFeatures) || nFeatures < 1) {
    throw new Error(`softmax regression: nFeatures must be a positive integer, got ${nFeatures}`);
  }
  if (!Array.isArray(classes) || classes.length < 2) {
    throw new Error('softmax regression: needs at least two classes (binary problems use two, not a sigmoid)');
  }
  if (new Set(classes).size !== classes.length) {
    throw new Error(`softmax regression: class labels must be distinct, got ${JSON.stringify(classes)}`);
  }
  const nClasses = classes.length;
  checkVector('mean', params.mean, nFeatures);
  checkVector('scale', params.scale, nFeatures);
  checkVector('weights', params.weights, nFeatures * nClasses);
  checkVector('bias', params.bias, nClasses);
  const zero = params.scale.findIndex((s) => s === 0);
  if (zero >= 0) throw new Error(`softmax regression: scale[${zero}] is 0, which would divide by zero`);
}

export function softmaxRegressionToOnnx(
  params: SoftmaxRegressionParams,
  meta: Readonly<Record<string, string>> = {},
): Uint8Array {
  validateSoftmaxRegressionParams(params);
  const nFeatures = params.nFeatures;
  const nClasses = params.classes.length;

  const own: Record<string, string> = {
    [SOFTMAX_REGRESSION_META_KEYS.family]: params.family,
    [SOFTMAX_REGRESSION_META_KEYS.classes]: JSON.stringify(params.classes),
    [SOFTMAX_REGRESSION_META_KEYS.nFeatures]: String(nFeatures),
  };
  for (const [key, value] of Object.entries(own)) {
    // A differing caller value would make the artefact describe itself inconsistently.
    if (Object.hasOwn(meta, key) && meta[key] !== value) {
      throw new Error(`softmax regression: metadata '${key}' is derived from the params and cannot be set to '${meta[key]}'`);
    }
  }

  const { input, probabilities, label } = SOFTMAX_REGRESSION_IO;
  const nodes: NodeSpec[] = [
    { opType: 'Sub', name: 'center', inputs: [input, 'mean'], outputs: ['centered'] },
    { opType: 'Div', name: 'standardize', inputs: ['centered', 'scale'], outputs: ['standardized'] },
    { opType: 'MatMul', name: 'project', inputs: ['standardized', 'weights'], outputs: ['projected'] },
    { opType: 'Add', name: 'add_bias', inputs: ['projected', 'bias'], outputs: ['logits'] },
    { opType: 'Softmax', name: 'softmax', inputs: ['logits'], outputs: [probabilities], attributes: { axis: attr.int(1) } },
    {
      opType: 'ArgMax',
      name: 'argmax',
      // On the logits rather than the probabilities: same order, and it does not depend on
      // Softmax's rounding when two classes are nearly tied.
      inputs: ['logits'],
      outputs: [label],
      attributes: { axis: attr.int(1), keepdims: attr.int(0) },
    },
  ];

  return encodeModel({
    irVersion: SOFTMAX_REGRESSION_IR_VERSION,
    opsetVersion: SOFTMAX_REGRESSION_OPSET,
    producerName: 'flywheel',
    producerVersion: PRODUCER_VERSION,
    graph: {
      name: 'softmax_regression',
      nodes,
      initializers: [
        { name: 'mean', elemType: 'float32', dims: [nFeatures], data: params.mean },
        { name: 'scale', elemType: 'float32', dims: [nFeatures], data: params.scale },
        { name: 'weights', elemType: 'float32', dims: [nFeatures, nClasses], data: params.weights },
        { name: 'bias', elemType: 'float32', dims: [nClasses], data: params.bias },
      ],
      inputs: [{ name: input, elemType: 'float32', shape: ['batch', nFeatures] }],
      outputs: [
        { name: probabilities, elemType: 'float32', shape: ['batch', nClasses] },
        { name: label, elemType: 'int64', shape: ['batch'] },
      ],
    },
    metadata: { ...meta, ...own },
  });
}
