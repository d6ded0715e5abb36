/**
 * What the serving benchmarks share: a scratch database the gateway reads its deployments from
 * (and its recorder writes to, as in production), the benchmark's versions registered in MLflow,
 * the same ONNX logged as an MLflow `onnx` model, and how each server is started and called.
 */
import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { deployVersion } from '../../activities/deploy';
import { createApiKey } from '../../clients/api-keys';
import { MlflowClient, mlflowAuthEnv } from '../../clients/mlflow';
import { loadConfig, PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { loadDataset } from '../../datasets/load';
import { migrate } from '../../db/migrate';
import { createScratchDatabase } from '../../scripts/stack/postgres';
import { JsonClient } from '../../traffic/http';
import { BENCH_MODEL, benchOnnx, ensureVersion } from './models';
import { startServer, type Server } from './processes';

const execFileP = promisify(execFile);
export const VENV_BIN = path.join(PROJECT_ROOT, '.venv', 'bin');
export const log = (line: string) => process.stderr.write(`${line}\n`);

export interface Target {
  name: string;
  client: JsonClient;
  send: (features: number[], i: number) => Promise<boolean>;
}

export interface BenchStack {
  config: FlywheelConfig;
  mlflow: MlflowClient;
  /** Environment for .venv's Python and MLflow CLI, pointed at the stack's MLflow. */
  pyEnv: NodeJS.ProcessEnv;
  workDir: string;
  databaseUrl: string;
  db: pg.Pool;
  apiKey: string;
  /** The registered versions' ONNX bytes and numbers; the first is deployed. */
  bytes: Uint8Array[];
  versions: string[];
}

export async function python(stack: Pick<BenchStack, 'pyEnv'>, args: string[]): Promise<string> {
  const { stdout } = await execFileP(path.join(VENV_BIN, 'python'), args, { env: stack.pyEnv, cwd: PROJECT_ROOT, maxBuffer: 10 * 1024 * 1024 });
  return stdout.trim();
}

/** Recreates `database`, registers `nVersions` versions and deploys the first. */
export async function prepareStack(database: string, nVersions: number): Promise<BenchStack> {
  const config = loadConfig();
  const mlflow = new MlflowClient(config.mlflow);
  if (!(await mlflow.health())) throw new Error(`MLflow is not reachable at ${config.mlflow.trackingUri}: run \`flywheel up\``);
  const pyEnv = { ...process.env, MLFLOW_TRACKING_URI: config.mlflow.trackingUri, ...mlflowAuthEnv(config.mlflow.auth), PATH: `${VENV_BIN}:${process.env.PATH}` };
  await python({ pyEnv }, ['-c', 'import onnx, onnxruntime']).catch(() => {
    throw new Error('.venv lacks onnx/onnxruntime: .venv/bin/pip install -r scripts/requirements.txt');
  });
  const workDir = path.join(config.dataDir, database.replace(/^flywheel_/, '').replace(/_/g, '-'));
  await fsp.mkdir(workDir, { recursive: true });

  log(`database ${database}: recreating`);
  // Made with the admin login, owned by Flywheel's role (scripts/stack/postgres-roles.ts).
  const databaseUrl = await createScratchDatabase(config, database);
  await migrate(databaseUrl);
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // The gateway runs as deployed, authentication on: the client sends an API key.
  const { key: apiKey } = await createApiKey(db, { name: 'bench-serving', scopes: ['predict', 'metrics'] });

  log(`MLflow: registering ${nVersions} versions of ${BENCH_MODEL}`);
  const bytes = Array.from({ length: nVersions }, (_, i) => benchOnnx(i + 1));
  const versions: string[] = [];
  for (const b of bytes) versions.push(await ensureVersion(mlflow, b));
  await deployVersion(db, mlflow, { model: BENCH_MODEL, version: versions[0]! });
  return { config, mlflow, pyEnv, workDir, databaseUrl, db, apiKey, bytes, versions };
}

/** The deployed version's bytes logged as an MLflow `onnx` flavour model; returns its models URI. */
export async function logOnnxFlavour(stack: BenchStack): Promise<{ onnxPath: string; modelUri: string }> {
  const onnxPath = path.join(stack.workDir, 'model.onnx');
  await fsp.writeFile(onnxPath, stack.bytes[0]!);
  const modelUri = (await python(stack, ['bench/serving/log_onnx_model.py', onnxPath, `${BENCH_MODEL}-baseline`])).split('\n').pop()!;
  log(`MLflow onnx-flavour model: ${modelUri}`);
  return { onnxPath, modelUri };
}

/** serving/main.ts as deployed, on the scratch database; `nodeArgs` e.g. for --cpu-prof. */
export function startGateway(stack: BenchStack, port: number, threads: number, nodeArgs: string[] = []): Server {
  return startServer(
    'gateway',
    process.execPath,
    [...nodeArgs, '--import', 'tsx', 'serving/main.ts'],
    { ...process.env, DATABASE_URL: stack.databaseUrl, FLYWHEEL_GATEWAY_PORT: String(port), FLYWHEEL_GATEWAY_THREADS: String(threads), FLYWHEEL_LOG_LEVEL: 'warn' },
    path.join(stack.workDir, 'gateway.log'),
  );
}

export function startMlflowServe(stack: BenchStack, modelUri: string, port: number, workers: number): Server {
  return startServer(
    'mlflow models serve',
    path.join(VENV_BIN, 'mlflow'),
    ['models', 'serve', '-m', modelUri, '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(port), '-w', String(workers)],
    stack.pyEnv,
    path.join(stack.workDir, 'mlflow-serve.log'),
  );
}

export const PREDICT_PATH = `/v1/models/${BENCH_MODEL}/predict`;

export function gatewayTarget(port: number, apiKey: string, connections: number): Target {
  const client = new JsonClient(`http://127.0.0.1:${port}`, connections, { apiKey });
  return { name: 'gateway', client, send: async (features, i) => (await client.post(PREDICT_PATH, { unitKey: `u-${i % 5000}`, features })).status === 200 };
}

export function mlflowTarget(port: number, connections: number): Target {
  const client = new JsonClient(`http://127.0.0.1:${port}`, connections);
  return { name: 'mlflow models serve', client, send: async (features) => (await client.post('/invocations', { inputs: { features: [features] } })).status === 200 };
}

/** The iris rows every benchmark request draws from, in dataset order. */
export async function irisRows(): Promise<number[][]> {
  const iris = await loadDataset('builtin:iris');
  if (!iris.ok) throw new Error(iris.error.message);
  const ds = iris.value.dataset;
  return Array.from({ length: ds.nRows }, (_, r) => Array.from(ds.x.subarray(r * ds.nFeatures, (r + 1) * ds.nFeatures)));
}
