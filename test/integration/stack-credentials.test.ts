/**
 * The local stack's own defences, on the stack the tests run against: PostgreSQL asks every
 * connection for a scram-sha-256 password and Flywheel's role owns its database and nothing more
 * (no superuser, so no `COPY … TO PROGRAM`); MLflow answers nobody without a login (so nobody can
 * re-point `champion` anonymously) while Flywheel's client, with the generated login, works; and
 * the data folder is closed to other users.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPaths, loadConfig } from '../../config/index';
import { mlflowCredentialsFile, postgresCredentialsFile, withLogin } from '../../config/local-credentials';
import { MlflowClient } from '../../clients/mlflow';
import { uniqueModelName } from './helpers/env';

const config = loadConfig();
const creds = config.postgres.credentials;
const app = new pg.Pool({ connectionString: config.postgres.url, max: 1 });
const admin = new pg.Pool({ connectionString: config.postgres.adminUrl, max: 1 });
app.on('error', () => undefined);
admin.on('error', () => undefined);

afterAll(async () => {
  await app.end();
  await admin.end();
});

function sqlstate(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (err: { code?: string }) => err.code ?? 'no code',
  );
}

async function connects(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe.skipIf(config.postgres.external)('the local stack, secured by default', () => {
  it('was made with generated logins (a cluster older than them is told to be remade by `flywheel up`)', () => {
    expect(creds, `no ${postgresCredentialsFile(config.dataDir)}: this cluster predates password authentication`).toBeDefined();
    expect(new Set([creds!.superuser.password, creds!.app.password, creds!.mlflow.password, creds!.monitor.password]).size).toBe(4);
  });

  it('PostgreSQL trusts nobody: no trust rule, and a wrong password is refused', async () => {
    const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_hba_file_rules WHERE auth_method = 'trust'");
    expect(rows[0]!.n).toBe(0);
    const { rows: methods } = await admin.query<{ auth_method: string }>('SELECT DISTINCT auth_method FROM pg_hba_file_rules');
    expect(methods.map((m) => m.auth_method)).toEqual(['scram-sha-256']);
    expect(await connects(withLogin(config.postgres.url, { user: creds!.app.user, password: 'not-the-password' }))).toBe('28P01');
    expect(await connects(withLogin(config.postgres.adminUrl, { user: creds!.superuser.user, password: creds!.app.password }))).toBe('28P01');
  });

  it("Flywheel's role is no superuser: it owns its database and nothing more", async () => {
    const { rows } = await app.query<{ rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean; rolreplication: boolean; rolbypassrls: boolean; owner: string }>(
      `SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication, r.rolbypassrls, pg_get_userbyid(d.datdba) AS owner
       FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
    );
    expect(rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, owner: creds!.app.user });
    // What a superuser could do from SQL and this role cannot: run programs, read server files, make databases or roles.
    expect(await sqlstate(app.query("COPY (SELECT 1) TO PROGRAM 'true'"))).toBe('42501');
    expect(await sqlstate(app.query("SELECT pg_read_file('/etc/passwd')"))).toBe('42501');
    expect(await sqlstate(app.query('CREATE DATABASE flywheel_should_not_exist'))).toBe('42501');
    expect(await sqlstate(app.query('CREATE ROLE flywheel_should_not_exist'))).toBe('42501');
    // It creates and drops its own tables (migrations run as this role).
    await app.query('CREATE TABLE IF NOT EXISTS stack_credentials_probe (x int)');
    await app.query('DROP TABLE stack_credentials_probe');
  });

  it("each role reaches only its own database: Flywheel's not MLflow's, MLflow's not Flywheel's", async () => {
    expect(await connects(config.postgres.mlflowUrl)).toBe('ok');
    expect(await connects(withLogin(config.postgres.mlflowUrl, creds!.app))).toBe('42501');
    expect(await connects(withLogin(config.postgres.url, creds!.mlflow))).toBe('42501');
    expect(await connects(withLogin(config.postgres.adminUrl, creds!.app))).toBe('42501');
  });

  it('MLflow refuses anonymous and wrong logins, and a stranger cannot register or move anything', async () => {
    const base = config.mlflow.trackingUri;
    const search = `${base}/api/2.0/mlflow/experiments/search?max_results=1`;
    expect((await fetch(search)).status).toBe(401);
    const wrong = { authorization: `Basic ${Buffer.from('flywheel:wrong-password-here').toString('base64')}` };
    expect((await fetch(search, { headers: wrong })).status).toBe(401);
    const name = uniqueModelName('stranger');
    const post = (endpoint: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}/api/2.0/mlflow/${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect((await post('registered-models/create', { name })).status).toBe(401);
    expect((await post('registered-models/alias', { name, alias: 'champion', version: '1' })).status).toBe(401);
    // Flywheel's own client sends the generated login and is let through.
    const mlflow = new MlflowClient(config.mlflow);
    expect(await mlflow.getRegisteredModel(name)).toBeUndefined();
    await mlflow.ensureRegisteredModel(name, 'made with the generated login');
    expect((await mlflow.getRegisteredModel(name))?.name).toBe(name);
  });

  it('the data folder is closed to other users: credentials 0600 in a 0700 folder, no folder others may list', () => {
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    const paths = dataPaths(config);
    expect([0o700, 0o711]).toContain(mode(config.dataDir));
    expect(mode(paths.credentials)).toBe(0o700);
    for (const file of [postgresCredentialsFile(config.dataDir), mlflowCredentialsFile(config.dataDir), path.join(paths.credentials, 'cli.key')]) {
      expect({ file, mode: mode(file).toString(8) }).toEqual({ file, mode: '600' });
    }
    if (fs.existsSync(paths.temporalDb)) expect(mode(paths.temporalDb)).toBe(0o600);
    // The folders the stack makes and its services write into: at most traversable (logs/, 0711),
    // never listable or writable by others. (Folders this test run's own processes make later,
    // with the test runner's umask, are not the stack's: they are left out.)
    const { postgres: _cluster, temporalDb: _db, ...folders } = paths;
    const open = Object.values(folders)
      .filter((p) => fs.existsSync(p))
      .filter((p) => (mode(p) & 0o066) !== 0 || (mode(p) & 0o011 && p !== paths.logs));
    expect(open).toEqual([]);
  });
});
