import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { encodeModel, readGraphIo } from './model';
import { mlflowOnnxModelFiles, onnxSignature, tensorSpec, toYaml, utcTimeCreated } from './mlflow-flavour';
import { softmaxRegressionToOnnx } from './softmax-regression-graph';

const params = {
  family: 'softmax-regression' as const,
  nFeatures: 3,
  classes: ['a', 'b'],
  mean: [0, 1, 2],
  scale: [1, 1, 1],
  weights: [1, -1, 0.5, 0.5, -1, 1],
  bias: [0, 0.1],
};

describe('readGraphIo', () => {
  it('reads the softmax-regression graph’s input and outputs with their types and shapes', () => {
    const io = readGraphIo(softmaxRegressionToOnnx(params, {}));
    expect(io.inputs).toEqual([{ name: 'features', dataType: 1, shape: ['batch', 3] }]);
    expect(io.outputs).toEqual([
      { name: 'probabilities', dataType: 1, shape: ['batch', 2] },
      { name: 'label', dataType: 7, shape: ['batch'] },
    ]);
  });

  it('leaves out inputs that initializers feed, and keeps an input that declares no dims', () => {
    const bytes = encodeModel({
      irVersion: 8,
      opsetVersion: 17,
      graph: {
        name: 'g',
        nodes: [{ opType: 'Add', name: 'add', inputs: ['x', 'w'], outputs: ['y'] }],
        initializers: [{ name: 'w', elemType: 'float64', dims: [1], data: [1] }],
        inputs: [
          { name: 'x', elemType: 'float64', shape: [] },
          { name: 'w', elemType: 'float64', shape: [1] },
        ],
        outputs: [{ name: 'y', elemType: 'float64', shape: [7] }],
      },
    });
    const io = readGraphIo(bytes);
    expect(io.inputs).toEqual([{ name: 'x', dataType: 11, shape: [] }]);
    expect(io.outputs).toEqual([{ name: 'y', dataType: 11, shape: [7] }]);
  });

  it('refuses bytes that hold no graph', () => {
    expect(() => readGraphIo(new Uint8Array([0x08, 0x08]))).toThrow('no graph');
  });
});

describe('MLflow ONNX flavour files', () => {
  const onnx = softmaxRegressionToOnnx(params, {});
  const files = mlflowOnnxModelFiles({ onnx, runId: 'r1', artifactPath: 'model', modelUuid: '0123456789abcdef0123456789abcdef', createdAtMs: Date.UTC(2026, 11, 3, 10, 21, 18, 263) });

  it('declares the onnx and python_function flavours over model.onnx, with a tensor signature of the graph', () => {
    const m = parse(files.MLmodel!) as Record<string, any>;
    expect(m.flavors.onnx).toMatchObject({ data: 'model.onnx', onnx_version: '1.23.2', providers: ['CUDAExecutionProvider', 'CPUExecutionProvider'] });
    expect(m.flavors.python_function).toEqual({ data: 'model.onnx', env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' }, loader_module: 'mlflow.onnx', python_version: '3.11' });
    expect(m).toMatchObject({ artifact_path: 'model', mlflow_version: '3.17.2', run_id: 'r1', model_uuid: '0123456789abcdef0123456789abcdef', model_size_bytes: onnx.byteLength });
    expect(m.utc_time_created).toBe('2026-12-03 10:21:18.263000');
    expect(JSON.parse(m.signature.inputs)).toEqual([{ name: 'features', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 3] } }]);
    expect(JSON.parse(m.signature.outputs)).toEqual([
      { name: 'probabilities', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 2] } },
      { name: 'label', type: 'tensor', 'tensor-spec': { dtype: 'int64', shape: [-1] } },
    ]);
    expect(m.signature.params).toBeNull();
  });

  it('writes the environment files MLflow reads, pinning the same versions', () => {
    expect(files['requirements.txt']).toBe('mlflow==3.17.2\nnumpy==2.4.6\nonnx==1.23.2\nonnxruntime==1.31.1\n');
    expect(parse(files['python_env.yaml']!)).toEqual({ python: '3.11', build_dependencies: ['pip', 'setuptools', 'wheel'], dependencies: ['-r requirements.txt'] });
    expect(parse(files['conda.yaml']!)).toEqual({
      channels: ['conda-forge'],
      dependencies: ['python=3.11', 'pip', { pip: ['mlflow==3.17.2', 'numpy==2.4.6', 'onnx==1.23.2', 'onnxruntime==1.31.1'] }],
      name: 'mlflow-env',
    });
  });

  it('refuses what a tensor signature cannot carry: a string tensor, an unknown rank, a graph with no inputs', () => {
    expect(() => tensorSpec({ name: 's', dataType: 8, shape: [-1] })).toThrow('"s" has element type 8');
    expect(() => tensorSpec({ name: 'u', dataType: 1, shape: undefined })).toThrow('"u" declares no shape');
    expect(() => onnxSignature(new Uint8Array([0x3a, 0x00]))).toThrow('no inputs');
  });
});

describe('toYaml', () => {
  it('round-trips plain data through a YAML parser, keeping strings that look like other types as strings', () => {
    const data = { a: 'yes', b: '1.10', c: '2026-12-03 10:00:00', d: null, e: [1, 'x: y', { f: [], g: {} }], h: 'quote " and \\ and \n', i: true, 'tensor-spec': 'ok' };
    expect(parse(toYaml(data))).toEqual(data);
  });

  it('formats creation times as MLflow does', () => {
    expect(utcTimeCreated(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toBe('2026-01-02 03:04:05.006000');
  });
});
