/**
 * Backups of a Flywheel installation: both databases (pg_dump, custom format) and the files that
 * cannot be rebuilt (MLflow's artifacts and the shared file store among them, read through MLflow's
 * artifact proxy from whichever host runs this: activities/backup-served.ts; and this data folder's
 * dataset store and exported artifacts),
 * content-addressed so each backup copies only what changed. A backup is written under a temporary
 * name and renamed once its manifest is complete: a listed backup is a finished one.
 *
 * Layout of config.backup.dir: backups/<id>/{manifest.json, flywheel.dump, mlflow.dump} and
 * objects/<sha[0:2]>/<sha256>. Not backed up: Temporal's history (workflows in flight are re-run,
 * not restored), checkpoints (a training resumes or restarts), credentials (keys are re-issued),
 * Prometheus' data.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { withDatabase, type FlywheelConfig } from '../config/index';
import { backupId, expiredBackups, unreferencedObjects, verifyProblems, type BackupManifest, type DumpEntry, type Observed } from '../lib/backup/plan';
import { objectPath } from '../lib/backup/plan';
import { hashObjects, listObjects, objectFiles, removeStaleTemporaries, restoreFiles, sha256File, storeFiles } from './backup-files';
import { SERVED_ROOT, storeServedArtifacts, type ServedArtifacts } from './backup-served';
import { MlflowClient } from '../clients/mlflow';
import { dumpDatabase, listDump, restoreDatabase } from './backup-postgres';

/** Folders of the data directory a backup restores: MLflow's artifact root, read through MLflow (SERVED_ROOT), and two of this host's. */
export const BACKUP_ROOTS = [SERVED_ROOT, 'datasets', 'artifacts'] as const;
const LOCAL_ROOTS = BACKUP_ROOTS.filter((r) => r !== SERVED_ROOT);

const backupsDir = (config: FlywheelConfig) => path.join(config.backup.dir, 'backups');

/**
 * `now` names the backup: the Backup workflow passes its own start time, so a retried activity
 * finds the backup its earlier attempt finished instead of making a second one.
 */
export async function createBackup(config: FlywheelConfig, mlflow: ServedArtifacts, now = new Date()): Promise<BackupManifest> {
  const t0 = performance.now();
  const id = backupId(now);
  const final = path.join(backupsDir(config), id);
  if (fs.existsSync(path.join(final, 'manifest.json'))) return JSON.parse(fs.readFileSync(path.join(final, 'manifest.json'), 'utf8')) as BackupManifest;
  const partial = `${final}.partial`;
  fs.rmSync(partial, { recursive: true, force: true }); // an attempt that died half-way
  fs.mkdirSync(partial, { recursive: true });
  try {
    const dumps: DumpEntry[] = [];
    for (const [database, url] of [['flywheel', config.postgres.url], ['mlflow', config.postgres.mlflowUrl]] as const) {
      const file = `${database}.dump`;
      await dumpDatabase(url, path.join(partial, file));
      dumps.push({ database, file, sha256: await sha256File(path.join(partial, file)), bytes: fs.statSync(path.join(partial, file)).size });
    }
    // After the dumps: a file the databases name is older than the dump, so it is in this backup.
    // MLflow's artifacts (and the shared store among them) through the server that serves them,
    // wherever this runs; the rest from this host's data folder.
    const served = await storeServedArtifacts(config.backup.dir, mlflow);
    const local = await storeFiles(config.backup.dir, config.dataDir, LOCAL_ROOTS);
    const files = [...served.files, ...local.files];
    const newBytes = served.newBytes + local.newBytes;
    const manifest: BackupManifest = { id, createdAt: now.toISOString(), dumps, files, newBytes, seconds: (performance.now() - t0) / 1000 };
    fs.writeFileSync(path.join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
    fs.renameSync(partial, final);
    return manifest;
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}

/** Finished backups, oldest first. */
export function listBackups(config: FlywheelConfig): BackupManifest[] {
  const dir = backupsDir(config);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((d) => !d.endsWith('.partial') && fs.existsSync(path.join(dir, d, 'manifest.json')))
    .map((d) => JSON.parse(fs.readFileSync(path.join(dir, d, 'manifest.json'), 'utf8')) as BackupManifest)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export function readBackup(config: FlywheelConfig, id: string | undefined): BackupManifest {
  const all = listBackups(config);
  const m = id === undefined || id === 'latest' ? all[all.length - 1] : all.find((b) => b.id === id);
  if (!m) throw new Error(id === undefined || id === 'latest' ? `no backup in ${config.backup.dir}` : `no backup ${id} in ${config.backup.dir}`);
  return m;
}

/** Problems found (empty: the dumps are readable by pg_restore and every checksum matches). */
export async function verifyBackup(config: FlywheelConfig, id?: string): Promise<{ id: string; problems: string[] }> {
  const m = readBackup(config, id);
  const dir = path.join(backupsDir(config), m.id);
  const seen: Observed = { dumps: {}, objects: await hashObjects(config.backup.dir, m.files.map((f) => f.sha256)) };
  for (const d of m.dumps) {
    const file = path.join(dir, d.file);
    if (!fs.existsSync(file)) continue;
    const listed = await listDump(file);
    seen.dumps[d.file] = { sha256: await sha256File(file), ...(listed.ok ? { listed: true as const } : { listed: false as const, error: listed.error }) };
  }
  return { id: m.id, problems: verifyProblems(m, seen) };
}

export interface RestoreTarget {
  /** A data folder with none of BACKUP_ROOTS holding files yet (its own PostgreSQL cluster, logs and run folders may be there). */
  dataDir: string;
  /** Flywheel's database on the target server; created when missing (owned by this URL's role), refused when not empty. */
  databaseUrl: string;
  /** MLflow's database (default: `mlflow` on the same server, with the same login). */
  mlflowUrl?: string;
  /** A login that may create databases there (default: databaseUrl's, in the `postgres` database). */
  adminUrl?: string;
}

async function ensureEmptyDatabase(url: string, adminUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const owner = decodeURIComponent(new URL(url).username);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    const quote = (id: string) => `"${id.replace(/"/g, '""')}"`;
    // Owned by the role that restores into it and then runs on it (pg_restore --no-owner makes it own every object).
    if (exists.rowCount === 0) await admin.query(`create database ${quote(name)}${owner ? ` owner ${quote(owner)}` : ''}`);
  } finally {
    await admin.end();
  }
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const tables = await db.query("select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')");
    if (tables.rows[0].n > 0) throw new Error(`database ${name} is not empty (${tables.rows[0].n} tables): restore into an empty one`);
  } finally {
    await db.end();
  }
}

/** Verifies, then restores the backup into an empty data folder and empty databases; returns the seconds it took. */
export async function restoreBackup(config: FlywheelConfig, id: string | undefined, target: RestoreTarget): Promise<{ id: string; seconds: number }> {
  const t0 = performance.now();
  const verified = await verifyBackup(config, id);
  if (verified.problems.length) throw new Error(`backup ${verified.id} does not verify: ${verified.problems.join('; ')}`);
  const m = readBackup(config, verified.id);
  const dataDir = path.resolve(target.dataDir);
  // A fresh `flywheel up` there may already hold its PostgreSQL cluster (the restore target): only the folders restored must be empty.
  for (const root of BACKUP_ROOTS) {
    const dir = path.join(dataDir, root);
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: restore into a new data folder`);
  }
  const urls = { flywheel: target.databaseUrl, mlflow: target.mlflowUrl ?? withDatabase(target.databaseUrl, 'mlflow') };
  const adminUrl = target.adminUrl ?? withDatabase(target.databaseUrl, 'postgres');
  for (const url of Object.values(urls)) await ensureEmptyDatabase(url, adminUrl);
  for (const d of m.dumps) await restoreDatabase(urls[d.database], path.join(backupsDir(config), m.id, d.file));
  fs.mkdirSync(dataDir, { recursive: true });
  await restoreFiles(config.backup.dir, dataDir, m.files);
  return { id: m.id, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Deletes backups past the retention (never the newest), then objects no remaining backup uses.
 * Not while another backup is being written: that one may reference an object it found already
 * stored, which is not in any manifest yet. The Backup workflow prunes after its own backup and its
 * Schedule skips overlapping runs; verify catches a backup that lost a file anyway.
 */
export function pruneBackups(config: FlywheelConfig, now = new Date()): { deleted: string[]; objectsDeleted: number } {
  const all = listBackups(config);
  const expired = expiredBackups(all, now, config.backup.retentionDays);
  for (const b of expired) fs.rmSync(path.join(backupsDir(config), b.id), { recursive: true, force: true });
  const kept = all.filter((b) => !expired.includes(b));
  // One walk of objects/ for both: the objects no kept backup names, and a dead backup's temporaries.
  const files = objectFiles(config.backup.dir);
  const orphans = unreferencedObjects(listObjects(config.backup.dir, files), kept);
  for (const sha of orphans) fs.rmSync(path.join(config.backup.dir, objectPath(sha)), { force: true });
  removeStaleTemporaries(config.backup.dir, now.getTime(), files);
  return { deleted: expired.map((b) => b.id), objectsDeleted: orphans.length };
}

/** What the Backup workflow gets back: a summary (a manifest lists every file, too big for a payload). */
export interface BackupSummary {
  id: string;
  dumpBytes: number;
  files: number;
  fileBytes: number;
  newBytes: number;
  seconds: number;
}

export function createBackupActivities(config: FlywheelConfig) {
  const mlflow = new MlflowClient(config.mlflow);
  return {
    async runBackup(input: { at: string }): Promise<BackupSummary> {
      const m = await createBackup(config, mlflow, new Date(input.at));
      return { id: m.id, dumpBytes: m.dumps.reduce((s, d) => s + d.bytes, 0), files: m.files.length, fileBytes: m.files.reduce((s, f) => s + f.bytes, 0), newBytes: m.newBytes, seconds: m.seconds };
    },
    verifyBackupById: (input: { id: string }) => verifyBackup(config, input.id),
    pruneExpiredBackups: async () => pruneBackups(config),
  };
}
