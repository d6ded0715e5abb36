/**
 * The MLflow tracking server from the project venv: PostgreSQL as backend store (its own role),
 * artifacts stored under the data folder and served by the server itself (clients need no
 * filesystem access), and MLflow's basic-auth app in front of all of it: every request but
 * /health needs the admin login `flywheel up` generated (<data>/credentials/mlflow.json, 0600),
 * which Flywheel's client sends (config.mlflow.auth) and MLflow's own clients read from
 * MLFLOW_TRACKING_USERNAME/PASSWORD.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { dataPaths, PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { mlflowCredentialsFile, readCredentials, type Login } from '../../config/local-credentials';
import { mlflowAuthHeader } from '../../clients/mlflow';
import { writeCredentialsFile } from './postgres-roles';
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

interface MlflowServerSecrets extends Login {
  /** Flask's key for the auth app's CSRF tokens (MLflow refuses to start the app without one). */
  secretKey: string;
}

/**
 * The admin login and Flask key, generated once. The auth app keeps its users in a SQLite file
 * beside the credentials; that store made with another (lost) password is started afresh, since
 * the admin password is only read when the store is empty.
 */
export function ensureMlflowAuth(config: FlywheelConfig): { secrets: MlflowServerSecrets; configFile: string; created: boolean } {
  const dir = path.join(config.dataDir, 'mlflow-auth');
  const file = mlflowCredentialsFile(config.dataDir);
  const store = path.join(dir, 'basic_auth.db');
  let secrets = readCredentials<MlflowServerSecrets>(file);
  const created = !secrets;
  if (!secrets) {
    secrets = { user: 'flywheel', password: randomBytes(24).toString('base64url'), secretKey: randomBytes(32).toString('hex') };
    fs.rmSync(store, { force: true });
    writeCredentialsFile(file, secrets);
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const configFile = path.join(dir, 'basic_auth.ini');
  fs.writeFileSync(
    configFile,
    [
      '# Written by `flywheel up` (scripts/stack/mlflow.ts) at every start; do not edit.',
      '[mlflow]',
      'default_permission = READ',
      `database_uri = sqlite:///${store}`,
      `admin_username = ${secrets.user}`,
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
      'grant_default_workspace_access = false',
      // One server process: a verified password is remembered for a minute instead of paying PBKDF2 per request.
      'auth_cache_ttl_seconds = 60',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return { secrets, configFile, created };
}

export function mlflowSpec(config: FlywheelConfig): ProcessSpec {
  const auth = ensureMlflowAuth(config);
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
      '--app-name', 'basic-auth',
    ],
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      // In the environment rather than argv: a DATABASE_URL password must not show up in `ps`.
      MLFLOW_BACKEND_STORE_URI: mlflowBackendStoreUri(config),
      MLFLOW_ARTIFACTS_DESTINATION: dataPaths(config).mlflowArtifacts,
      MLFLOW_AUTH_CONFIG_PATH: auth.configFile,
      MLFLOW_AUTH_ADMIN_PASSWORD: auth.secrets.password,
      MLFLOW_FLASK_SERVER_SECRET_KEY: auth.secrets.secretKey,
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
  return (await isHttpOk(`${base}/health`)) && (await isHttpOk(`${base}/api/2.0/mlflow/experiments/search?max_results=1`, 3000, mlflowAuthHeader(config.mlflow.auth)));
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
