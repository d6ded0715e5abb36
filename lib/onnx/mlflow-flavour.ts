/**
 * The files that make an ONNX model an MLflow model: `MLmodel` (an `onnx` flavour plus a
 * `python_function` flavour loaded by `mlflow.onnx`, and a tensor signature read from the graph)
 * and the environment files MLflow writes beside it (`requirements.txt`, `python_env.yaml`,
 * `conda.yaml`). With these next to `model.onnx`, `mlflow.pyfunc.load_model` and
 * `mlflow models serve` accept the folder as if `mlflow.onnx.log_model` had written it.
 *
 * Pure: the caller supplies the model bytes, ids and the clock reading.
 */
import { readGraphIo, type GraphValue } from './model';

/**
 * The Python environment the files declare: the versions this project pins in
 * scripts/requirements.txt (a unit test keeps the two in step). `python` is major.minor because
 * the saving process is TypeScript; MLflow reads it only to build an isolated environment.
 */
export const MLFLOW_ONNX_ENV = {
  python: '3.11',
  mlflow: '3.17.2',
  numpy: '2.4.6',
  onnx: '1.23.2',
  onnxruntime: '1.31.1',
} as const;

/** What MLflow's onnx flavour declares by default: CUDA when onnxruntime has it, else CPU. */
export const ONNX_PROVIDERS = ['CUDAExecutionProvider', 'CPUExecutionProvider'] as const;

export const MLMODEL_FILE = 'MLmodel';
export const ONNX_MODEL_FILE = 'model.onnx';

/** ONNX TensorProto.DataType → the numpy dtype name MLflow's tensor spec uses. */
const NUMPY_DTYPE: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
};

export interface TensorSpecEntry {
  name: string;
  type: 'tensor';
  'tensor-spec': { dtype: string; shape: number[] };
}

/** One graph value as an MLflow tensor spec: symbolic or unset dimensions become -1. */
export function tensorSpec(v: GraphValue): TensorSpecEntry {
  const dtype = NUMPY_DTYPE[v.dataType];
  if (!dtype) throw new Error(`ONNX value "${v.name}" has element type ${v.dataType}, which an MLflow tensor signature cannot describe`);
  if (!v.shape) throw new Error(`ONNX value "${v.name}" declares no shape, so its MLflow tensor signature is unknown`);
  return { name: v.name, type: 'tensor', 'tensor-spec': { dtype, shape: v.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) } };
}

/** MLflow's signature: inputs and outputs as JSON text, the form `MLmodel` stores them in. */
export function onnxSignature(onnx: Uint8Array): { inputs: string; outputs: string } {
  const io = readGraphIo(onnx);
  if (io.inputs.length === 0) throw new Error('ONNX graph has no inputs');
  return { inputs: JSON.stringify(io.inputs.map(tensorSpec)), outputs: JSON.stringify(io.outputs.map(tensorSpec)) };
}

export interface MlflowOnnxModelInput {
  onnx: Uint8Array;
  /** The MLflow run the model belongs to. */
  runId: string;
  /** The folder under the run's artifacts (MLflow's `artifact_path`), e.g. `model`. */
  artifactPath: string;
  /** A 32-hex-digit id for this copy of the model (MLflow writes a uuid4's hex). */
  modelUuid: string;
  createdAtMs: number;
}

/** The text files to write beside `model.onnx`, by file name. */
export function mlflowOnnxModelFiles(input: MlflowOnnxModelInput): Record<string, string> {
  const env = MLFLOW_ONNX_ENV;
  const mlmodel = {
    artifact_path: input.artifactPath,
    flavors: {
      onnx: { code: null, data: ONNX_MODEL_FILE, onnx_session_options: null, onnx_version: env.onnx, providers: [...ONNX_PROVIDERS] },
      python_function: {
        data: ONNX_MODEL_FILE,
        env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
        loader_module: 'mlflow.onnx',
        python_version: env.python,
      },
    },
    mlflow_version: env.mlflow,
    model_size_bytes: input.onnx.byteLength,
    model_uuid: input.modelUuid,
    run_id: input.runId,
    signature: { ...onnxSignature(input.onnx), params: null },
    utc_time_created: utcTimeCreated(input.createdAtMs),
  };
  const requirements = [`mlflow==${env.mlflow}`, `numpy==${env.numpy}`, `onnx==${env.onnx}`, `onnxruntime==${env.onnxruntime}`];
  return {
    [MLMODEL_FILE]: toYaml(mlmodel),
    'requirements.txt': requirements.join('\n') + '\n',
    'python_env.yaml': toYaml({ python: env.python, build_dependencies: ['pip', 'setuptools', 'wheel'], dependencies: ['-r requirements.txt'] }),
    'conda.yaml': toYaml({ channels: ['conda-forge'], dependencies: [`python=${env.python}`, 'pip', { pip: requirements }], name: 'mlflow-env' }),
  };
}

/** MLflow's format: `2026-12-03 10:21:18.263271` (UTC, microseconds). */
export function utcTimeCreated(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-03T10:21:18.263Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

type Yaml = string | number | boolean | null | Yaml[] | { [k: string]: Yaml };

/**
 * Block-style YAML for plain data. Every string is double-quoted with JSON escapes (valid YAML),
 * so nothing is re-typed on reading: a version stays a string, a timestamp is not a date.
 */
export function toYaml(value: Yaml, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}[]\n`;
    return value
      .map((item) => {
        if (isBlock(item)) {
          const inner = toYaml(item, `${indent}  `);
          return `${indent}- ${inner.slice(indent.length + 2)}`;
        }
        return `${indent}- ${scalar(item)}\n`;
      })
      .join('');
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return `${indent}{}\n`;
    return keys
      .map((k) => {
        const v = value[k]!;
        if (isBlock(v)) return `${indent}${scalar(k)}:\n${toYaml(v, `${indent}  `)}`;
        return `${indent}${scalar(k)}: ${scalar(v)}\n`;
      })
      .join('');
  }
  return `${indent}${scalar(value)}\n`;
}

function isBlock(v: Yaml): v is Yaml[] | { [k: string]: Yaml } {
  return v !== null && typeof v === 'object' && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
}

function scalar(v: Yaml): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} to YAML`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return /^[A-Za-z_][A-Za-z0-9_]*$/.test(v) && !/^(null|true|false|yes|no|on|off|y|n|~)$/i.test(v) ? v : JSON.stringify(v);
  if (Array.isArray(v)) return '[]';
  return '{}';
}
