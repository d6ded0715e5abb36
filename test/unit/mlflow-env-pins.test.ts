/** The environment an ONNX model's MLflow files declare is the one this project installs. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MLFLOW_ONNX_ENV } from '../../lib/onnx/mlflow-flavour';

describe('MLFLOW_ONNX_ENV', () => {
  it('pins what scripts/requirements.txt pins', () => {
    const pins = Object.fromEntries(
      readFileSync(new URL('../../scripts/requirements.txt', import.meta.url), 'utf8')
        .split('\n')
        .map((l) => /^([A-Za-z0-9_.-]+)==(\S+)/.exec(l.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    for (const pkg of ['mlflow', 'numpy', 'onnx', 'onnxruntime'] as const) expect({ pkg, version: pins[pkg] }).toEqual({ pkg, version: MLFLOW_ONNX_ENV[pkg] });
  });
});
