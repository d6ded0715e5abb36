/**
 * Seldon MLServer as a baseline of the serving benchmark: PyPI `mlserver` with `mlserver-mlflow`,
 * serving the MLflow `onnx` flavour model the benchmark logs, called with the V2 inference
 * protocol. It lives in a virtual environment of its own (its pins clash with .venv's MLflow):
 *
 *   python3 -m venv .flywheel/tools/mlserver-venv
 *   .flywheel/tools/mlserver-venv/bin/pip install mlserver==1.7.1 mlserver-mlflow==1.7.1 'uvloop<0.22' onnx onnxruntime
 *
 * (uvloop 0.22 removed the implicit event loop MLServer 1.7.1's worker processes ask for: with it
 * every worker dies at start and no model loads.)
 *
 * Absent that environment the benchmark skips MLServer and says so.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config/index';
import { JsonClient } from '../../traffic/http';
import { freePort, startServer, type Server } from './processes';
import { python, type BenchStack, type Target } from './stack';

export const MLSERVER_BIN = path.join(PROJECT_ROOT, '.flywheel', 'tools', 'mlserver-venv', 'bin', 'mlserver');
const MODEL_NAME = 'bench';

export function mlserverMissing(): string | undefined {
  return fs.existsSync(MLSERVER_BIN) ? undefined : `${MLSERVER_BIN} not found (see bench/serving/mlserver.ts for the two commands that install it)`;
}

/** Downloads the MLflow model, writes MLServer's settings and starts it with `workers` worker processes. */
export async function startMlServer(stack: BenchStack, modelUri: string, port: number, workers: number): Promise<Server> {
  const root = path.join(stack.workDir, 'mlserver');
  await fsp.rm(root, { recursive: true, force: true });
  const modelDir = path.join(root, MODEL_NAME);
  await fsp.mkdir(modelDir, { recursive: true });
  const local = await python(stack, ['-c', 'import sys, mlflow; print(mlflow.artifacts.download_artifacts(sys.argv[1], dst_path=sys.argv[2]))', modelUri, path.join(root, 'artifacts')]);
  const settings = { http_port: port, grpc_port: await freePort(), metrics_port: await freePort(), parallel_workers: workers, debug: false };
  await fsp.writeFile(path.join(root, 'settings.json'), JSON.stringify(settings));
  await fsp.writeFile(path.join(modelDir, 'model-settings.json'), JSON.stringify({ name: MODEL_NAME, implementation: 'mlserver_mlflow.MLflowRuntime', parameters: { uri: local.split('\n').pop() } }));
  return startServer('MLServer', MLSERVER_BIN, ['start', root], { ...process.env, MLSERVER_LOGGING_LEVEL: 'WARNING' }, path.join(stack.workDir, 'mlserver.log'));
}

export const MLSERVER_READY_PATH = `/v2/models/${MODEL_NAME}/ready`;

export function mlserverTarget(port: number, connections: number): Target {
  const client = new JsonClient(`http://127.0.0.1:${port}`, connections);
  return {
    name: 'MLServer',
    client,
    send: async (features) =>
      (await client.post(`/v2/models/${MODEL_NAME}/infer`, { inputs: [{ name: 'features', shape: [1, features.length], datatype: 'FP32', data: features }] })).status === 200,
  };
}
