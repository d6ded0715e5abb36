/**
 * The local stack under supervisord: a stack of its own (temporary data folder, free ports, so
 * the shared stack is never touched) comes up; PostgreSQL's postmaster, the Temporal server,
 * MLflow's server process and a worker are SIGKILLed at once; each comes back healthy with no flywheel command, its pidfile
 * following the new pid; `down` then leaves nothing running. Real processes throughout.
 * Skipped where Debian's supervisor package is not installed (scripts/setup.sh installs it).
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import fs from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, type FlywheelConfig } from '../../config/index';
import { isPortOpen, parseHostPort, waitUntil } from '../../scripts/stack/health';
import { isMlflowHealthy } from '../../scripts/stack/mlflow';
import { isPostgresHealthy } from '../../scripts/stack/postgres';
import { livingGroupMembers, logFile, pidFile, procInfo } from '../../scripts/stack/processes';
import { down, status, up, type ServiceStatus } from '../../scripts/stack/stack';
import { findSupervisord, isSupervisordRunning, programInfo, supervisorLayout } from '../../scripts/stack/supervisor';
import { isTemporalHealthy } from '../../scripts/stack/temporal';
import { isWorkerHealthy, saidReady, startWorker } from '../../scripts/stack/workers';

const WORKER = 'control-worker' as const;
const savedEnv = { ...process.env };
let dataDir: string | undefined;
let config: FlywheelConfig;

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const supervisorInstalled = findSupervisord(loadConfig()) !== undefined;

beforeAll(async () => {
  if (!supervisorInstalled) return;
  dataDir = await mkdtemp(path.join(tmpdir(), 'flywheel-supervised-'));
  // The cluster runs as the postgres user when we are root: it must reach the data folder.
  await chmod(dataDir, 0o755);
  const [pgPort, temporalPort, uiPort, mlflowPort, gatewayPort, wf, cpu, gpu, control, temporalMetrics, prom, am, pgExp, nodeExp] = await freePorts(14);
  // Workers started by the stack read their configuration from this process's environment.
  Object.assign(process.env, {
    FLYWHEEL_DATA_DIR: dataDir,
    FLYWHEEL_PG_PORT: String(pgPort),
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_UI_PORT: String(uiPort),
    MLFLOW_PORT: String(mlflowPort),
    MLFLOW_TRACKING_URI: `http://127.0.0.1:${mlflowPort}`,
    FLYWHEEL_GATEWAY_PORT: String(gatewayPort),
    FLYWHEEL_WORKFLOW_WORKER_METRICS_PORT: String(wf),
    FLYWHEEL_CPU_WORKER_METRICS_PORT: String(cpu),
    FLYWHEEL_GPU_WORKER_METRICS_PORT: String(gpu),
    FLYWHEEL_CONTROL_WORKER_METRICS_PORT: String(control),
    // The outer stack's Temporal already serves its metrics on the default port.
    FLYWHEEL_TEMPORAL_METRICS_PORT: String(temporalMetrics),
    // Off here, but `status` still looks at their ports: not the outer stack's.
    FLYWHEEL_PROMETHEUS_PORT: String(prom),
    FLYWHEEL_ALERTMANAGER_PORT: String(am),
    FLYWHEEL_POSTGRES_EXPORTER_PORT: String(pgExp),
    FLYWHEEL_NODE_EXPORTER_PORT: String(nodeExp),
    // A quick `down`: the worker has nothing in flight to drain.
    FLYWHEEL_SHUTDOWN_GRACE_SECONDS: '2',
    FLYWHEEL_SUPERVISOR: 'auto',
    // This test is about restarts: Prometheus and Alertmanager have their own test (alerts.test.ts).
    FLYWHEEL_MONITORING: 'off',
  });
  delete process.env.DATABASE_URL;
  config = loadConfig();
});

afterAll(async () => {
  try {
    if (dataDir && (await isSupervisordRunning(config).catch(() => false))) await down(config);
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
});

async function running(): Promise<Map<string, ServiceStatus>> {
  return new Map((await status(config)).map((s) => [s.name, s]));
}

async function canQuery(): Promise<boolean> {
  const client = new pg.Client({ connectionString: config.postgres.url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    // The migrations applied by `up` survived the crash: the schema is there.
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'");
    return Number(rows[0]!.n) > 0;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

it.skipIf(!supervisorInstalled)('PostgreSQL, Temporal, MLflow and a worker killed with SIGKILL come back by themselves; down leaves nothing', async () => {
  const lines: string[] = [];
  await up(config, { workers: false, onProgress: (line) => lines.push(line) });
  await startWorker(config, WORKER);
  expect(lines.join('\n')).not.toMatch(/supervisord not found/);
  expect(await isSupervisordRunning(config)).toBe(true);

  const before = await running();
  const victims = {
    postgres: before.get('postgres')!.pid!,
    temporal: before.get('temporal')!.pid!,
    // Killed alone, MLflow leaves its uvicorn child holding the port: the restart must clear it.
    mlflow: before.get('mlflow')!.pid!,
    [WORKER]: before.get(WORKER)!.pid!,
  };
  for (const [name, pid] of Object.entries(victims)) {
    expect(before.get(name as keyof typeof victims)!.state, name).toBe('running');
    expect(pid, name).toBeGreaterThan(0);
    // supervisord calls a program RUNNING once it has stayed up for its startsecs, which can be after
    // its health check first answered (a loaded machine): wait for that, do not race it.
    let state: string | undefined;
    for (let i = 0; i < 240 && (state = (await programInfo(config, name))?.state) === 'STARTING'; i++) await new Promise((r) => setTimeout(r, 250));
    expect(state, name).toBe('RUNNING');
  }
  const workerLog = logFile(config, WORKER);
  const logSizeAtKill = fs.statSync(workerLog).size;

  for (const pid of Object.values(victims)) process.kill(pid, 'SIGKILL');

  // No flywheel command from here on: supervisord alone brings them back.
  const back = async () => {
    const now = await Promise.all(Object.keys(victims).map((name) => programInfo(config, name)));
    if (!now.every((p, i) => p?.state === 'RUNNING' && p.pid !== Object.values(victims)[i])) return false;
    // Nothing of a killed run is left (MLflow's orphaned uvicorn would keep the port and answer).
    for (const pid of Object.values(victims)) if ((await livingGroupMembers(pid)).length > 0) return false;
    return (await isPostgresHealthy(config)) && (await canQuery()) && (await isTemporalHealthy(config))
      && (await isMlflowHealthy(config)) && (await isWorkerHealthy(config, WORKER)) && (await saidReady(workerLog, logSizeAtKill));
  };
  expect(await waitUntil(back, { timeoutMs: 300_000, intervalMs: 1_000 })).toBe('ready');

  // status and the pidfiles follow the new processes.
  const after = await running();
  for (const [name, oldPid] of Object.entries(victims)) {
    const s = after.get(name as keyof typeof victims)!;
    expect(s.state, name).toBe('running');
    expect(s.pid, name).not.toBe(oldPid);
    expect(s.pid, name).toBe((await programInfo(config, name))!.pid);
    expect(Number((await readFile(pidFile(config, name), 'utf8')).trim()), name).toBe(s.pid);
  }
  expect((await procInfo(after.get('postgres')!.pid!))?.argv.slice(-2)).toEqual(['-D', path.join(config.dataDir, 'postgres')]);

  const supervisordPid = Number((await readFile(supervisorLayout(config).pidFile, 'utf8')).trim());
  const pids = [supervisordPid, ...[...after.values()].flatMap((s) => (s.pid ? [s.pid] : []))];
  const stopped = await down(config);
  expect(stopped.sort()).toEqual(['control-worker', 'mlflow', 'postgres', 'temporal']);

  // Nothing left: no process, no listening port, supervisord gone with its socket.
  for (const pid of pids) expect(fs.existsSync(`/proc/${pid}`) ? (await procInfo(pid))?.state : 'gone', `pid ${pid}`).toMatch(/^(gone|Z)$/);
  const ports = [config.postgres.localPort, parseHostPort(config.temporal.address).port, config.temporal.uiPort, config.mlflow.port, config.metrics.controlWorkerPort];
  for (const port of ports) expect(await isPortOpen('127.0.0.1', port), `port ${port}`).toBe(false);
  expect(await isSupervisordRunning(config)).toBe(false);
  expect(fs.existsSync(supervisorLayout(config).socket)).toBe(false);
  expect((await status(config)).every((s) => s.state === 'stopped')).toBe(true);
}, 600_000);
