/**
 * A production-shaped Temporal for Flywheel's tests (issue 18): the server built from its Go module
 * with PostgreSQL persistence, beside the local stack (same PostgreSQL cluster, its own role and
 * databases). Same Flywheel code, configuration only: TEMPORAL_ADDRESS points at it.
 *
 *   npx tsx scripts/production-temporal/main.ts build    # go install, once (~15 min on 2 cores); cached in .flywheel/tools
 *   npx tsx scripts/production-temporal/main.ts up       # role, databases, schema (versioned), start; port 7733
 *   npx tsx scripts/production-temporal/main.ts test     # up, the durability and rollout tests against it, down
 *   npx tsx scripts/production-temporal/main.ts stop|start|down
 *
 * The local stack must be up (`flywheel up --no-workers`): PostgreSQL and MLflow are its. Not a step
 * of `npm test`, because of the build; its last result is in docs/benchmarks.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { credentialsDir, readCredentials, type Login } from '../../config/local-credentials';
import { loadConfig, PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { ensureOwnedDatabase, quoteIdent, writeCredentialsFile } from '../stack/postgres-roles';
import { launch, stopProcess } from '../stack/processes';
import { PRODUCTION_DYNAMIC_CONFIG, renderProductionTemporalConfig } from './config';

export const SERVER_VERSION = 'v1.30.4';
const TOOLS = path.join(PROJECT_ROOT, '.flywheel', 'tools', 'temporal-server');
const SERVER_BIN = path.join(TOOLS, 'bin', 'server');
const SQL_TOOL = path.join(TOOLS, 'bin', 'sql');
const SCHEMA = path.join(TOOLS, 'schema', 'postgresql', 'v12');
const NAME = 'production-temporal';
const ROLE = 'flywheel_temporal';
const DATABASES = { history: 'temporal', visibility: 'temporal_visibility' };
const PORT = Number(process.env.FLYWHEEL_PRODUCTION_TEMPORAL_PORT ?? 7733);
const ADDRESS = `127.0.0.1:${PORT}`;

/** The durability and rollout part of the integration suite: what a server's persistence decides. */
export const SUITE = [
  'test/integration/training-pipeline.test.ts',
  'test/integration/worker-kill.test.ts',
  'test/integration/temporal-restart.test.ts',
  'test/integration/rollouts.test.ts',
  'test/integration/canary-continue-as-new.test.ts',
  'test/integration/ab-continue-as-new.test.ts',
  'test/integration/schedule.test.ts',
  'test/integration/drift.test.ts',
  'test/integration/upgrade.test.ts',
];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function build(): void {
  if (fs.existsSync(SERVER_BIN) && fs.existsSync(SQL_TOOL) && fs.readFileSync(path.join(TOOLS, 'VERSION'), 'utf8').trim() === SERVER_VERSION) return;
  say(`building the Temporal server ${SERVER_VERSION} and its SQL tool from the Go module (about 15 minutes on 2 cores, once)`);
  fs.mkdirSync(path.join(TOOLS, 'bin'), { recursive: true });
  const env = { ...process.env, GOBIN: path.join(TOOLS, 'bin'), GOFLAGS: '-trimpath' };
  for (const pkg of ['cmd/server', 'cmd/tools/sql']) execFileSync('go', ['install', `go.temporal.io/server/${pkg}@${SERVER_VERSION}`], { env, stdio: 'inherit' });
  // The versioned schema ships in the module, not in the binaries: keep a copy beside them.
  const mod = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  fs.rmSync(path.join(TOOLS, 'schema'), { recursive: true, force: true });
  fs.cpSync(path.join(mod, `go.temporal.io/server@${SERVER_VERSION}`, 'schema', 'postgresql'), path.join(TOOLS, 'schema', 'postgresql'), { recursive: true });
  fs.chmodSync(path.join(TOOLS, 'schema'), 0o755);
  fs.writeFileSync(path.join(TOOLS, 'VERSION'), `${SERVER_VERSION}\n`);
}

function place(config: FlywheelConfig): string {
  return path.join(config.dataDir, NAME);
}

/** Its own login, generated once, 0600 beside the stack's. */
function login(config: FlywheelConfig): Login {
  const file = path.join(credentialsDir(config.dataDir), 'temporal-postgres.json');
  const existing = readCredentials<Login>(file);
  if (existing) return existing;
  const fresh: Login = { user: ROLE, password: randomBytes(24).toString('base64url') };
  writeCredentialsFile(file, fresh);
  return fresh;
}

async function prepareDatabases(config: FlywheelConfig, who: Login): Promise<void> {
  const admin = new pg.Client({ connectionString: config.postgres.adminUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [who.user]);
    const verb = rows.length ? 'ALTER' : 'CREATE';
    await admin.query(`${verb} ROLE ${quoteIdent(who.user)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${who.password.replace(/'/g, "''")}'`);
    for (const db of Object.values(DATABASES)) await ensureOwnedDatabase(admin, db, who.user);
  } finally {
    await admin.end();
  }
}

/** setup-schema once (version 0.0), then every versioned step not applied yet: what upgrades use too. */
function migrateSchema(config: FlywheelConfig, who: Login): void {
  const { hostname, port } = new URL(config.postgres.url);
  for (const [kind, db] of [['temporal', DATABASES.history], ['visibility', DATABASES.visibility]] as const) {
    const base = ['--plugin', 'postgres12', '--ep', hostname, '-p', port || '5432', '-u', who.user, '--pw', who.password, '--db', db];
    const sql = (args: string[]) => spawnSync(SQL_TOOL, [...base, ...args], { encoding: 'utf8' });
    const update = () => sql(['update-schema', '-d', path.join(SCHEMA, kind, 'versioned')]);
    let r = update();
    if (r.status !== 0) {
      // A database without a schema_version table yet: set it up at 0.0, then update.
      const setup = sql(['setup-schema', '-v', '0.0']);
      if (setup.status !== 0) throw new Error(`temporal-sql-tool setup-schema on ${db} failed:\n${setup.stderr || setup.stdout}`);
      r = update();
    }
    if (r.status !== 0) throw new Error(`temporal-sql-tool update-schema on ${db} failed:\n${r.stderr || r.stdout}`);
    const version = /Schema updated from [\d.]+ to ([\d.]+)/g;
    const last = [...`${r.stdout}${r.stderr}`.matchAll(version)].pop()?.[1];
    say(`${db}: schema ${last ? `updated to ${last}` : 'up to date'}`);
  }
}

async function healthy(): Promise<boolean> {
  try {
    const c = await Connection.connect({ address: ADDRESS, connectTimeout: '1s' });
    try {
      await c.withDeadline(Date.now() + 2_000, () => c.workflowService.getSystemInfo({}));
      return true;
    } finally {
      await c.close().catch(() => undefined);
    }
  } catch {
    return false;
  }
}

/** A SQL-backed server creates no namespace by itself; Flywheel's default one is made here. */
async function ensureNamespace(namespace: string): Promise<void> {
  const c = await Connection.connect({ address: ADDRESS });
  try {
    await c.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('7 days') }).catch((err: { code?: number }) => {
      if (err.code !== 6 /* ALREADY_EXISTS */) throw err;
    });
  } finally {
    await c.close();
  }
}

async function start(config: FlywheelConfig): Promise<void> {
  if (await healthy()) return say(`${NAME}: already serving at ${ADDRESS}`);
  const who = login(config);
  const { hostname, port } = new URL(config.postgres.url);
  const dir = place(config);
  fs.mkdirSync(path.join(dir, 'config'), { recursive: true, mode: 0o700 });
  const dynamic = path.join(dir, 'dynamicconfig.yaml');
  fs.writeFileSync(dynamic, PRODUCTION_DYNAMIC_CONFIG);
  const configText = renderProductionTemporalConfig({ ports: { frontend: PORT }, postgres: { host: hostname, port: Number(port || 5432), user: who.user, password: who.password }, databases: DATABASES, dynamicConfigFile: dynamic });
  fs.writeFileSync(path.join(dir, 'config', 'production.yaml'), configText, { mode: 0o600 });
  const started = Date.now();
  await launch(config, { name: NAME, command: SERVER_BIN, args: ['--config-file', path.join(dir, 'config', 'production.yaml'), '--allow-no-auth', 'start'], cwd: dir }, { what: NAME, healthy, timeoutMs: 120_000 });
  say(`${NAME}: ready at ${ADDRESS} in ${((Date.now() - started) / 1000).toFixed(1)} s (PostgreSQL ${hostname}:${port}, databases ${DATABASES.history}, ${DATABASES.visibility})`);
}

async function up(config: FlywheelConfig): Promise<void> {
  build();
  const who = login(config);
  await prepareDatabases(config, who);
  migrateSchema(config, who);
  await start(config);
  await ensureNamespace(config.temporal.namespace);
}

async function stop(config: FlywheelConfig): Promise<void> {
  say((await stopProcess(config, NAME)) ? `${NAME}: stopped` : `${NAME}: not running`);
}

/** The suite against this server; the dev server of the stack is left alone (nothing dials it). */
async function test(config: FlywheelConfig, files: string[]): Promise<number> {
  await up(config);
  const self = `${process.execPath} --import tsx ${path.relative(PROJECT_ROOT, new URL(import.meta.url).pathname)}`;
  const started = Date.now();
  const run = spawnSync('npx', ['vitest', 'run', '--project', 'integration', ...(files.length ? files : SUITE)], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
    env: { ...process.env, TEMPORAL_ADDRESS: ADDRESS, FLYWHEEL_TEST_TEMPORAL_RESTART: self },
  });
  say(`${NAME}: the suite ran in ${Math.round((Date.now() - started) / 1000)} s against Temporal ${SERVER_VERSION} on PostgreSQL: exit ${run.status}`);
  await stop(config);
  return run.status ?? 1;
}

const [command, ...rest] = process.argv.slice(2);
const config = loadConfig();
const commands: Record<string, () => Promise<number | void>> = {
  build: async () => build(),
  up: () => up(config),
  start: () => start(config),
  stop: () => stop(config),
  down: () => stop(config),
  test: () => test(config, rest),
};
if (!command || !commands[command]) {
  process.stderr.write(`usage: npx tsx scripts/production-temporal/main.ts ${Object.keys(commands).join('|')} [test files…]\n`);
  process.exit(2);
}
commands[command]!().then(
  (code) => process.exit(typeof code === 'number' ? code : 0),
  (err: Error) => {
    process.stderr.write(`${NAME}: ${err.message}\n`);
    process.exit(1);
  },
);
