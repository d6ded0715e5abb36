/**
 * Credentials the local stack generates for itself and keeps in the data folder
 * (`<data>/credentials/`, folder 0700, files 0600): PostgreSQL's roles and MLflow's admin user.
 * Read here, synchronously and when first needed, because the stack creates them after a config
 * has been loaded (the first `flywheel up` makes the cluster, then uses the same config). Written
 * by scripts/stack/local-credentials-store.ts.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Login {
  user: string;
  password: string;
}

/** The local PostgreSQL cluster's roles (scripts/stack/postgres-roles.ts says what each may do). */
export interface PostgresCredentials {
  /** The bootstrap superuser: `flywheel up` (roles, databases), the tests' throwaway databases. */
  superuser: Login;
  /** Flywheel's own role: owns its database and nothing more. */
  app: Login;
  /** MLflow's backend store role: owns the mlflow database. */
  mlflow: Login;
  /** prometheus-postgres-exporter: member of pg_monitor, owns nothing. */
  monitor: Login;
}

export function credentialsDir(dataDir: string): string {
  return path.join(dataDir, 'credentials');
}

export function postgresCredentialsFile(dataDir: string): string {
  return path.join(credentialsDir(dataDir), 'postgres.json');
}

export function mlflowCredentialsFile(dataDir: string): string {
  return path.join(credentialsDir(dataDir), 'mlflow.json');
}

/** Undefined while the file does not exist; a file that exists but does not parse is an error. */
export function readCredentials<T>(file: string): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${file} is not valid JSON: restore it from a backup, or remove it together with what it protects`);
  }
}

/** A URL for `login` on the same server and database as `url`. */
export function withLogin(url: string, login: Login): string {
  const u = new URL(url);
  u.username = encodeURIComponent(login.user);
  u.password = encodeURIComponent(login.password);
  return u.toString();
}
