/**
 * The one typed configuration of Flywheel, read from the environment. Every default lives here;
 * every other module receives a `FlywheelConfig` instead of reading `process.env` itself.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { mlflowCredentialsFile, postgresCredentialsFile, readCredentials, withLogin, type Login, type PostgresCredentials } from './local-credentials';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const port = z.coerce.number().int().min(1).max(65535);

const EnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_PORT: port.default(8233),
  /** TLS to the Temporal frontend (`on` also when any TEMPORAL_TLS_* file or TEMPORAL_API_KEY is set). */
  TEMPORAL_TLS: z.enum(['on', 'off']).optional(),
  /** PEM file of the CA that signed the frontend's certificate (else the system's roots). */
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  /** PEM client certificate and key for mTLS: both or neither. */
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  /** The name the frontend's certificate is checked against, when it differs from TEMPORAL_ADDRESS's host. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** Temporal Cloud API key (sent as a bearer token; implies TLS). */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  FLYWHEEL_TASK_QUEUE_WORKFLOWS: z.string().min(1).default('flywheel-workflows'),
  FLYWHEEL_TASK_QUEUE_CPU: z.string().min(1).default('flywheel-cpu'),
  /** Quick control-plane activities (traffic weights, registry tags, analysis reads, bookkeeping): never behind training. */
  FLYWHEEL_TASK_QUEUE_CONTROL: z.string().min(1).default('flywheel-control'),
  FLYWHEEL_TASK_QUEUE_GPU: z.string().min(1).default('flywheel-gpu'),
  /** The PyTorch pool's queue when its worker has no GPU (gpu-worker started with --device cpu). */
  FLYWHEEL_TASK_QUEUE_CPU_TORCH: z.string().min(1).default('flywheel-cpu-torch'),
  /** How long torch training waits for a GPU worker before it falls back (or fails, with --pool gpu). */
  FLYWHEEL_GPU_WAIT_SECONDS: z.coerce.number().int().min(1).max(86400).default(60),
  /** When unset, `flywheel up` runs a project-local PostgreSQL cluster on FLYWHEEL_PG_PORT. */
  DATABASE_URL: z.string().url().optional(),
  /** With DATABASE_URL: MLflow's backend store, when its role is not Flywheel's (backups dump it). */
  FLYWHEEL_MLFLOW_DATABASE_URL: z.string().url().optional(),
  FLYWHEEL_PG_PORT: port.default(5433),
  /** The database of the local cluster (the integration tests use their own: test/integration/helpers/global-setup.ts). */
  FLYWHEEL_PG_DATABASE: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier').default('flywheel'),
  MLFLOW_TRACKING_URI: z.string().url().default('http://127.0.0.1:5000'),
  MLFLOW_PORT: port.default(5000),
  /** MLflow's standard client credentials: a bearer token, or basic auth (both halves). Unset, a
   * local MLflow's generated admin login (<data>/credentials/mlflow.json) is used. */
  MLFLOW_TRACKING_TOKEN: z.string().min(1).optional(),
  MLFLOW_TRACKING_USERNAME: z.string().min(1).optional(),
  MLFLOW_TRACKING_PASSWORD: z.string().min(1).optional(),
  FLYWHEEL_DATA_DIR: z.string().min(1).optional(),
  FLYWHEEL_WORKFLOW_WORKER_METRICS_PORT: port.default(9464),
  FLYWHEEL_CPU_WORKER_METRICS_PORT: port.default(9465),
  FLYWHEEL_CPU_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(64).default(2),
  FLYWHEEL_CONTROL_WORKER_METRICS_PORT: port.default(9467),
  /** Control activities take milliseconds and mostly wait on PostgreSQL or MLflow: many slots are cheap. */
  FLYWHEEL_CONTROL_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(256).default(16),
  /** After SIGTERM/SIGINT a worker stops polling and gives in-flight activities this long before cancelling them. */
  FLYWHEEL_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** `flywheel up` runs the local stack under supervisord when installed (auto), or detached (off). */
  FLYWHEEL_SUPERVISOR: z.enum(['auto', 'off']).default('auto'),
  /**
   * Where workers share datasets, artifacts and checkpoints (datasets/file-store.ts). mlflow-isolated:
   * never read a path outside this worker's own folder even when it is visible (the integration tests'
   * hosts, all on one machine); off: one host, its data folder alone.
   */
  FLYWHEEL_FILE_STORE: z.enum(['mlflow', 'mlflow-isolated', 'off']).default('mlflow'),
  /** Read by the Python worker (gpu-worker/): default one training per visible GPU, one on a CPU. */
  FLYWHEEL_GPU_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(64).optional(),
  FLYWHEEL_GPU_WORKER_METRICS_PORT: port.default(9466),
  /** Where the workers' Prometheus endpoints listen (0.0.0.0 lets a scraper on another host or container reach them). */
  FLYWHEEL_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** `flywheel up` also runs Prometheus, Alertmanager and the PostgreSQL exporter (on), or not (off). */
  FLYWHEEL_MONITORING: z.enum(['on', 'off']).default('on'),
  FLYWHEEL_PROMETHEUS_PORT: port.default(9090),
  FLYWHEEL_ALERTMANAGER_PORT: port.default(9093),
  FLYWHEEL_POSTGRES_EXPORTER_PORT: port.default(9187),
  /** prometheus-node-exporter (filesystems for the disk alert, load, memory). */
  FLYWHEEL_NODE_EXPORTER_PORT: port.default(9100),
  /** The local Temporal dev server's own Prometheus endpoint (`temporal server start-dev --metrics-port`). */
  FLYWHEEL_TEMPORAL_METRICS_PORT: port.default(9468),
  /** Where `flywheel backup` writes (default: beside the data folder, `<data>-backups`, so losing one does not lose both). */
  FLYWHEEL_BACKUP_DIR: z.string().min(1).optional(),
  FLYWHEEL_BACKUP_RETENTION_DAYS: z.coerce.number().positive().default(30),
  FLYWHEEL_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  FLYWHEEL_GIT_COMMIT: z.string().optional(),
  FLYWHEEL_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  FLYWHEEL_GATEWAY_PORT: port.default(8088),
  /** PEM certificate and key: both set, the gateway serves HTTPS only. */
  FLYWHEEL_GATEWAY_TLS_CERT: z.string().min(1).optional(),
  FLYWHEEL_GATEWAY_TLS_KEY: z.string().min(1).optional(),
  /** PEM CA the CLI and the load generator trust for an https gateway (beside the system's roots). */
  FLYWHEEL_GATEWAY_CA: z.string().min(1).optional(),
  /** Worker threads holding ONNX sessions: inference never runs on the gateway's event loop.
   * 0: sessions on the event loop, for small models (serving/inline-sessions.ts). */
  FLYWHEEL_GATEWAY_THREADS: z.coerce.number().int().min(0).max(32).default(2),
  /** With threads: a small model's runs move to the event loop once they are measured to cost
   * less than this (ms per run), below a thread's round trip (lib/serving/placement.ts). 0: never. */
  FLYWHEEL_GATEWAY_INLINE_MAX_MS: z.coerce.number().min(0).max(10).default(0.2),
  /** Fallback for missed NOTIFYs (a dropped listener connection). */
  FLYWHEEL_GATEWAY_POLL_MS: z.coerce.number().int().min(100).default(5000),
  FLYWHEEL_GATEWAY_FLUSH_MS: z.coerce.number().int().min(10).default(200),
  FLYWHEEL_GATEWAY_FLUSH_ROWS: z.coerce.number().int().min(1).max(10000).default(500),
  /** Predictions waiting to be written past this many are dropped (and counted), never queued without bound. */
  FLYWHEEL_GATEWAY_BUFFER_ROWS: z.coerce.number().int().min(100).default(50000),
  /** Days of history kept in the traffic tables before today (whole daily partitions are dropped past it; 0 keeps everything). */
  FLYWHEEL_TRAFFIC_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).default(90),
  /** Per-table overrides of FLYWHEEL_TRAFFIC_RETENTION_DAYS. */
  FLYWHEEL_PREDICTIONS_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).optional(),
  FLYWHEEL_FEEDBACK_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).optional(),
  FLYWHEEL_ONLINE_PREDICTIONS_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).optional(),
  FLYWHEEL_SHADOW_PREDICTIONS_RETENTION_DAYS: z.coerce.number().int().min(0).max(36500).optional(),
  /** Daily partitions created this many days ahead of today. */
  FLYWHEEL_TRAFFIC_PARTITIONS_AHEAD_DAYS: z.coerce.number().int().min(1).max(366).default(7),
  /** Served rows whose features are stored, per model per UTC day per gateway, unless `flywheel data logging` sets another budget. */
  FLYWHEEL_FEATURE_LOG_DAILY_ROWS: z.coerce.number().int().min(0).default(1_000_000),
  /** Requests waiting for their shadow run (serving/shadow.ts) past this many are dropped (and counted): a shadow never slows the caller. */
  FLYWHEEL_GATEWAY_SHADOW_QUEUE: z.coerce.number().int().min(1).default(2000),
  /** How often the gateway recomputes its per-segment gauges and the segment-behind evidence (serving/segment-gauges.ts); 0: never. */
  FLYWHEEL_SEGMENT_CHECK_INTERVAL_S: z.coerce.number().int().min(0).default(300),
  /** The segment evidence's window: it accumulates from the start of the previous whole window (lib/segments/alert.ts). */
  FLYWHEEL_SEGMENT_WINDOW_HOURS: z.coerce.number().int().min(1).max(24 * 31).default(24),
  /** Tolerated excess of a segment's error odds over the rest's (0.2: 20 %), and the false flag rate per segment per window. */
  FLYWHEEL_SEGMENT_MARGIN: z.coerce.number().min(0).default(0.2),
  FLYWHEEL_SEGMENT_ALPHA: z.coerce.number().gt(0).lt(1).default(0.01),
  /** `on` (default): every route but /healthz needs an API key or an OIDC token; `off` is an explicit opt-out. */
  FLYWHEEL_GATEWAY_AUTH: z.enum(['on', 'off']).default('on'),
  /** Requests per minute per authenticated client (0: no limit). */
  FLYWHEEL_GATEWAY_RATE_LIMIT: z.coerce.number().int().min(0).default(600000),
  /** How long a verified API key is trusted before it is read again: a revocation takes effect within this. */
  FLYWHEEL_GATEWAY_KEY_CACHE_MS: z.coerce.number().int().min(0).max(60000).default(3000),
  /** OIDC issuer whose bearer JWTs the gateway accepts (its discovery document names the JWKS); unset: API keys only. */
  FLYWHEEL_OIDC_ISSUER: z.string().url().optional(),
  FLYWHEEL_OIDC_AUDIENCE: z.string().min(1).default('flywheel-gateway'),
  FLYWHEEL_OIDC_CLOCK_SKEW_S: z.coerce.number().int().min(0).max(300).default(30),
  /** The API key the CLI and the load generator send (else the key file `flywheel up` wrote). */
  FLYWHEEL_API_KEY: z.string().min(1).optional(),
});

/**
 * A stopping worker gives up on activities that ignore cancellation this long after the grace time,
 * so it always exits: whatever stops it (flywheel down, Kubernetes) must wait grace + this + a margin.
 */
export const SHUTDOWN_FORCE_MARGIN_SECONDS = 15;

/** Every environment variable Flywheel reads: deployment files (compose) are checked against it. */
export const ENV_VARIABLES = Object.keys(EnvSchema.shape) as ReadonlyArray<keyof typeof EnvSchema.shape>;

export interface FlywheelConfig {
  temporal: { address: string; namespace: string; uiPort: number; tls?: TemporalTlsConfig; apiKey?: string };
  taskQueues: { workflows: string; cpu: string; control: string; gpu: string; cpuTorch: string };
  /** Seconds torch training waits for a GPU worker to pick it up. */
  gpuWaitSeconds: number;
  postgres: {
    /** The URL of Flywheel's operational database. */
    url: string;
    /** True when the URL came from DATABASE_URL, so Flywheel must not manage a cluster. */
    external: boolean;
    localPort: number;
    /** The URL of MLflow's backend store (a separate database on the same server). */
    mlflowUrl: string;
    /**
     * A role that may create databases and roles: the local cluster's superuser (in its `postgres`
     * database), or DATABASE_URL itself. For `flywheel up`, tests and benchmarks, never the services.
     */
    adminUrl: string;
    /** The local cluster's generated logins (undefined for DATABASE_URL, or a cluster made before them). */
    credentials?: PostgresCredentials;
  };
  mlflow: { trackingUri: string; port: number; auth?: MlflowAuth };
  dataDir: string;
  metrics: { host: string; workflowWorkerPort: number; cpuWorkerPort: number; controlWorkerPort: number; gpuWorkerPort: number; temporalPort: number };
  monitoring: { enabled: boolean; prometheusPort: number; alertmanagerPort: number; postgresExporterPort: number; nodeExporterPort: number };
  cpuWorker: { maxConcurrentActivities: number };
  controlWorker: { maxConcurrentActivities: number };
  /** Seconds a stopping worker lets in-flight activities finish before cancelling them. */
  shutdownGraceSeconds: number;
  /** Whether the local stack may run its services under supervisord (scripts/stack/supervisor.ts). */
  supervisor: 'auto' | 'off';
  /** 'mlflow': files pass between workers through MLflow's artifact proxy; 'off': one shared data folder. */
  fileStore: 'mlflow' | 'mlflow-isolated' | 'off';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  gitCommit?: string;
  backup: { dir: string; retentionDays: number };
  /** Time partitions of predictions, feedback, online_predictions and shadow_predictions (activities/traffic-partitions.ts). */
  traffic: { retentionDays: Record<'predictions' | 'feedback' | 'online_predictions' | 'shadow_predictions', number>; aheadDays: number };
  gateway: {
    host: string;
    port: number;
    /** Where clients (CLI, load generator) reach the gateway. */
    url: string;
    threads: number;
    inlineMaxMs: number;
    pollMs: number;
    flushMs: number;
    flushRows: number;
    maxBufferRows: number;
    /** Default daily budget of rows stored with their features, per model (lib/features/log-policy.ts). */
    featureLogDailyRows: number;
    /** Requests queued for their shadow run before more are dropped. */
    shadowQueue: number;
    /** The per-segment gauges (serving/segment-gauges.ts): how often, over which window, with which margin and α. */
    segments: { intervalMs: number; windowMs: number; margin: number; alpha: number };
    auth: GatewayAuthConfig;
    /** PEM files the gateway serves HTTPS with (FLYWHEEL_GATEWAY_TLS_CERT/KEY). */
    tls?: { certPath: string; keyPath: string };
    /** PEM CA file clients trust for the gateway (FLYWHEEL_GATEWAY_CA). */
    caPath?: string;
  };
  /** The API key clients (CLI, traffic replay) send, when given by FLYWHEEL_API_KEY. */
  apiKey?: string;
}

/** Paths, not contents: clients/temporal.ts reads the files when it connects. */
export interface TemporalTlsConfig {
  caPath?: string;
  certPath?: string;
  keyPath?: string;
  serverName?: string;
}

export interface GatewayAuthConfig {
  enabled: boolean;
  rateLimitPerMinute: number;
  keyCacheMs: number;
  oidc?: { issuer: string; audience: string; clockToleranceS: number };
}

/** How Flywheel's MLflow client authenticates (the standard MLFLOW_TRACKING_* variables). */
export type MlflowAuth = { token: string } | { username: string; password: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): FlywheelConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid environment variable ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  if ((e.TEMPORAL_TLS_CERT === undefined) !== (e.TEMPORAL_TLS_KEY === undefined)) {
    throw new ConfigError('invalid environment variables TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: a client certificate needs its key (set both or neither)');
  }
  if ((e.FLYWHEEL_GATEWAY_TLS_CERT === undefined) !== (e.FLYWHEEL_GATEWAY_TLS_KEY === undefined)) {
    throw new ConfigError('invalid environment variables FLYWHEEL_GATEWAY_TLS_CERT/FLYWHEEL_GATEWAY_TLS_KEY: HTTPS needs both the certificate and its key');
  }
  const tlsFiles = e.TEMPORAL_TLS_CA ?? e.TEMPORAL_TLS_CERT ?? e.TEMPORAL_TLS_SERVER_NAME;
  if (e.TEMPORAL_TLS === 'off' && (tlsFiles !== undefined || e.TEMPORAL_API_KEY !== undefined)) {
    throw new ConfigError('invalid environment variable TEMPORAL_TLS: off, but TEMPORAL_TLS_* or TEMPORAL_API_KEY is set (an API key is never sent in clear text)');
  }
  const temporalTls = e.TEMPORAL_TLS === 'on' || tlsFiles !== undefined || e.TEMPORAL_API_KEY !== undefined;
  const gatewayTls = e.FLYWHEEL_GATEWAY_TLS_CERT !== undefined && e.FLYWHEEL_GATEWAY_TLS_KEY !== undefined;
  if ((e.MLFLOW_TRACKING_USERNAME === undefined) !== (e.MLFLOW_TRACKING_PASSWORD === undefined)) {
    throw new ConfigError('invalid environment variables MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD: basic auth needs both');
  }
  const dataDir = path.resolve(e.FLYWHEEL_DATA_DIR ?? path.join(PROJECT_ROOT, '.flywheel'));
  const postgres: FlywheelConfig['postgres'] = e.DATABASE_URL
    ? { url: e.DATABASE_URL, external: true, localPort: e.FLYWHEEL_PG_PORT, mlflowUrl: e.FLYWHEEL_MLFLOW_DATABASE_URL ?? withDatabase(e.DATABASE_URL, 'mlflow'), adminUrl: e.DATABASE_URL }
    : localPostgres(dataDir, e.FLYWHEEL_PG_PORT, e.FLYWHEEL_PG_DATABASE);
  const trackingUri = e.MLFLOW_TRACKING_URI.replace(/\/+$/, '');
  const envMlflowAuth: MlflowAuth | undefined = e.MLFLOW_TRACKING_TOKEN
    ? { token: e.MLFLOW_TRACKING_TOKEN }
    : e.MLFLOW_TRACKING_USERNAME && e.MLFLOW_TRACKING_PASSWORD
      ? { username: e.MLFLOW_TRACKING_USERNAME, password: e.MLFLOW_TRACKING_PASSWORD }
      : undefined;
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      uiPort: e.TEMPORAL_UI_PORT,
      ...(temporalTls
        ? {
            tls: {
              ...(e.TEMPORAL_TLS_CA ? { caPath: path.resolve(e.TEMPORAL_TLS_CA) } : {}),
              ...(e.TEMPORAL_TLS_CERT && e.TEMPORAL_TLS_KEY ? { certPath: path.resolve(e.TEMPORAL_TLS_CERT), keyPath: path.resolve(e.TEMPORAL_TLS_KEY) } : {}),
              ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
            },
          }
        : {}),
      ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
    },
    taskQueues: { workflows: e.FLYWHEEL_TASK_QUEUE_WORKFLOWS, cpu: e.FLYWHEEL_TASK_QUEUE_CPU, control: e.FLYWHEEL_TASK_QUEUE_CONTROL, gpu: e.FLYWHEEL_TASK_QUEUE_GPU, cpuTorch: e.FLYWHEEL_TASK_QUEUE_CPU_TORCH },
    gpuWaitSeconds: e.FLYWHEEL_GPU_WAIT_SECONDS,
    postgres,
    mlflow: {
      trackingUri,
      port: e.MLFLOW_PORT,
      // Read when first used: `flywheel up` generates the local login after the config is loaded.
      get auth(): MlflowAuth | undefined {
        return envMlflowAuth ?? localMlflowAuth(dataDir, trackingUri, e.MLFLOW_PORT);
      },
    },
    dataDir,
    metrics: {
      host: e.FLYWHEEL_METRICS_HOST,
      workflowWorkerPort: e.FLYWHEEL_WORKFLOW_WORKER_METRICS_PORT,
      cpuWorkerPort: e.FLYWHEEL_CPU_WORKER_METRICS_PORT,
      controlWorkerPort: e.FLYWHEEL_CONTROL_WORKER_METRICS_PORT,
      gpuWorkerPort: e.FLYWHEEL_GPU_WORKER_METRICS_PORT,
      temporalPort: e.FLYWHEEL_TEMPORAL_METRICS_PORT,
    },
    monitoring: {
      enabled: e.FLYWHEEL_MONITORING === 'on',
      prometheusPort: e.FLYWHEEL_PROMETHEUS_PORT,
      alertmanagerPort: e.FLYWHEEL_ALERTMANAGER_PORT,
      postgresExporterPort: e.FLYWHEEL_POSTGRES_EXPORTER_PORT,
      nodeExporterPort: e.FLYWHEEL_NODE_EXPORTER_PORT,
    },
    cpuWorker: { maxConcurrentActivities: e.FLYWHEEL_CPU_MAX_CONCURRENT_ACTIVITIES },
    controlWorker: { maxConcurrentActivities: e.FLYWHEEL_CONTROL_MAX_CONCURRENT_ACTIVITIES },
    shutdownGraceSeconds: e.FLYWHEEL_SHUTDOWN_GRACE_SECONDS,
    supervisor: e.FLYWHEEL_SUPERVISOR,
    fileStore: e.FLYWHEEL_FILE_STORE,
    logLevel: e.FLYWHEEL_LOG_LEVEL,
    gitCommit: e.FLYWHEEL_GIT_COMMIT,
    backup: {
      dir: path.resolve(e.FLYWHEEL_BACKUP_DIR ?? `${path.resolve(e.FLYWHEEL_DATA_DIR ?? path.join(PROJECT_ROOT, '.flywheel'))}-backups`),
      retentionDays: e.FLYWHEEL_BACKUP_RETENTION_DAYS,
    },
    traffic: {
      retentionDays: {
        predictions: e.FLYWHEEL_PREDICTIONS_RETENTION_DAYS ?? e.FLYWHEEL_TRAFFIC_RETENTION_DAYS,
        feedback: e.FLYWHEEL_FEEDBACK_RETENTION_DAYS ?? e.FLYWHEEL_TRAFFIC_RETENTION_DAYS,
        online_predictions: e.FLYWHEEL_ONLINE_PREDICTIONS_RETENTION_DAYS ?? e.FLYWHEEL_TRAFFIC_RETENTION_DAYS,
        shadow_predictions: e.FLYWHEEL_SHADOW_PREDICTIONS_RETENTION_DAYS ?? e.FLYWHEEL_TRAFFIC_RETENTION_DAYS,
      },
      aheadDays: e.FLYWHEEL_TRAFFIC_PARTITIONS_AHEAD_DAYS,
    },
    gateway: {
      host: e.FLYWHEEL_GATEWAY_HOST,
      port: e.FLYWHEEL_GATEWAY_PORT,
      url: `${gatewayTls ? 'https' : 'http'}://${gatewayClientHost(e.FLYWHEEL_GATEWAY_HOST)}:${e.FLYWHEEL_GATEWAY_PORT}`,
      threads: e.FLYWHEEL_GATEWAY_THREADS,
      inlineMaxMs: e.FLYWHEEL_GATEWAY_INLINE_MAX_MS,
      pollMs: e.FLYWHEEL_GATEWAY_POLL_MS,
      flushMs: e.FLYWHEEL_GATEWAY_FLUSH_MS,
      flushRows: e.FLYWHEEL_GATEWAY_FLUSH_ROWS,
      maxBufferRows: e.FLYWHEEL_GATEWAY_BUFFER_ROWS,
      featureLogDailyRows: e.FLYWHEEL_FEATURE_LOG_DAILY_ROWS,
      shadowQueue: e.FLYWHEEL_GATEWAY_SHADOW_QUEUE,
      segments: { intervalMs: e.FLYWHEEL_SEGMENT_CHECK_INTERVAL_S * 1000, windowMs: e.FLYWHEEL_SEGMENT_WINDOW_HOURS * 3_600_000, margin: e.FLYWHEEL_SEGMENT_MARGIN, alpha: e.FLYWHEEL_SEGMENT_ALPHA },
      auth: {
        enabled: e.FLYWHEEL_GATEWAY_AUTH === 'on',
        rateLimitPerMinute: e.FLYWHEEL_GATEWAY_RATE_LIMIT,
        keyCacheMs: e.FLYWHEEL_GATEWAY_KEY_CACHE_MS,
        ...(e.FLYWHEEL_OIDC_ISSUER
          ? { oidc: { issuer: e.FLYWHEEL_OIDC_ISSUER, audience: e.FLYWHEEL_OIDC_AUDIENCE, clockToleranceS: e.FLYWHEEL_OIDC_CLOCK_SKEW_S } }
          : {}),
      },
      ...(gatewayTls ? { tls: { certPath: path.resolve(e.FLYWHEEL_GATEWAY_TLS_CERT!), keyPath: path.resolve(e.FLYWHEEL_GATEWAY_TLS_KEY!) } } : {}),
      ...(e.FLYWHEEL_GATEWAY_CA ? { caPath: path.resolve(e.FLYWHEEL_GATEWAY_CA) } : {}),
    },
    ...(e.FLYWHEEL_API_KEY ? { apiKey: e.FLYWHEEL_API_KEY } : {}),
  };
}

/**
 * The project-local cluster: logins generated by `flywheel up` (config/local-credentials.ts), read
 * when first asked for. A cluster made before them (trust authentication) has no file: then the
 * URLs carry no password, as they always did.
 */
function localPostgres(dataDir: string, port: number, database: string): FlywheelConfig['postgres'] {
  const base = `postgres://flywheel@127.0.0.1:${port}/${database}`;
  let found: PostgresCredentials | undefined;
  const read = () => (found ??= readCredentials<PostgresCredentials>(postgresCredentialsFile(dataDir)));
  return {
    external: false,
    localPort: port,
    get url() {
      const c = read();
      return c ? withLogin(base, c.app) : base;
    },
    get mlflowUrl() {
      const c = read();
      return withDatabase(c ? withLogin(base, c.mlflow) : base, 'mlflow');
    },
    get adminUrl() {
      const c = read();
      return withDatabase(c ? withLogin(base, c.superuser) : base, 'postgres');
    },
    get credentials() {
      return read();
    },
  };
}

/** The local MLflow's admin login, sent only to that server (loopback, its own port). */
function localMlflowAuth(dataDir: string, trackingUri: string, port: number): MlflowAuth | undefined {
  const u = new URL(trackingUri);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (!loopback || Number(u.port || (u.protocol === 'https:' ? 443 : 80)) !== port) return undefined;
  const login = readCredentials<Login>(mlflowCredentialsFile(dataDir));
  return login ? { username: login.user, password: login.password } : undefined;
}

/** A gateway bound to every interface is still reached on loopback from this machine. */
function gatewayClientHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** The same server and credentials, another database: MLflow keeps its own schema apart from ours. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Folders under the data directory; created by whoever writes there first. */
export function dataPaths(config: FlywheelConfig) {
  const d = config.dataDir;
  return {
    datasets: path.join(d, 'datasets'),
    artifacts: path.join(d, 'artifacts'),
    checkpoints: path.join(d, 'checkpoints'),
    run: path.join(d, 'run'),
    logs: path.join(d, 'logs'),
    postgres: path.join(d, 'postgres'),
    temporalDb: path.join(d, 'temporal.sqlite'),
    mlflowArtifacts: path.join(d, 'mlflow-artifacts'),
    /** 0700: the local admin key `flywheel up` creates (cli.key, 0600). */
    credentials: path.join(d, 'credentials'),
    /** Generated prometheus.yml / alertmanager.yml, Prometheus' TSDB and Alertmanager's state. */
    monitoring: path.join(d, 'monitoring'),
  };
}
