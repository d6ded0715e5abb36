/**
 * Monitoring in the local stack, from Debian's packages: Prometheus (scrapes the gateway, every
 * worker, the Temporal dev server, PostgreSQL through `prometheus-postgres-exporter` and the data
 * folder's disk through `prometheus-node-exporter`; evaluates config/prometheus/rules/*.yml) and
 * Alertmanager (receives what fires). All bound to loopback, ports from FLYWHEEL_*_PORT variables,
 * configuration generated under <data>/monitoring at every `flywheel up` (rendering is pure: the
 * unit test checks it with `promtool check config`). FLYWHEEL_MONITORING=off or
 * `flywheel up --no-monitoring` leaves them out.
 *
 * The gateway's /metrics needs the `metrics` scope: `flywheel up` creates a dedicated key with that
 * scope alone and hands it to Prometheus as `credentials_file` (<data>/credentials/prometheus.key, 0600).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import YAML from 'yaml';
import { withLogin } from '../../config/local-credentials';
import { dataPaths, PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { createApiKey } from '../../clients/api-keys';
import { auditQuietly } from '../../clients/audit';
import { clientHost, isHttpOk, isLocalHost } from './health';
import { launch, logFile, ownedProcess, stopProcess, type ProcessRecord, type ProcessSpec } from './processes';
import { isTemporalLocal } from './temporal';

export const PROMETHEUS = 'prometheus' as const;
export const ALERTMANAGER = 'alertmanager' as const;
export const POSTGRES_EXPORTER = 'postgres-exporter' as const;
export const NODE_EXPORTER = 'node-exporter' as const;
export type MonitoringName = typeof PROMETHEUS | typeof ALERTMANAGER | typeof POSTGRES_EXPORTER | typeof NODE_EXPORTER;

/** Debian's executables (packages prometheus, prometheus-alertmanager, prometheus-postgres-exporter, prometheus-node-exporter). */
export const MONITORING_BINARIES: Record<MonitoringName, string> = {
  [PROMETHEUS]: '/usr/bin/prometheus',
  [ALERTMANAGER]: '/usr/bin/prometheus-alertmanager',
  [POSTGRES_EXPORTER]: '/usr/bin/prometheus-postgres-exporter',
  [NODE_EXPORTER]: '/usr/bin/prometheus-node-exporter',
};
const PACKAGES: Record<MonitoringName, string> = {
  [PROMETHEUS]: 'prometheus',
  [ALERTMANAGER]: 'prometheus-alertmanager',
  [POSTGRES_EXPORTER]: 'prometheus-postgres-exporter',
  [NODE_EXPORTER]: 'prometheus-node-exporter',
};

/** The alert rules and their promtool tests live in the repository. */
export const RULES_DIR = path.join(PROJECT_ROOT, 'config', 'prometheus', 'rules');

export function monitoringLayout(config: FlywheelConfig) {
  const dir = dataPaths(config).monitoring;
  return {
    dir,
    prometheusConfig: path.join(dir, 'prometheus.yml'),
    prometheusData: path.join(dir, 'prometheus-data'),
    alertmanagerConfig: path.join(dir, 'alertmanager.yml'),
    alertmanagerData: path.join(dir, 'alertmanager-data'),
    /** The gateway key Prometheus sends (scope `metrics` only). */
    credentialsFile: path.join(dataPaths(config).credentials, 'prometheus.key'),
  };
}

export const prometheusUrl = (c: FlywheelConfig) => `http://127.0.0.1:${c.monitoring.prometheusPort}`;
export const alertmanagerUrl = (c: FlywheelConfig) => `http://127.0.0.1:${c.monitoring.alertmanagerPort}`;
const postgresExporterUrl = (c: FlywheelConfig) => `http://127.0.0.1:${c.monitoring.postgresExporterPort}/metrics`;
const nodeExporterUrl = (c: FlywheelConfig) => `http://127.0.0.1:${c.monitoring.nodeExporterPort}/metrics`;

export interface PrometheusConfigOptions {
  /** Folder of *.yml rule files (default: the repository's). */
  rulesDir?: string;
  /** The gateway credential file (default: monitoringLayout().credentialsFile). */
  credentialsFile?: string;
  /** Seconds between scrapes and between rule evaluations (default 15). */
  intervalSeconds?: number;
}

/** prometheus.yml for this configuration: every scrape job of the local stack, our rules, our Alertmanager. */
export function renderPrometheusConfig(config: FlywheelConfig, opts: PrometheusConfigOptions = {}): string {
  const interval = `${opts.intervalSeconds ?? 15}s`;
  const workerHost = clientHost(config.metrics.host);
  const gateway = new URL(config.gateway.url);
  const staticJob = (job: string, targets: string[], extra: Record<string, unknown> = {}) => ({ job_name: job, static_configs: [{ targets }], ...extra });
  const workers = [
    { worker: 'workflow-worker', port: config.metrics.workflowWorkerPort },
    { worker: 'cpu-worker', port: config.metrics.cpuWorkerPort },
    { worker: 'control-worker', port: config.metrics.controlWorkerPort },
    { worker: 'gpu-worker', port: config.metrics.gpuWorkerPort },
  ];
  const doc = {
    global: { scrape_interval: interval, evaluation_interval: interval, external_labels: { stack: 'flywheel-local' } },
    rule_files: [path.join(opts.rulesDir ?? RULES_DIR, '*.yml')],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${config.monitoring.alertmanagerPort}`] }] }] },
    scrape_configs: [
      staticJob('prometheus', [`127.0.0.1:${config.monitoring.prometheusPort}`]),
      staticJob('alertmanager', [`127.0.0.1:${config.monitoring.alertmanagerPort}`]),
      staticJob('flywheel-gateway', [gateway.host], {
        scheme: gateway.protocol.replace(':', ''),
        authorization: { type: 'Bearer', credentials_file: opts.credentialsFile ?? monitoringLayout(config).credentialsFile },
      }),
      {
        job_name: 'flywheel-workers',
        static_configs: workers.map(({ worker, port }) => ({ targets: [`${workerHost}:${port}`], labels: { worker } })),
      },
      ...(isTemporalLocal(config) ? [staticJob('temporal', [`127.0.0.1:${config.metrics.temporalPort}`])] : []),
      staticJob('postgres', [`127.0.0.1:${config.monitoring.postgresExporterPort}`]),
      staticJob('node', [`127.0.0.1:${config.monitoring.nodeExporterPort}`]),
    ],
  };
  return `# Written by \`flywheel up\` (scripts/stack/monitoring.ts) at every start; do not edit.\n${YAML.stringify(doc)}`;
}

/**
 * alertmanager.yml: alerts grouped by name and model; with FLYWHEEL_ALERT_WEBHOOK_URL set they are
 * posted there (Alertmanager's webhook format), otherwise they are kept and shown by Alertmanager alone.
 */
export function renderAlertmanagerConfig(opts: { webhookUrl?: string; groupWait?: string; groupInterval?: string; repeatInterval?: string } = {}): string {
  const receiver = opts.webhookUrl ? { name: 'flywheel', webhook_configs: [{ url: opts.webhookUrl, send_resolved: true }] } : { name: 'flywheel' };
  const doc = {
    route: {
      receiver: 'flywheel',
      group_by: ['alertname', 'model'],
      group_wait: opts.groupWait ?? '30s',
      group_interval: opts.groupInterval ?? '5m',
      repeat_interval: opts.repeatInterval ?? '4h',
    },
    receivers: [receiver],
  };
  return `# Written by \`flywheel up\` (scripts/stack/monitoring.ts) at every start; do not edit.\n${YAML.stringify(doc)}`;
}

/**
 * The exporter logs in as the local cluster's monitor role (pg_monitor, owns nothing), else as
 * Flywheel. lib/pq (its driver) wants TLS unless told otherwise; the local cluster has none.
 */
export function exporterDsn(config: FlywheelConfig): string {
  const monitor = config.postgres.credentials?.monitor;
  const u = new URL(monitor ? withLogin(config.postgres.url, monitor) : config.postgres.url);
  if (!u.searchParams.has('sslmode') && isLocalHost(u.hostname.replace(/^\[|\]$/g, ''))) u.searchParams.set('sslmode', 'disable');
  return u.toString();
}

/** A key with the `metrics` scope alone, for Prometheus; created once, kept 0600. */
export async function ensureMetricsKey(config: FlywheelConfig): Promise<{ state: 'created' | 'present'; file: string }> {
  const file = monitoringLayout(config).credentialsFile;
  if (fs.existsSync(file)) {
    fs.chmodSync(file, 0o600);
    return { state: 'present', file };
  }
  const db = new pg.Pool({ connectionString: config.postgres.url, max: 1 });
  db.on('error', () => undefined);
  try {
    const { key, record } = await createApiKey(db, { name: `prometheus@${os.hostname()}`, scopes: ['metrics'], createdBy: 'flywheel up' });
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [record.id]);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { state: 'present', file };
      throw err;
    }
    await auditQuietly(db, { actor: 'flywheel up', action: 'keys.create', target: `key:${record.id}`, outcome: 'ok', detail: { name: record.name, scopes: record.scopes, file } });
    return { state: 'created', file };
  } finally {
    await db.end();
  }
}

/** Writes both configuration files (every `flywheel up`: ports may have moved). */
export function writeMonitoringConfig(config: FlywheelConfig, env: NodeJS.ProcessEnv = process.env): void {
  const l = monitoringLayout(config);
  fs.mkdirSync(l.dir, { recursive: true });
  fs.writeFileSync(l.prometheusConfig, renderPrometheusConfig(config));
  const webhookUrl = env.FLYWHEEL_ALERT_WEBHOOK_URL;
  fs.writeFileSync(l.alertmanagerConfig, renderAlertmanagerConfig(webhookUrl ? { webhookUrl } : {}));
}

export function monitoringSpec(config: FlywheelConfig, name: MonitoringName): ProcessSpec {
  const l = monitoringLayout(config);
  const m = config.monitoring;
  switch (name) {
    case PROMETHEUS:
      return {
        name,
        command: MONITORING_BINARIES[name],
        args: [
          `--config.file=${l.prometheusConfig}`,
          `--storage.tsdb.path=${l.prometheusData}`,
          `--web.listen-address=127.0.0.1:${m.prometheusPort}`,
          // `flywheel up` reloads a running Prometheus after rewriting its configuration.
          '--web.enable-lifecycle',
        ],
        cwd: l.dir,
      };
    case ALERTMANAGER:
      return {
        name,
        command: MONITORING_BINARIES[name],
        args: [
          `--config.file=${l.alertmanagerConfig}`,
          `--storage.path=${l.alertmanagerData}`,
          `--web.listen-address=127.0.0.1:${m.alertmanagerPort}`,
          // One Alertmanager: no cluster (gossip) listener at all.
          '--cluster.listen-address=',
        ],
        cwd: l.dir,
      };
    case POSTGRES_EXPORTER:
      return {
        name,
        command: MONITORING_BINARIES[name],
        args: [`--web.listen-address=127.0.0.1:${m.postgresExporterPort}`],
        cwd: l.dir,
        // The DSN (it may hold a password) goes through the environment, never argv.
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DATA_SOURCE_NAME: exporterDsn(config) },
      };
    case NODE_EXPORTER:
      return {
        name,
        command: MONITORING_BINARIES[name],
        args: [
          `--web.listen-address=127.0.0.1:${m.nodeExporterPort}`,
          // Disk filling is what the rules ask of it: filesystems, and the load that explains a slow stack.
          '--collector.disable-defaults',
          '--collector.filesystem',
          '--collector.loadavg',
          '--collector.meminfo',
        ],
        cwd: l.dir,
      };
  }
}

function healthUrl(config: FlywheelConfig, name: MonitoringName): string {
  switch (name) {
    case PROMETHEUS:
      return `${prometheusUrl(config)}/-/ready`;
    case ALERTMANAGER:
      return `${alertmanagerUrl(config)}/-/ready`;
    case POSTGRES_EXPORTER:
      return postgresExporterUrl(config);
    case NODE_EXPORTER:
      return nodeExporterUrl(config);
  }
}

function serviceUrl(config: FlywheelConfig, name: MonitoringName): string {
  return name === PROMETHEUS ? prometheusUrl(config) : name === ALERTMANAGER ? alertmanagerUrl(config) : healthUrl(config, name);
}

const PORT_ENV: Record<MonitoringName, string> = {
  [PROMETHEUS]: 'FLYWHEEL_PROMETHEUS_PORT',
  [ALERTMANAGER]: 'FLYWHEEL_ALERTMANAGER_PORT',
  [POSTGRES_EXPORTER]: 'FLYWHEEL_POSTGRES_EXPORTER_PORT',
  [NODE_EXPORTER]: 'FLYWHEEL_NODE_EXPORTER_PORT',
};

function port(config: FlywheelConfig, name: MonitoringName): number {
  return Number(new URL(serviceUrl(config, name)).port);
}

/** Why this part cannot run here (its package is missing), or undefined. */
export function monitoringUnavailable(name: MonitoringName): string | undefined {
  return fs.existsSync(MONITORING_BINARIES[name]) ? undefined : `${MONITORING_BINARIES[name]} not found (Debian package ${PACKAGES[name]}; scripts/setup.sh installs it)`;
}

/** Tells a running Prometheus to read its (rewritten) configuration again. */
export async function reloadPrometheus(config: FlywheelConfig): Promise<boolean> {
  try {
    const res = await fetch(`${prometheusUrl(config)}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(5000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** The entry for stack.ts's SERVICES list (same shape as its `Service`). */
export function monitoringService(name: MonitoringName) {
  return {
    name,
    label: { [PROMETHEUS]: 'Prometheus', [ALERTMANAGER]: 'Alertmanager', [POSTGRES_EXPORTER]: 'PostgreSQL exporter', [NODE_EXPORTER]: 'node exporter' }[name],
    monitoring: true as const,
    unavailable: () => monitoringUnavailable(name),
    startable: () => true,
    healthy: (config: FlywheelConfig) => isHttpOk(healthUrl(config, name)),
    owned: (config: FlywheelConfig) => ownedProcess(config, name),
    start: (config: FlywheelConfig): Promise<ProcessRecord> => {
      if (name === PROMETHEUS) fs.mkdirSync(monitoringLayout(config).prometheusData, { recursive: true });
      if (name === ALERTMANAGER) fs.mkdirSync(monitoringLayout(config).alertmanagerData, { recursive: true });
      return launch(config, monitoringSpec(config, name), { what: name, healthy: () => isHttpOk(healthUrl(config, name)), timeoutMs: 60_000 });
    },
    stop: (config: FlywheelConfig) => stopProcess(config, name),
    url: (config: FlywheelConfig) => serviceUrl(config, name),
    logFile: async (config: FlywheelConfig) => logFile(config, name),
    ports: (config: FlywheelConfig) => [{ port: port(config, name), env: PORT_ENV[name] }],
  };
}

export const MONITORING_NAMES: readonly MonitoringName[] = [POSTGRES_EXPORTER, NODE_EXPORTER, ALERTMANAGER, PROMETHEUS];

