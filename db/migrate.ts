/**
 * Versioned SQL migrations: each `db/migrations/NNNN_name.sql` is applied once, in its own
 * transaction, in file-name order, and recorded in `schema_migrations`. A session-level advisory
 * lock serialises processes that migrate at the same time (two workers starting together).
 *
 * Run by hand: `npx tsx db/migrate.ts` (uses DATABASE_URL or the local cluster's URL).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Any fixed 64-bit number works; this one is "flywheel" in ASCII, to be recognisable in pg_locks. */
const LOCK_KEY = '7380407443112945004';

const FILE_PATTERN = /^(\d{4,}_[A-Za-z0-9_]+)\.sql$/;

export interface Migration {
  version: string;
  file: string;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await fsp.readdir(dir)).filter((f) => FILE_PATTERN.test(f)).sort();
  return files.map((f) => ({ version: FILE_PATTERN.exec(f)![1]!, file: path.join(dir, f) }));
}

/** Applies the migrations this database lacks; returns their versions (empty when up to date). */
export async function migrate(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await listMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000, application_name: 'flywheel-migrate' });
  client.on('error', () => undefined);
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: string }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (const m of migrations.filter((m) => !done.has(m.version))) {
      const sql = await fsp.readFile(m.file, 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [m.version]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${path.basename(m.file)} failed, nothing of it was applied: ${(err as Error).message}`);
      }
      applied.push(m.version);
    }
  } finally {
    // Ending the session releases the advisory lock even if unlocking is never reached.
    await client.end().catch(() => undefined);
  }
  return applied;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { loadConfig } = await import('../config/index');
  const applied = await migrate(loadConfig().postgres.url);
  console.log(applied.length ? `applied ${applied.join(', ')}` : 'database schema up to date');
}
