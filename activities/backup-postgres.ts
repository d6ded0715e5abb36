/**
 * PostgreSQL side of backups: pg_dump in custom format (one consistent snapshot per database:
 * pg_dump reads inside a single repeatable-read transaction), pg_restore --list to verify a dump,
 * and pg_restore into an empty database. Passwords travel in PGPASSWORD, never in argv (`ps`).
 */
import { spawn } from 'node:child_process';

export const PG_DUMP = process.env.FLYWHEEL_PG_DUMP ?? 'pg_dump';
export const PG_RESTORE = process.env.FLYWHEEL_PG_RESTORE ?? 'pg_restore';

/** A URL without its password, and the environment that carries the password instead. */
function connection(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) } };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function dumpDatabase(url: string, file: string): Promise<void> {
  const c = connection(url);
  const r = await run(PG_DUMP, ['--format=custom', '--no-owner', '--no-privileges', `--file=${file}`, `--dbname=${c.dbname}`], c.env);
  if (r.code !== 0) throw new Error(`pg_dump of ${new URL(url).pathname.slice(1)} failed: ${r.stderr.trim()}`);
}

/** The dump's table of contents, or why pg_restore cannot read it. */
export async function listDump(file: string): Promise<{ ok: true; entries: number } | { ok: false; error: string }> {
  const r = await run(PG_RESTORE, ['--list', file], process.env);
  if (r.code !== 0) return { ok: false, error: r.stderr.trim() || `exit ${r.code}` };
  return { ok: true, entries: r.stdout.split('\n').filter((l) => l && !l.startsWith(';')).length };
}

/** Into an existing, empty database; stops at the first error (a half-restored database is worse than none). */
export async function restoreDatabase(url: string, file: string): Promise<void> {
  const c = connection(url);
  const r = await run(PG_RESTORE, ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${c.dbname}`, file], c.env);
  if (r.code !== 0) throw new Error(`pg_restore into ${new URL(url).pathname.slice(1)} failed: ${r.stderr.trim()}`);
}
