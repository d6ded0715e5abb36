import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { SoftmaxRegressionParams } from '../models/types';
import { encodeModel, readModelMetadata } from './model';
import { SOFTMAX_REGRESSION_IO, softmaxRegressionToOnnx } from './softmax-regression-graph';

/** mulberry32: deterministic so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

function randomParams(nFeatures: number, classes: string[], seed: number): SoftmaxRegressionParams {
  const next = rng(seed);
  const n = (len: number, f: () => number) => Array.from({ length: len }, f);
  return {
    family: 'softmax-regression',
    nFeatures,
    classes,
    mean: n(nFeatures, () => gaussian(next) * 3),
    scale: n(nFeatures, () => 0.5 + next() * 4),
    weights: n(nFeatures * classes.length, () => gaussian(next)),
    bias: n(classes.length, () => gaussian(next) * 0.5),
  };
}

/** The documented formula, in float64, straight from the params. */
function reference(p: SoftmaxRegressionParams, x: ArrayLike<number>, batch: number): { probs: number[][]; logits: number[][] } {
  const k = p.classes.length;
  const probs: number[][] = [];
  const logits: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const z = p.bias.slice();
    for (let j = 0; j < p.nFeatures; j++) {
      const s = (x[b * p.nFeatures + j] - p.mean[j]) / p.scale[j];
      for (let c = 0; c < k; c++) z[c] += s * p.weights[j * k + c];
    }
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, v) => a + v, 0);
    logits.push(z);
    probs.push(e.map((v) => v / sum));
  }
  return { probs, logits };
}

const argmax = (v: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
};

const cases: { name: string; nFeatures: number; classes: string[]; seed: number }[] = [
  { name: 'binary', nFeatures: 4, classes: ['no', 'yes'], seed: 1 },
  { name: '5-class', nFeatures: 7, classes: ['a', 'b', 'c', 'd', 'e'], seed: 2 },
];

describe.each(cases)('softmaxRegressionToOnnx ($name)', ({ nFeatures, classes, seed }) => {
  const params = randomParams(nFeatures, classes, seed);
  const bytes = softmaxRegressionToOnnx(params, { 'flywheel.run_id': 'run-42' });

  it('loads in onnxruntime with the declared inputs and outputs', async () => {
    const session = await ort.InferenceSession.create(bytes);
    try {
      expect(session.inputNames).toEqual([SOFTMAX_REGRESSION_IO.input]);
      expect(session.outputNames).toEqual([SOFTMAX_REGRESSION_IO.probabilities, SOFTMAX_REGRESSION_IO.label]);
      expect(session.inputMetadata).toEqual([
        { name: 'features', isTensor: true, type: 'float32', shape: ['batch', nFeatures] },
      ]);
      expect(session.outputMetadata).toEqual([
        { name: 'probabilities', isTensor: true, type: 'float32', shape: ['batch', classes.length] },
        { name: 'label', isTensor: true, type: 'int64', shape: ['batch'] },
      ]);
    } finally {
      await session.release();
    }
  });

  it.each([1, 100])('matches the float64 reference at batch %i', async (batch) => {
    const next = rng(seed * 1000 + batch);
    const x = Float32Array.from({ length: batch * nFeatures }, () => gaussian(next) * 4);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({ features: new ort.Tensor('float32', x, [batch, nFeatures]) });
      const probs = out.probabilities;
      const label = out.label;
      expect(probs.type).toBe('float32');
      expect(probs.dims).toEqual([batch, classes.length]);
      expect(label.type).toBe('int64');
      expect(label.dims).toEqual([batch]);
      const p = probs.data as Float32Array;
      const l = label.data as BigInt64Array;

      const ref = reference(params, x, batch);
      let clearWinners = 0;
      for (let b = 0; b < batch; b++) {
        const row = p.subarray(b * classes.length, (b + 1) * classes.length);
        for (let c = 0; c < classes.length; c++) {
          expect(Math.abs(row[c] - ref.probs[b][c])).toBeLessThan(1e-5);
        }
        const predicted = Number(l[b]);
        // The label is always a most-probable class of the returned probabilities…
        expect(row[predicted]).toBe(Math.max(...row));
        // …and the reference's argmax wherever float32 rounding cannot flip a near-tie.
        const sorted = ref.logits[b].slice().sort((u, v) => v - u);
        if (sorted[0] - sorted[1] > 1e-4) {
          expect(predicted).toBe(argmax(ref.logits[b]));
          clearWinners++;
        }
      }
      expect(clearWinners).toBeGreaterThan(batch * 0.9);
    } finally {
      await session.release();
    }
  });

  it('carries the metadata', () => {
    expect(readModelMetadata(bytes)).toEqual({
      'flywheel.family': 'softmax-regression',
      'flywheel.classes': JSON.stringify(classes),
      'flywheel.n_features': String(nFeatures),
      'flywheel.run_id': 'run-42',
    });
  });
});

describe('softmaxRegressionToOnnx validation', () => {
  const good = randomParams(3, ['a', 'b', 'c'], 7);

  it.each<[string, Partial<SoftmaxRegressionParams>, RegExp]>([
    ['weights of the wrong length', { weights: good.weights.slice(1) }, /weights has 8 values, expected 9/],
    ['an nFeatures that disagrees with the vectors', { nFeatures: 4 }, /mean has 3 values, expected 4/],
    ['bias of the wrong length', { bias: [0, 0] }, /bias has 2 values, expected 3/],
    ['scale of the wrong length', { scale: [1, 1] }, /scale has 2 values, expected 3/],
    ['a zero scale', { scale: [1, 0, 1] }, /scale\[1\] is 0/],
    ['a non-finite weight', { weights: [...good.weights.slice(1), Number.NaN] }, /weights\[8\] = NaN/],
    ['a value overflowing float32', { bias: [0, 1e39, 0] }, /bias\[1\] = 1e\+39 is not a finite float32/],
    ['a single class', { classes: ['a'], weights: [1, 1, 1], bias: [0] }, /at least two classes/],
    ['duplicate classes', { classes: ['a', 'b', 'a'] }, /distinct/],
    ['a fractional nFeatures', { nFeatures: 2.5 }, /positive integer/],
  ])('rejects %s', (_, patch, message) => {
    expect(() => softmaxRegressionToOnnx({ ...good, ...patch })).toThrow(message);
  });

  it('rejects metadata that contradicts the params', () => {
    expect(() => softmaxRegressionToOnnx(good, { 'flywheel.n_features': '9' })).toThrow(/derived from the params/);
    expect(() => softmaxRegressionToOnnx(good, { 'flywheel.n_features': '3' })).not.toThrow();
  });

  it('is deterministic regardless of metadata insertion order', () => {
    const a = softmaxRegressionToOnnx(good, { x: '1', y: '2' });
    const b = softmaxRegressionToOnnx(good, { y: '2', x: '1' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});

describe('encodeModel validation', () => {
  const io = {
    inputs: [{ name: 'x', elemType: 'float32' as const, shape: ['batch', 2] }],
    outputs: [{ name: 'y', elemType: 'float32' as const, shape: ['batch', 2] }],
  };
  const spec = (nodes: { opType: string; inputs: string[]; outputs: string[] }[]) => ({
    irVersion: 8,
    opsetVersion: 17,
    graph: { name: 'g', nodes, ...io },
  });

  it('rejects a node reading an undefined value', () => {
    expect(() => encodeModel(spec([{ opType: 'Relu', inputs: ['z'], outputs: ['y'] }]))).toThrow(/reads 'z'/);
  });

  it('rejects an output nobody produces', () => {
    expect(() => encodeModel(spec([{ opType: 'Relu', inputs: ['x'], outputs: ['w'] }]))).toThrow(/'y' is never produced/);
  });

  it('rejects an initializer whose data does not match its dims', () => {
    expect(() =>
      encodeModel({
        ...spec([{ opType: 'Add', inputs: ['x', 'b'], outputs: ['y'] }]),
        graph: {
          name: 'g',
          nodes: [{ opType: 'Add', inputs: ['x', 'b'], outputs: ['y'] }],
          initializers: [{ name: 'b', elemType: 'float32', dims: [2], data: [1, 2, 3] }],
          ...io,
        },
      }),
    ).toThrow(/3 values for dims \[2\]/);
  });

  it('builds a model onnxruntime runs, with int64 initializers and ints attributes', async () => {
    const bytes = encodeModel({
      irVersion: 8,
      opsetVersion: 17,
      producerName: 'test',
      graph: {
        name: 'g',
        nodes: [
          { opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'] },
          { opType: 'Transpose', inputs: ['r'], outputs: ['y'], attributes: { perm: { type: 'ints', value: [1, 0] } } },
        ],
        initializers: [{ name: 'shape', elemType: 'int64', dims: [2], data: [3n, -1n] }],
        inputs: [{ name: 'x', elemType: 'float32', shape: [2, 3] }],
        outputs: [{ name: 'y', elemType: 'float32', shape: [2, 3] }],
      },
    });
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]) });
      // Reshape to [3, 2] then transpose: [[1,3,5],[2,4,6]].
      expect(out.y.dims).toEqual([2, 3]);
      expect(Array.from(out.y.data as Float32Array)).toEqual([1, 3, 5, 2, 4, 6]);
    } finally {
      await session.release();
    }
  });
});
