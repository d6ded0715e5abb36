/**
 * The MLflow tracking server from the project venv: PostgreSQL as backend store, artifacts stored
 * under the data folder and served by the server itself (clients need no filesystem access).
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths, PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { StackError } from './errors';
import { isHttpOk, isLocalHost } from './health';
import { launch, ownedProcess, stopProcess, type ProcessRecord, type ProcessSpec } from './processes';

export const MLFLOW = 'mlflow';
export const MLFLOW_BIN = path.join(PROJECT_ROOT, '.venv', 'bin', 'mlflow');

export function isMlflowLocal(config: FlywheelConfig): boolean {
  return isLocalHost(new URL(config.mlflow.trackingUri).hostname.replace(/^\[|\]$/g, ''));
}

/**
 * SQLAlchemy wants the dialect spelled `postgresql` (`postgres://` fails with "Can't load plugin"),
 * and since 2.1 a bare `postgresql://` means psycopg 3: name psycopg2, the driver we install.
 */
export function mlflowBackendStoreUri(config: FlywheelConfig): string {
  return config.postgres.mlflowUrl.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');
}

export function mlflowSpec(config: FlywheelConfig): ProcessSpec {
  return {
    name: MLFLOW,
    command: MLFLOW_BIN,
    args: [
      'server',
      '--host', '127.0.0.1',
      '--port', String(config.mlflow.port),
      // One uvicorn worker: the machine has two cores, the API is light, and each extra worker
      // costs ~250 MB. (Schema migrations run once, in the parent, before workers start.)
      '--workers', '1',
      '--serve-artifacts',
    ],
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      // In the environment rather than argv: a DATABASE_URL password must not show up in `ps`.
      MLFLOW_BACKEND_STORE_URI: mlflowBackendStoreUri(config),
      MLFLOW_ARTIFACTS_DESTINATION: dataPaths(config).mlflowArtifacts,
      // No outside network here; usage telemetry would only retry and log.
      MLFLOW_DISABLE_TELEMETRY: 'true',
      DO_NOT_TRACK: 'true',
      // The GenAI job runner (huey consumers) is extra processes Flywheel never uses.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
    },
  };
}

/** The server process answers, and so does its backend store. */
export async function isMlflowHealthy(config: FlywheelConfig): Promise<boolean> {
  const base = config.mlflow.trackingUri;
  return (await isHttpOk(`${base}/health`)) && (await isHttpOk(`${base}/api/2.0/mlflow/experiments/search?max_results=1`));
}

export async function ownedMlflow(config: FlywheelConfig): Promise<ProcessRecord | undefined> {
  return ownedProcess(config, MLFLOW);
}

export async function startMlflow(config: FlywheelConfig): Promise<ProcessRecord> {
  if (!fs.existsSync(MLFLOW_BIN)) {
    throw new StackError(`${MLFLOW_BIN} not found: run scripts/setup.sh (installs mlflow into .venv)`);
  }
  fs.mkdirSync(dataPaths(config).mlflowArtifacts, { recursive: true });
  // The first start creates MLflow's schema in PostgreSQL, which takes a while on two cores.
  return launch(config, mlflowSpec(config), { what: 'MLflow server', healthy: () => isMlflowHealthy(config), timeoutMs: 120_000 });
}

export async function stopMlflow(config: FlywheelConfig): Promise<boolean> {
  return stopProcess(config, MLFLOW);
}
