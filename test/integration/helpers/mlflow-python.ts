/** MLflow's own Python client on what Flywheel registered: `mlflow.pyfunc.load_model` in the venv. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, type FlywheelConfig } from '../../../config/index';
import { mlflowAuthEnv } from '../../../clients/mlflow';

export const VENV_BIN = path.join(PROJECT_ROOT, '.venv/bin');

/** Loads `modelUri` (e.g. `models:/m@champion`) with mlflow.pyfunc and predicts float32 rows;
 * returns each ONNX output as nested lists. */
export async function pyfuncPredict(mlflow: FlywheelConfig['mlflow'], modelUri: string, rows: number[][]): Promise<Record<string, unknown>> {
  const script = [
    'import json, sys, numpy as np, mlflow',
    `m = mlflow.pyfunc.load_model(${JSON.stringify(modelUri)})`,
    `out = m.predict(np.array(${JSON.stringify(rows)}, dtype=np.float32))`,
    'print("RESULT " + json.dumps({k: v.tolist() for k, v in out.items()}))',
  ].join('\n');
  const { stdout, stderr } = await promisify(execFile)(path.join(VENV_BIN, 'python'), ['-c', script], {
    env: { ...process.env, MLFLOW_TRACKING_URI: mlflow.trackingUri, ...mlflowAuthEnv(mlflow.auth) },
    maxBuffer: 16 << 20,
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`mlflow.pyfunc printed no result:\n${stdout}\n${stderr}`);
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
}
