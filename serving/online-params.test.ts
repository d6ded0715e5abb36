import { describe, expect, it } from 'vitest';
import { softmaxParamsFromOnnx } from '../activities/online-params';
import { fromSoftmaxRegressionParams } from '../lib/online/softmax-regression';
import { softmaxRegressionToOnnx } from '../lib/onnx/softmax-regression-graph';
import { encodeModel } from '../lib/onnx/model';

const params = {
  family: 'softmax-regression' as const,
  nFeatures: 3,
  classes: ['a', 'b'],
  mean: [0.5, -1, 2],
  scale: [2, 0.25, 1],
  weights: [1, -2, 0.5, 0.25, -3, 4],
  bias: [0.125, -0.5],
};

describe('an online warm start read back from ONNX', () => {
  it('recovers the parameters the exporter wrote (as float32)', () => {
    const back = softmaxParamsFromOnnx(softmaxRegressionToOnnx(params));
    expect(back).toEqual(params);
  });

  it('predicts what the exported version predicts, then learns from there', () => {
    const m = fromSoftmaxRegressionParams(softmaxParamsFromOnnx(softmaxRegressionToOnnx(params)), { learningRate: 0.5 });
    const ref = fromSoftmaxRegressionParams(params);
    const x = [1, 2, 3];
    expect(Array.from(m.predictProbaOne(x))).toEqual(Array.from(ref.predictProbaOne(x)));
    const before = m.predictProbaOne(x)[1]!;
    m.learnOne(x, 1);
    expect(m.predictProbaOne(x)[1]).toBeGreaterThan(before);
    // The learnt state exports again as a servable graph of the same shape.
    expect(softmaxParamsFromOnnx(softmaxRegressionToOnnx(m.toParams())).weights).toHaveLength(6);
  });

  it('refuses a graph that is not a Flywheel softmax regression, saying why', () => {
    const other = encodeModel({
      irVersion: 8,
      opsetVersion: 17,
      producerName: 'x',
      producerVersion: '1',
      graph: { name: 'g', nodes: [{ opType: 'Identity', name: 'i', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', elemType: 'float32', shape: [1] }], outputs: [{ name: 'y', elemType: 'float32', shape: [1] }] },
    });
    expect(() => softmaxParamsFromOnnx(other)).toThrow('the ONNX is a model without a flywheel family, not a softmax-regression');
  });
});
