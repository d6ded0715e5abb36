/**
 * The local cluster's roles, least privilege first. initdb makes the bootstrap superuser
 * (`postgres`), which only `flywheel up`, the tests and the benchmarks use, to make roles and
 * databases. Everything that runs (gateway, workers, CLI) logs in as the app role, which owns
 * Flywheel's database (and so its `public` schema) and nothing more: not a superuser, no CREATEDB,
 * no CREATEROLE, so no `COPY … TO PROGRAM`, no server files, no other database. MLflow has a role
 * of its own for its store, and the Prometheus exporter one in `pg_monitor`. Every login is a
 * generated password checked with scram-sha-256, kept 0600 in the data folder.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { Login, PostgresCredentials } from '../../config/local-credentials';

export const SUPERUSER = 'postgres';
export const APP_ROLE = 'flywheel';
export const MLFLOW_ROLE = 'flywheel_mlflow';
export const MONITOR_ROLE = 'flywheel_monitor';

/** 192 random bits, URL-safe (they travel inside connection URLs unescaped). */
function password(): string {
  return randomBytes(24).toString('base64url');
}

export function generatePostgresCredentials(): PostgresCredentials {
  const login = (user: string): Login => ({ user, password: password() });
  return { superuser: login(SUPERUSER), app: login(APP_ROLE), mlflow: login(MLFLOW_ROLE), monitor: login(MONITOR_ROLE) };
}

/** Writes a credentials file 0600 in a 0700 folder, replacing the old one whole (rename). */
export function writeCredentialsFile(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Creates the roles that are missing and sets every password from the file (so a file restored
 * from a backup and the cluster agree again). Run as the superuser.
 */
export async function ensureRoles(admin: pg.Client, creds: PostgresCredentials): Promise<void> {
  const roles = [creds.app, creds.mlflow, creds.monitor];
  const { rows } = await admin.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [roles.map((r) => r.user)]);
  for (const login of roles) {
    const verb = rows.some((r) => r.rolname === login.user) ? 'ALTER' : 'CREATE';
    // A password cannot be a bind parameter in CREATE/ALTER ROLE; it is a generated base64url string, quoted anyway.
    await admin.query(
      `${verb} ROLE ${quoteIdent(login.user)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${quoteLiteral(login.password)}`,
    );
  }
  await admin.query(`GRANT pg_monitor TO ${quoteIdent(creds.monitor.user)}`);
}

/**
 * Makes `owner` own `database` (created when missing) and closes it to everyone else but the
 * monitor role: PUBLIC gets CONNECT and TEMP on every new database by default.
 */
export async function ensureOwnedDatabase(admin: pg.Client, database: string, owner: string, monitor?: string): Promise<boolean> {
  const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  let created = false;
  if (rows.length === 0) {
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(owner)}`);
      created = true;
    } catch (err) {
      // 42P04: another process created it between our look and our CREATE.
      if ((err as { code?: string }).code !== '42P04') throw err;
    }
  }
  await admin.query(`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(owner)}`);
  await admin.query(`REVOKE ALL ON DATABASE ${quoteIdent(database)} FROM PUBLIC`);
  if (monitor) await admin.query(`GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(monitor)}`);
  return created;
}
