/**
 * PostgreSQL for Flywheel: the server named by DATABASE_URL when given, otherwise a project-local
 * cluster (loopback only, trust auth) started from the system's server binaries. initdb and
 * postgres refuse to run as root, so under root they run as the `postgres` user.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { dataPaths, withDatabase, type FlywheelConfig } from '../../config/index';
import { postgresCredentialsFile, readCredentials, type PostgresCredentials } from '../../config/local-credentials';
import { ensureOwnedDatabase, ensureRoles, generatePostgresCredentials, quoteIdent, writeCredentialsFile } from './postgres-roles';
import { StackError } from './errors';
import type { TightenOptions } from './private-files';
import { waitUntil } from './health';
import { argvMatches, launch, logFile, ownedProcess, procInfo, removeRecord, stopProcess, writeRecord, type ProcessRecord } from './processes';
import { findSupervisord, programInfo } from './supervisor';

const execFileP = promisify(execFile);
export const POSTGRES = 'postgres';
const SERVICE_USER = 'postgres';

export interface PostgresLayout {
  binDir: string;
  dataDir: string;
  logFile: string;
  /** '' when the data folder's path is too long for a unix socket: TCP only then. */
  socketDir: string;
  /** Set when running as root: the user that owns the cluster and runs its programs. */
  runAs?: { user: string; uid: number; gid: number };
  /** Why the data folder is not the usual one, for the person running `up`. */
  note?: string;
}

function hasServerBinaries(dir: string): boolean {
  return ['pg_ctl', 'initdb', 'postgres'].every((b) => fs.existsSync(path.join(dir, b)));
}

/** PATH first, then Debian's /usr/lib/postgresql/<version>/bin, highest version first. */
export async function findPostgresBinDir(): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && hasServerBinaries(dir)) return dir;
  }
  const versions = await fsp.readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  for (const v of versions.filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a))) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (hasServerBinaries(dir)) return dir;
  }
  return undefined;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function userIds(user: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const uid = Number((await execFileP('id', ['-u', user])).stdout.trim());
    const gid = Number((await execFileP('id', ['-g', user])).stdout.trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Runs a PostgreSQL program, as the service user when we are root. */
async function runPg(layout: PostgresLayout, program: string, args: string[], timeoutMs = 120_000): Promise<string> {
  const bin = path.join(layout.binDir, program);
  const [cmd, argv] = layout.runAs ? ['runuser', ['-u', layout.runAs.user, '--', bin, ...args]] : [bin, args];
  try {
    // cwd '/': the service user may not be allowed into the caller's working directory.
    const { stdout, stderr } = await execFileP(cmd, argv, { cwd: '/', timeout: timeoutMs });
    return `${stdout}${stderr}`;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const detail = (e.stderr || e.stdout || e.message).trim();
    throw new StackError(`${program} ${args[args.length - 1]} failed: ${detail}`, layout.logFile);
  }
}

async function canTraverse(user: string, dirs: string[]): Promise<boolean> {
  try {
    await execFileP('runuser', ['-u', user, '--', 'sh', '-c', 'for d; do test -x "$d" || exit 1; done', 'sh', ...dirs], { cwd: '/' });
    return true;
  } catch {
    return false;
  }
}

export async function postgresLayout(config: FlywheelConfig): Promise<PostgresLayout> {
  const binDir = await findPostgresBinDir();
  if (!binDir) {
    throw new StackError(
      'PostgreSQL server binaries (pg_ctl, initdb) not found: run scripts/setup.sh (installs them with apt as root), or set DATABASE_URL',
    );
  }
  const paths = dataPaths(config);
  let dataDir = paths.postgres;
  let log = logFile(config, POSTGRES);
  let runAs: PostgresLayout['runAs'];
  let note: string | undefined;
  if (isRoot()) {
    const ids = await userIds(SERVICE_USER);
    if (!ids) throw new StackError(`running as root needs a '${SERVICE_USER}' system user to own the cluster: run scripts/setup.sh`);
    runAs = { user: SERVICE_USER, ...ids };
    await fsp.mkdir(paths.logs, { recursive: true });
    // The service user may pass through (never list) the data folder and logs/: 0711 at most.
    for (const dir of [config.dataDir, paths.logs]) await fsp.chmod(dir, ((await fsp.stat(dir)).mode & 0o700) | 0o011);
    if (!(await canTraverse(SERVICE_USER, [config.dataDir, paths.logs]))) {
      const fallback = `/var/lib/flywheel-${createHash('sha256').update(config.dataDir).digest('hex').slice(0, 12)}`;
      note = `user ${SERVICE_USER} cannot reach ${config.dataDir} (a parent folder is closed to other users): the cluster lives in ${fallback}`;
      dataDir = path.join(fallback, 'postgres');
      log = path.join(fallback, 'postgres.log');
    }
  }
  const socketPath = path.join(dataDir, `.s.PGSQL.${config.postgres.localPort}`);
  // sun_path holds 108 bytes; a longer path would stop postgres from starting at all.
  const socketDir = Buffer.byteLength(socketPath) < 100 ? dataDir : '';
  return { binDir, dataDir, logFile: log, socketDir, runAs, note };
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

async function chownTo(layout: PostgresLayout, file: string): Promise<void> {
  if (layout.runAs) await fsp.chown(file, layout.runAs.uid, layout.runAs.gid);
}

/**
 * A new cluster: passwords generated first (0600, data folder), the superuser's handed to initdb
 * in a file only it can read, every connection checked with scram-sha-256 (no trust, not even on
 * the socket). The other roles are made by ensureDatabases once the server runs.
 */
async function initCluster(config: FlywheelConfig, layout: PostgresLayout): Promise<void> {
  // Parents keep the default mode (the service user must pass through them); only the data
  // folder itself is private, as initdb wants.
  await fsp.mkdir(path.dirname(layout.dataDir), { recursive: true });
  // The service user passes through the parent (made here under umask 077 when it is the fallback
  // folder) without being able to list it.
  if (layout.runAs) await fsp.chmod(path.dirname(layout.dataDir), (await fsp.stat(path.dirname(layout.dataDir))).mode & 0o777 | 0o011);
  await fsp.mkdir(layout.dataDir, { recursive: true, mode: 0o700 });
  await chownTo(layout, layout.dataDir);
  const creds = generatePostgresCredentials();
  writeCredentialsFile(postgresCredentialsFile(config.dataDir), creds);
  const pwDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flywheel-initdb-'));
  const pwFile = path.join(pwDir, 'pw');
  try {
    await fsp.writeFile(pwFile, `${creds.superuser.password}\n`, { mode: 0o600 });
    await chownTo(layout, pwDir);
    await chownTo(layout, pwFile);
    await runPg(layout, 'initdb', [
      '--pgdata', layout.dataDir,
      '--username', creds.superuser.user,
      '--pwfile', pwFile,
      '--auth-local', 'scram-sha-256',
      '--auth-host', 'scram-sha-256',
      '--encoding', 'UTF8',
      '--locale', 'C',
    ]);
  } finally {
    await fsp.rm(pwDir, { recursive: true, force: true });
  }
  const conf = path.join(layout.dataDir, 'postgresql.conf');
  await fsp.appendFile(conf, "\n# Flywheel rewrites flywheel.conf (address, port, socket folder) at every start.\ninclude_if_exists = 'flywheel.conf'\n");
}

async function writeFlywheelConf(config: FlywheelConfig, layout: PostgresLayout): Promise<void> {
  const file = path.join(layout.dataDir, 'flywheel.conf');
  const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
  await fsp.writeFile(
    file,
    [
      `listen_addresses = '127.0.0.1'`,
      `port = ${config.postgres.localPort}`,
      `unix_socket_directories = ${quote(layout.socketDir)}`,
      '',
    ].join('\n'),
  );
  await chownTo(layout, file);
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server answers; for a local cluster our own database may not exist yet, so ask `postgres`. */
export async function isPostgresHealthy(config: FlywheelConfig): Promise<boolean> {
  return canConnect(config.postgres.external ? config.postgres.url : config.postgres.adminUrl);
}

/**
 * A postmaster serving the cluster in our data folder is ours even if its pidfile was lost
 * (`.flywheel/run` wiped): nobody else starts a cluster there, so `down` may stop it.
 */
export async function ownedPostgres(config: FlywheelConfig): Promise<ProcessRecord | undefined> {
  const record = await ownedProcess(config, POSTGRES);
  if (record || config.postgres.external) return record;
  const layout = await postgresLayout(config).catch(() => undefined);
  if (!layout) return undefined;
  const pidText = await fsp.readFile(path.join(layout.dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const info = pidText ? await procInfo(Number(pidText.split('\n')[0])) : undefined;
  const args = ['-D', layout.dataDir];
  if (!info || info.state === 'Z' || !argvMatches({ command: path.join(layout.binDir, 'postgres'), args }, info.argv)) return undefined;
  // The stack's supervisord may be the one running it: then stopping it must go through supervisord.
  const supervised = (await programInfo(config, POSTGRES))?.pid === Number(pidText.split('\n')[0]);
  const adopted: ProcessRecord = {
    name: POSTGRES,
    pid: Number(pidText.split('\n')[0]),
    command: info.argv[0]!,
    args,
    cwd: layout.dataDir,
    startTicks: info.startTicks,
    startedAt: new Date().toISOString(),
    logFile: layout.logFile,
    ...(supervised ? { supervised } : {}),
  };
  await writeRecord(config, adopted);
  // Read back through ownedProcess, which asks supervisord for its state.
  return supervised ? ownedProcess(config, POSTGRES) : adopted;
}

/** Starts the project-local cluster (creating it on first use) and waits until it accepts queries. */
export async function startPostgres(config: FlywheelConfig, onNote?: (line: string) => void): Promise<ProcessRecord> {
  const layout = await postgresLayout(config);
  if (layout.note) onNote?.(layout.note);
  if (!fs.existsSync(path.join(layout.dataDir, 'PG_VERSION'))) {
    onNote?.(`initdb ${layout.dataDir} (scram-sha-256; generated passwords in ${postgresCredentialsFile(config.dataDir)}, 0600)`);
    await initCluster(config, layout);
  } else if (!config.postgres.credentials) {
    if (await usesTrust(layout)) {
      onNote?.(
        'warning: this cluster predates password authentication (trust, and Flywheel\'s role is its superuser): any local process can connect. ' +
          `Back up what you need, then \`flywheel down\` and remove ${layout.dataDir} to have it made again with passwords and least-privilege roles`,
      );
    } else {
      throw new StackError(`the cluster in ${layout.dataDir} needs passwords, but ${postgresCredentialsFile(config.dataDir)} is missing: restore it from a backup`);
    }
  }
  await writeFlywheelConf(config, layout);
  await fsp.mkdir(path.dirname(layout.logFile), { recursive: true });
  await fsp.appendFile(layout.logFile, '');
  await chownTo(layout, layout.logFile);
  if (findSupervisord(config)) {
    // supervisord needs the server in the foreground (the postmaster is the program it watches):
    // `postgres -D`, not `pg_ctl start`. SIGINT is PostgreSQL's fast shutdown. A restarted
    // postmaster waits (BACKOFF, retried) until the backends of a killed one have gone.
    return launch(
      config,
      {
        name: POSTGRES,
        command: path.join(layout.binDir, 'postgres'),
        args: ['-D', layout.dataDir],
        cwd: layout.dataDir,
        logFile: layout.logFile,
        ...(layout.runAs ? { user: layout.runAs.user } : {}),
        stopSignal: 'INT',
        stopWaitSecs: 60,
      },
      { what: 'PostgreSQL', healthy: () => isPostgresHealthy(config), timeoutMs: 60_000 },
    );
  }
  await runPg(layout, 'pg_ctl', ['--pgdata', layout.dataDir, '--log', layout.logFile, '--wait', '--timeout', '60', '--silent', 'start']);
  const pid = Number((await fsp.readFile(path.join(layout.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const info = await procInfo(pid);
  const record: ProcessRecord = {
    name: POSTGRES,
    pid,
    command: info?.argv[0] ?? path.join(layout.binDir, 'postgres'),
    args: ['-D', layout.dataDir],
    cwd: layout.dataDir,
    startTicks: info?.startTicks ?? '',
    startedAt: new Date().toISOString(),
    logFile: layout.logFile,
  };
  await writeRecord(config, record);
  const ready = await waitUntil(() => isPostgresHealthy(config), { timeoutMs: 30_000, intervalMs: 200 });
  if (ready !== 'ready') {
    throw new StackError(`PostgreSQL started but does not accept connections on 127.0.0.1:${config.postgres.localPort}; see ${layout.logFile}`, layout.logFile);
  }
  return record;
}

/** Stops the cluster only when Flywheel started it; a fast shutdown ends sessions cleanly. */
export async function stopPostgres(config: FlywheelConfig): Promise<boolean> {
  const record = await ownedPostgres(config);
  if (!record) return false;
  // Under supervisord: through it (SIGINT, the fast shutdown), or it would start the server again.
  if (record.supervisorState) return stopProcess(config, POSTGRES);
  const layout = { ...(await postgresLayout(config)), dataDir: record.args[1]!, logFile: record.logFile };
  await runPg(layout, 'pg_ctl', ['--pgdata', layout.dataDir, '--mode', 'fast', '--wait', '--timeout', '60', '--silent', 'stop']);
  await removeRecord(config, POSTGRES);
  return true;
}

/**
 * What tightening the data folder must leave open for the cluster: the cluster's own folder (its
 * owner guards it), and, when it runs as the `postgres` user inside our data folder, a way
 * through the data folder and logs/ to reach it.
 */
export async function clusterFolderNeeds(config: FlywheelConfig): Promise<TightenOptions> {
  if (config.postgres.external) return {};
  const layout = await postgresLayout(config).catch(() => undefined);
  if (!layout) return {};
  const inside = !path.relative(config.dataDir, layout.dataDir).startsWith('..');
  return {
    skip: [layout.dataDir],
    ...(layout.runAs && inside ? { traversable: [config.dataDir, dataPaths(config).logs] } : {}),
  };
}

/** A cluster made before passwords: pg_hba.conf still says trust. */
async function usesTrust(layout: PostgresLayout): Promise<boolean> {
  const hba = await fsp.readFile(path.join(layout.dataDir, 'pg_hba.conf'), 'utf8').catch(() => '');
  return /^\s*(local|host)\s.*\btrust\s*$/m.test(hba);
}

/**
 * Creates Flywheel's and MLflow's databases when missing; returns those created now. For a server
 * of our own that is both, each owned by its own role (made or updated here from the credentials
 * file); on a DATABASE_URL server only MLflow's, and only if our role may.
 */
export async function ensureDatabases(config: FlywheelConfig): Promise<string[]> {
  const admin = config.postgres.adminUrl;
  const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  const created: string[] = [];
  try {
    await client.connect();
    const creds = config.postgres.external ? undefined : config.postgres.credentials;
    if (creds) {
      await ensureRoles(client, creds);
      // Nobody but the superuser needs the maintenance database.
      await client.query('REVOKE CONNECT ON DATABASE postgres FROM PUBLIC');
      const app = databaseName(config.postgres.url);
      if (await ensureOwnedDatabase(client, app, creds.app.user, creds.monitor.user)) created.push(app);
      const mlflow = databaseName(config.postgres.mlflowUrl);
      if (await ensureOwnedDatabase(client, mlflow, creds.mlflow.user)) created.push(mlflow);
      return created;
    }
    const wanted = [...new Set(config.postgres.external ? [databaseName(config.postgres.mlflowUrl)] : [databaseName(config.postgres.url), databaseName(config.postgres.mlflowUrl)])];
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [wanted]);
    for (const name of wanted.filter((w) => !rows.some((r) => r.datname === w))) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
        created.push(name);
      } catch (err) {
        // 42P04: another process created it between our look and our CREATE.
        if ((err as { code?: string }).code === '42P04') continue;
        throw new StackError(`database "${name}" is missing and cannot be created: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    if (err instanceof StackError) throw err;
    throw new StackError(`cannot prepare PostgreSQL's roles and databases at ${redact(admin)}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  return created;
}

/**
 * A throwaway database owned by Flywheel's role (tests, benchmarks): made with the admin login,
 * used with the app's, dropped with `dropDatabase`. Returns its app URL.
 */
export async function createScratchDatabase(config: FlywheelConfig, name: string): Promise<string> {
  const owner = decodeURIComponent(new URL(config.postgres.url).username) || 'flywheel';
  const client = new pg.Client({ connectionString: config.postgres.adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoteIdent(name)} OWNER ${quoteIdent(owner)}`);
    if (config.postgres.credentials) await client.query(`REVOKE ALL ON DATABASE ${quoteIdent(name)} FROM PUBLIC`);
  } finally {
    await client.end();
  }
  return withDatabase(config.postgres.url, name);
}

export async function dropDatabase(config: FlywheelConfig, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: config.postgres.adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** A database URL fit for logs and status output. */
export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
