/**
 * `flywheel backup create|list|verify|restore|prune`: both databases and the data folder's
 * artifacts and datasets into FLYWHEEL_BACKUP_DIR (activities/backup.ts). Exit 1 when a backup does
 * not verify or a step fails.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import { connectTemporal } from '../../clients/temporal';
import { MlflowClient } from '../../clients/mlflow';
import { parseDuration } from '../../lib/retraining/schedule-spec';
import type { BackupInput } from '../../workflows/backup';
import type { FlywheelConfig } from '../../config/index';
import { createBackup, listBackups, pruneBackups, restoreBackup, verifyBackup } from '../../activities/backup';
import { json, withConfig } from '../command-kit';
import { CliError, EXIT, printFields, printJson, printTable } from '../output';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function failed(what: string, err: unknown): CliError {
  return new CliError(`${what}: ${(err as Error).message}`, EXIT.failure);
}

async function create(config: FlywheelConfig, opts: { json?: boolean; prune?: boolean }): Promise<void> {
  const m = await createBackup(config, new MlflowClient(config.mlflow)).catch((err) => Promise.reject(failed('backup failed', err)));
  const verified = await verifyBackup(config, m.id);
  const pruned = opts.prune ? pruneBackups(config) : undefined;
  if (opts.json) printJson({ ...m, problems: verified.problems, pruned });
  else {
    printFields({
      backup: m.id,
      'dumps': m.dumps.map((d) => `${d.database} ${mib(d.bytes)}`).join(', '),
      files: `${m.files.length} (${mib(m.files.reduce((s, f) => s + f.bytes, 0))}; ${mib(m.newBytes)} new)`,
      seconds: m.seconds.toFixed(1),
      verified: verified.problems.length ? verified.problems.join('; ') : 'yes',
      ...(pruned ? { pruned: `${pruned.deleted.length} backups, ${pruned.objectsDeleted} objects` } : {}),
    });
  }
  if (verified.problems.length) process.exitCode = EXIT.failure;
}

async function list(config: FlywheelConfig, opts: { json?: boolean }): Promise<void> {
  const all = listBackups(config);
  if (opts.json) printJson(all.map(({ files, ...m }) => ({ ...m, files: files.length })));
  else printTable(all.map((m) => ({ id: m.id, created: m.createdAt, databases: mib(m.dumps.reduce((s, d) => s + d.bytes, 0)), files: m.files.length, new: mib(m.newBytes) })));
}

async function verify(config: FlywheelConfig, id: string | undefined, opts: { json?: boolean }): Promise<void> {
  const r = await verifyBackup(config, id).catch((err) => Promise.reject(failed('verify', err)));
  if (opts.json) printJson(r);
  else printFields({ backup: r.id, verified: r.problems.length ? 'NO' : 'yes', ...(r.problems.length ? { problems: r.problems.join('\n') } : {}) });
  if (r.problems.length) process.exitCode = EXIT.failure;
}

async function restore(config: FlywheelConfig, id: string | undefined, opts: { json?: boolean; dataDir: string; databaseUrl: string }): Promise<void> {
  const r = await restoreBackup(config, id, { dataDir: opts.dataDir, databaseUrl: opts.databaseUrl }).catch((err) => Promise.reject(failed('restore', err)));
  if (opts.json) printJson(r);
  else printFields({ restored: r.id, 'data folder': opts.dataDir, seconds: r.seconds.toFixed(1), next: `FLYWHEEL_DATA_DIR=${opts.dataDir} DATABASE_URL=<that server> flywheel up` });
}

async function prune(config: FlywheelConfig, opts: { json?: boolean }): Promise<void> {
  const r = pruneBackups(config);
  if (opts.json) printJson(r);
  else printFields({ 'retention (days)': config.backup.retentionDays, 'backups deleted': r.deleted.join(', ') || 'none', 'objects deleted': r.objectsDeleted });
}

export const BACKUP_SCHEDULE_ID = 'flywheel-backup';

/** A Temporal Schedule running the Backup workflow (default hourly: a recovery point of at most an hour). */
async function schedule(config: FlywheelConfig, opts: { json?: boolean; every: string }): Promise<void> {
  const everyMs = parseDuration(opts.every);
  if (everyMs === undefined) throw new CliError(`--every: "${opts.every}" must be a duration like 30m or 1h`, EXIT.badInput);
  const input: BackupInput = { prune: true, taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control } };
  const { client, connection } = await connectTemporal(config);
  try {
    await client.schedule.create({
      scheduleId: BACKUP_SCHEDULE_ID,
      spec: { intervals: [{ every: everyMs }] },
      action: { type: 'startWorkflow', workflowType: 'Backup', workflowId: 'backup', taskQueue: config.taskQueues.workflows, args: [input], staticSummary: 'Back up both databases and the data folder' },
      // A backup still running when the next is due: skip the next; a missed one is not made up later.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: everyMs },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new CliError(`schedule ${BACKUP_SCHEDULE_ID} already exists: delete it first (temporal schedule delete -s ${BACKUP_SCHEDULE_ID})`, EXIT.badInput);
    throw err;
  } finally {
    await connection.close();
  }
  if (opts.json) printJson({ scheduleId: BACKUP_SCHEDULE_ID, everyMs, retentionDays: config.backup.retentionDays });
  else printFields({ schedule: BACKUP_SCHEDULE_ID, every: opts.every, 'retention (days)': config.backup.retentionDays, 'backups in': config.backup.dir });
}

export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('back up and restore both databases, MLflow artifacts and datasets (FLYWHEEL_BACKUP_DIR)');
  json(backup.command('create').description('dump both databases, copy new artifact and dataset files, verify').option('--prune', 'then delete backups past FLYWHEEL_BACKUP_RETENTION_DAYS')).action(
    withConfig((config, opts: { json?: boolean; prune?: boolean }) => create(config, opts)),
  );
  json(backup.command('list').description('finished backups, oldest first')).action(withConfig((config, opts: { json?: boolean }) => list(config, opts)));
  json(backup.command('verify [id]').description('pg_restore --list each dump and check every checksum (default: the latest)')).action(
    withConfig((config, id: string | undefined, opts: { json?: boolean }) => verify(config, id, opts)),
  );
  json(
    backup
      .command('restore [id]')
      .description('restore a backup (default: the latest) into a new data folder and empty databases')
      .requiredOption('--data-dir <dir>', 'an empty or new folder for the restored data')
      .requiredOption('--database-url <url>', 'Flywheel\'s database on the target server (MLflow\'s goes to `mlflow` there); created when missing, must be empty'),
  ).action(withConfig((config, id: string | undefined, opts: { json?: boolean; dataDir: string; databaseUrl: string }) => restore(config, id, opts)));
  json(backup.command('schedule').description('a Temporal Schedule running the Backup workflow (workers must reach pg_dump and the data folder)').option('--every <duration>', 'how often', '1h')).action(
    withConfig((config, opts: { json?: boolean; every: string }) => schedule(config, opts)),
  );
  json(backup.command('prune').description('delete backups past FLYWHEEL_BACKUP_RETENTION_DAYS (never the newest) and unused files')).action(
    withConfig((config, opts: { json?: boolean }) => prune(config, opts)),
  );
}
