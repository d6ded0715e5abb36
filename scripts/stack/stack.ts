/**
 * The local stack as one thing: `up` brings up what is not already healthy, in dependency order,
 * `down` stops what Flywheel started (and only that), `status` says how each part is.
 * A service that answers but was not started by Flywheel is "external" and never touched.
 */
import fs from 'node:fs';
import { dataPaths, type FlywheelConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import pg from 'pg';
import { maintainTrafficPartitions } from '../../activities/traffic-partitions';
import { StackError } from './errors';
import { isPortOpen, parseHostPort } from './health';
import { withStackLock } from './lock';
import { isMlflowHealthy, isMlflowLocal, ownedMlflow, startMlflow, stopMlflow, MLFLOW } from './mlflow';
import { clusterFolderNeeds, ensureDatabases, isPostgresHealthy, ownedPostgres, postgresLayout, redact, startPostgres, stopPostgres, POSTGRES } from './postgres';
import { PRIVATE_UMASK, tightenDataFolder } from './private-files';
import { logFile, stopProcess, type ProcessRecord } from './processes';
import { findSupervisord, isSupervisordRunning, noSupervisorWarning, shutdownSupervisord, supervisorLayout } from './supervisor';
import { ensureCliKey } from './cli-key';
import { startKeycloak } from './keycloak';
import { ensureSearchAttributes, isTemporalHealthy, isTemporalLocal, ownedTemporal, startTemporal, stopTemporal, temporalUiUrl, TEMPORAL } from './temporal';
import { isWorkerHealthy, ownedWorker, startWorker, stopWorker, workerMetricsPort, workerMetricsUrl, WORKER_NAMES, type WorkerName } from './workers';
import { gatewayService, GATEWAY } from './gateway';
import { gpuWorkerService, GPU_WORKER } from './gpu-worker';
import { alertmanagerUrl, ensureMetricsKey, monitoringService, prometheusUrl, reloadPrometheus, writeMonitoringConfig, MONITORING_NAMES, PROMETHEUS, type MonitoringName } from './monitoring';

export type ServiceName = typeof POSTGRES | typeof TEMPORAL | typeof MLFLOW | WorkerName | typeof GPU_WORKER | typeof GATEWAY | MonitoringName;
export type ServiceState = 'running' | 'stopped' | 'external' | 'unhealthy';

export interface ServiceStatus {
  name: ServiceName;
  state: ServiceState;
  pid?: number;
  url?: string;
  detail?: string;
}

export interface ProgressEvent {
  service: ServiceName | 'migrations' | 'stack' | 'credentials' | 'keycloak' | 'supervisord' | 'monitoring';
  message: string;
}

/** Gets a ready-to-print line ("temporal: ready in 2.1 s (pid 123)") and the same as data. */
export type ProgressListener = (line: string, event: ProgressEvent) => void;

export interface UpOptions {
  /** Also start Flywheel's workers and gateway (default true). */
  workers?: boolean;
  /** Start the PyTorch worker on CUDA only (it fails clearly without a GPU); default: CUDA if present, else CPU. */
  gpu?: boolean;
  /** Also start a local Keycloak (OIDC issuer) with the flywheel realm (scripts/stack/keycloak.ts). */
  authIdp?: boolean;
  /** Also start Prometheus, Alertmanager and the exporters (default: FLYWHEEL_MONITORING, on). */
  monitoring?: boolean;
  onProgress?: ProgressListener;
}

export interface StackUrls {
  temporalUi: string;
  temporal: string;
  mlflowUi: string;
  database: string;
  /** Present when monitoring is part of the stack. */
  prometheus?: string;
  alertmanager?: string;
}

export interface UpResult {
  services: ServiceStatus[];
  urls: StackUrls;
  startedNow: ServiceName[];
  migrationsApplied: string[];
  elapsedMs: number;
}

interface Service {
  name: ServiceName;
  label: string;
  /** Whether Flywheel may start it: only what runs on this machine, from our own config. */
  startable(config: FlywheelConfig): boolean;
  healthy(config: FlywheelConfig): Promise<boolean>;
  owned(config: FlywheelConfig): Promise<ProcessRecord | undefined>;
  start(config: FlywheelConfig, note: (line: string) => void): Promise<ProcessRecord>;
  stop(config: FlywheelConfig): Promise<boolean>;
  url(config: FlywheelConfig): string;
  logFile(config: FlywheelConfig): Promise<string>;
  /** Ports we bind, with the variable that moves each, to explain a clash before starting. */
  ports(config: FlywheelConfig): Array<{ port: number; env: string }>;
  /** Part of the optional monitoring (FLYWHEEL_MONITORING, `up --no-monitoring`). */
  monitoring?: true;
  /** Why it cannot run on this machine (a package is missing): `up` says so and goes on without it. */
  unavailable?(): string | undefined;
}

function worker(name: WorkerName): Service {
  return {
    name,
    label: name,
    startable: () => true,
    healthy: (c) => isWorkerHealthy(c, name),
    owned: (c) => ownedWorker(c, name),
    start: (c) => startWorker(c, name),
    stop: (c) => stopWorker(c, name),
    url: (c) => workerMetricsUrl(c, name),
    logFile: async (c) => logFile(c, name),
    ports: (c) => [workerMetricsPort(c, name)],
  };
}

/** In start order; down and status use the same list (the GPU worker's device matters only to start). */
function servicesFor(opts: { gpu?: boolean } = {}): readonly Service[] {
  return [...BACKING_SERVICES, ...WORKER_NAMES.map(worker), gpuWorkerService(opts.gpu ? 'cuda' : 'auto'), gatewayService, ...MONITORING_NAMES.map(monitoringService)];
}

const BACKING_SERVICES: readonly Service[] = [
  {
    name: POSTGRES,
    label: 'PostgreSQL',
    startable: (c) => !c.postgres.external,
    healthy: isPostgresHealthy,
    owned: ownedPostgres,
    start: startPostgres,
    stop: stopPostgres,
    url: (c) => redact(c.postgres.url),
    logFile: async (c) => (await postgresLayout(c)).logFile,
    ports: (c) => [{ port: c.postgres.localPort, env: 'FLYWHEEL_PG_PORT' }],
  },
  {
    name: TEMPORAL,
    label: 'Temporal',
    startable: isTemporalLocal,
    healthy: isTemporalHealthy,
    owned: ownedTemporal,
    start: startTemporal,
    stop: stopTemporal,
    url: (c) => c.temporal.address,
    logFile: async (c) => logFile(c, TEMPORAL),
    ports: (c) => [
      { port: parseHostPort(c.temporal.address).port, env: 'TEMPORAL_ADDRESS' },
      { port: c.temporal.uiPort, env: 'TEMPORAL_UI_PORT' },
    ],
  },
  {
    name: MLFLOW,
    label: 'MLflow',
    startable: isMlflowLocal,
    healthy: isMlflowHealthy,
    owned: ownedMlflow,
    start: startMlflow,
    stop: stopMlflow,
    url: (c) => c.mlflow.trackingUri,
    logFile: async (c) => logFile(c, MLFLOW),
    ports: (c) => [{ port: c.mlflow.port, env: 'MLFLOW_PORT' }],
  },
];

const SERVICES = servicesFor();

// `up --no-workers` starts the backing services only: Flywheel's own processes (workers, gateway) stay down.
const isWorker = (s: Service) => ([...WORKER_NAMES, GPU_WORKER, GATEWAY] as readonly string[]).includes(s.name);

function checkConsistent(config: FlywheelConfig): void {
  const u = new URL(config.mlflow.trackingUri);
  const uriPort = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  if (isMlflowLocal(config) && uriPort !== config.mlflow.port) {
    throw new StackError(`MLFLOW_TRACKING_URI (${config.mlflow.trackingUri}) and MLFLOW_PORT (${config.mlflow.port}) disagree: the server would listen where nobody looks`);
  }
}

function reporter(listener: ProgressListener | undefined) {
  return (service: ProgressEvent['service'], message: string) => listener?.(`${service}: ${message}`, { service, message });
}

type Outcome = 'started' | 'running' | 'external';

async function ensure(config: FlywheelConfig, svc: Service, say: (m: string) => void): Promise<Outcome> {
  let owned = await svc.owned(config);
  if (owned?.supervised && !owned.supervisorState && findSupervisord(config)) {
    // Left running by a supervisord that died: nothing would bring it back, so hand it to the new one.
    say(`pid ${owned.pid} runs without its supervisor (supervisord was gone): restarting it under supervisord`);
    await svc.stop(config);
    owned = undefined;
  }
  if (await svc.healthy(config)) {
    const unsupervised = owned && !owned.supervised && findSupervisord(config) ? ', not under supervisord (started without it): `flywheel down` then `up` puts it there' : '';
    say(owned ? `already running (pid ${owned.pid})${unsupervised}` : `already running at ${svc.url(config)}, not started by Flywheel: left alone`);
    return owned ? 'running' : 'external';
  }
  if (!svc.startable(config)) {
    throw new StackError(`${svc.label} at ${svc.url(config)} does not answer; Flywheel starts only local services, so start it or point the configuration elsewhere`);
  }
  if (owned) {
    say(`pid ${owned.pid} does not answer: restarting it (log: ${owned.logFile})`);
    await svc.stop(config);
  } else {
    for (const { port, env } of svc.ports(config)) {
      if (await isPortOpen('127.0.0.1', port)) {
        throw new StackError(`port ${port} is taken by a program that is not a healthy ${svc.label}: stop it, or set ${env} to move ${svc.label}`);
      }
    }
  }
  const t0 = Date.now();
  say(`starting (log: ${await svc.logFile(config)})`);
  const record = await svc.start(config, say);
  say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${record.pid})`);
  return 'started';
}

export function stackUrls(config: FlywheelConfig, monitoring = config.monitoring.enabled): StackUrls {
  return {
    temporalUi: temporalUiUrl(config),
    temporal: config.temporal.address,
    mlflowUi: config.mlflow.trackingUri,
    database: redact(config.postgres.url),
    ...(monitoring ? { prometheus: prometheusUrl(config), alertmanager: alertmanagerUrl(config) } : {}),
  };
}

/** Starts, in order, PostgreSQL → migrations → Temporal → MLflow → workers: each only if needed. */
export async function up(config: FlywheelConfig, opts: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const progress = reporter(opts.onProgress);
  checkConsistent(config);
  // What `up` itself writes in the data folder (configs, keys, folders) is private too.
  const previousUmask = process.umask(PRIVATE_UMASK);
  try {
    return await upLocked(config, opts, t0, progress);
  } finally {
    process.umask(previousUmask);
  }
}

function upLocked(config: FlywheelConfig, opts: UpOptions, t0: number, progress: ReturnType<typeof reporter>): Promise<UpResult> {
  return withStackLock(
    config,
    async () => {
      const startedNow: ServiceName[] = [];
      let migrationsApplied: string[] = [];
      if (!findSupervisord(config)) progress('stack', noSupervisorWarning(config));
      // The folders services write into exist, private, before any service starts: a file a
      // process makes later with a wider umask still sits behind a folder only its owner can enter.
      const { postgres: _cluster, temporalDb: _temporalDb, ...folders } = dataPaths(config);
      for (const dir of Object.values(folders)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tightened = await tightenDataFolder(config.dataDir, await clusterFolderNeeds(config));
      if (tightened) progress('stack', `made ${tightened} paths in ${config.dataDir} private to their owner (files 0600, folders 0700)`);
      const monitoring = opts.monitoring ?? config.monitoring.enabled;
      let monitoringReady = false;
      for (const svc of servicesFor(opts).filter((s) => (opts.workers !== false || !isWorker(s)) && (monitoring || !s.monitoring))) {
        const missing = svc.unavailable?.();
        if (missing) {
          progress(svc.name, `skipped: ${missing}`);
          continue;
        }
        if (svc.monitoring && !monitoringReady) {
          // Rewritten at every up (ports may have moved); a running Prometheus is told to read it again.
          const key = await ensureMetricsKey(config);
          if (key.state === 'created') progress('credentials', `created the metrics-scope API key Prometheus sends, in ${key.file} (0600)`);
          writeMonitoringConfig(config);
          monitoringReady = true;
        }
        const outcome = await ensure(config, svc, (m) => progress(svc.name, m));
        if (svc.name === PROMETHEUS && outcome !== 'started' && outcome !== 'external' && !(await reloadPrometheus(config))) {
          progress(PROMETHEUS, 'warning: could not reload its configuration (POST /-/reload)');
        }
        if (outcome === 'started') startedNow.push(svc.name);
        if (svc.name === POSTGRES) {
          const created = await ensureDatabases(config);
          if (created.length) progress(POSTGRES, `created database ${created.join(', ')}`);
          try {
            migrationsApplied = await migrate(config.postgres.url);
          } catch (err) {
            throw new StackError(`database migrations failed: ${(err as Error).message}`);
          }
          progress('migrations', migrationsApplied.length ? `applied ${migrationsApplied.join(', ')}` : 'schema up to date');
          // Today's and the coming days' partitions exist before any writer starts (the Reconciler keeps them up after).
          const partitions = await upkeepTrafficPartitions(config);
          progress('migrations', partitions);
          // Before the gateway starts: the CLI and the demo call it with this key.
          const cliKey = await ensureCliKey(config);
          if (cliKey.state === 'created') progress('credentials', `created the local admin API key in ${cliKey.file} (0600)`);
        }
        if (svc.name === TEMPORAL) {
          try {
            const added = await ensureSearchAttributes(config);
            if (added.length) progress(TEMPORAL, `registered search attributes ${added.join(', ')}`);
          } catch (err) {
            progress(TEMPORAL, `warning: cannot check search attributes: ${(err as Error).message}`);
          }
        }
      }
      if (opts.authIdp) {
        const kc = await startKeycloak(config);
        progress('keycloak', `OIDC issuer ${kc.issuer}: gateways accept its tokens with FLYWHEEL_OIDC_ISSUER=${kc.issuer}`);
      }
      return { services: await status(config), urls: stackUrls(config, monitoring), startedNow, migrationsApplied, elapsedMs: Date.now() - t0 };
    },
    { onWait: (pid) => progress('stack', `waiting for another flywheel up/down (pid ${pid}) to finish`) },
  );
}

/** One maintenance run of the traffic tables' partitions; a failure is a warning, not a failed `up`. */
async function upkeepTrafficPartitions(config: FlywheelConfig): Promise<string> {
  const pool = new pg.Pool({ connectionString: config.postgres.url, max: 1 });
  pool.on('error', () => undefined);
  try {
    const tables = await maintainTrafficPartitions(pool, config.traffic);
    const created = tables.reduce((n, t) => n + t.created.length, 0);
    const dropped = tables.reduce((n, t) => n + t.dropped.length, 0);
    return `traffic partitions: ${created} created ahead, ${dropped} dropped past the retention`;
  } catch (err) {
    return `warning: traffic partition upkeep failed (the Reconciler retries it): ${(err as Error).message}`;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/**
 * Stops what Flywheel started, workers first, PostgreSQL last, and returns those names; services
 * it did not start stay up (reported through `onProgress`).
 */
export async function down(config: FlywheelConfig, opts: { onProgress?: ProgressListener } = {}): Promise<ServiceName[]> {
  const progress = reporter(opts.onProgress);
  return withStackLock(
    config,
    async () => {
      const stopped: ServiceName[] = [];
      for (const svc of [...SERVICES].reverse()) {
        const record = await svc.owned(config);
        if (record) {
          await svc.stop(config);
          stopped.push(svc.name);
          progress(svc.name, `stopped (pid ${record.pid})`);
        } else if (await svc.healthy(config)) {
          progress(svc.name, 'not started by Flywheel: left running');
        }
      }
      // Keycloak runs only when `flywheel up --auth-idp` started it.
      if (await stopProcess(config, 'keycloak').catch(() => false)) progress('keycloak', 'stopped');
      if (await shutdownSupervisord(config)) progress('supervisord', `stopped (${supervisorLayout(config).conf})`);
      return stopped;
    },
    { onWait: (pid) => progress('stack', `waiting for another flywheel up/down (pid ${pid}) to finish`) },
  );
}

export async function status(config: FlywheelConfig): Promise<ServiceStatus[]> {
  const rows = await Promise.all(
    SERVICES.map(async (svc): Promise<ServiceStatus | undefined> => {
      const [owned, healthy] = await Promise.all([svc.owned(config), svc.healthy(config)]);
      // Monitoring that is off (or not installed) and not running is not part of this stack.
      if (svc.monitoring && !owned && !healthy && (!config.monitoring.enabled || svc.unavailable?.())) return undefined;
      const state: ServiceState = healthy ? (owned ? 'running' : 'external') : owned ? 'unhealthy' : 'stopped';
      // Between a death and supervisord's restart, no process runs: no pid to show.
      const between = owned?.supervisorState !== undefined && !['RUNNING', 'STARTING', 'STOPPING'].includes(owned.supervisorState);
      const supervision = owned?.supervisorState
        ? owned.supervisorState === 'FATAL' ? 'supervisord gave up restarting it (flywheel up restarts it); ' : between ? `supervisord: ${owned.supervisorState}, restarting; ` : ''
        : owned?.supervised && (await isSupervisordRunning(config)) === false ? 'its supervisord is gone: not restarted if it dies; '
        : owned && !owned.supervised && findSupervisord(config) ? 'not under supervisord: not restarted if it dies; ' : '';
      const detail =
        state === 'external' ? 'not started by Flywheel' : owned ? `${supervision}log: ${owned.logFile}` : undefined;
      return { name: svc.name, state, ...(owned && !between ? { pid: owned.pid } : {}), url: svc.url(config), ...(detail ? { detail } : {}) };
    }),
  );
  return rows.filter((r): r is ServiceStatus => r !== undefined);
}
