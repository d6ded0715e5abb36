/**
 * What a model must be for the gateway to serve it, checked the same way at deploy time (the
 * deployVersion activity) and at load time (the gateway): Flywheel metadata naming its features
 * and classes, one float32 input [batch, n_features], a probabilities output [batch, n_classes],
 * and a dummy inference that returns finite probabilities.
 */
import { readModelMetadata } from '../lib/onnx/model';

export const INPUT_NAME = 'features';
export const PROBABILITIES = 'probabilities';
export const LABEL = 'label';

export interface ModelInfo {
  nFeatures: number;
  classes: string[];
}

/** The subset of onnxruntime's InferenceSession.ValueMetadata we look at. */
export interface IoMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

export class ModelCheckError extends Error {
  override name = 'ModelCheckError';
}

/** n_features and classes from the model's metadata_props; throws when absent or malformed. */
export function modelInfo(bytes: Uint8Array): ModelInfo {
  let meta: Record<string, string>;
  try {
    meta = readModelMetadata(bytes);
  } catch (err) {
    throw new ModelCheckError(`not an ONNX model: ${(err as Error).message}`);
  }
  const nFeatures = Number(meta['flywheel.n_features']);
  if (!Number.isSafeInteger(nFeatures) || nFeatures < 1) {
    throw new ModelCheckError(`metadata flywheel.n_features is ${JSON.stringify(meta['flywheel.n_features'] ?? null)}, expected a positive integer`);
  }
  let classes: unknown;
  try {
    classes = JSON.parse(meta['flywheel.classes'] ?? 'null');
  } catch {
    classes = null;
  }
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c) => typeof c === 'string')) {
    throw new ModelCheckError(`metadata flywheel.classes is ${JSON.stringify(meta['flywheel.classes'] ?? null)}, expected a JSON array of at least two class names`);
  }
  return { nFeatures, classes: classes as string[] };
}

/** A dimension fixed in the graph (a positive number), or undefined for a symbolic or missing one. */
export function fixedDim(d: number | string | undefined): number | undefined {
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/** The graph's inputs and outputs agree with the metadata. */
export function checkSignature(info: ModelInfo, inputs: readonly IoMetadata[], outputs: readonly IoMetadata[]): void {
  if (inputs.length !== 1) throw new ModelCheckError(`expected one input, found ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
  const input = inputs[0]!;
  if (!input.isTensor || input.type !== 'float32') throw new ModelCheckError(`input ${input.name} must be a float32 tensor, is ${input.type ?? 'not a tensor'}`);
  const shape = input.shape ?? [];
  if (shape.length !== 2 || fixedDim(shape[1]) !== info.nFeatures) {
    throw new ModelCheckError(`input ${input.name} has shape [${shape.join(', ')}], but the model's metadata says n_features = ${info.nFeatures}: expected [batch, ${info.nFeatures}]`);
  }
  const probs = outputs.find((o) => o.name === PROBABILITIES);
  if (!probs || !probs.isTensor || probs.type !== 'float32') throw new ModelCheckError(`no float32 output named ${PROBABILITIES}`);
  const classesDim = fixedDim(probs.shape?.[1]);
  if (classesDim !== undefined && classesDim !== info.classes.length) {
    throw new ModelCheckError(`output ${PROBABILITIES} has ${classesDim} columns, but the metadata names ${info.classes.length} classes`);
  }
}

/** The dummy inference's outputs: one probability vector per row, each finite and summing to 1. */
export function checkDummyOutput(info: ModelInfo, rows: number, probabilities: Float32Array, labels: ArrayLike<number> | undefined): void {
  const k = info.classes.length;
  if (probabilities.length !== rows * k) throw new ModelCheckError(`dummy inference returned ${probabilities.length} probabilities for ${rows} rows of ${k} classes`);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const p = probabilities[r * k + j]!;
      if (!Number.isFinite(p) || p < 0) throw new ModelCheckError(`dummy inference returned probability ${p}`);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-3) throw new ModelCheckError(`dummy inference probabilities sum to ${sum}, not 1`);
    const label = labels?.[r];
    if (label !== undefined && !(Number.isInteger(label) && label >= 0 && label < k)) throw new ModelCheckError(`dummy inference returned label index ${label}`);
  }
}
