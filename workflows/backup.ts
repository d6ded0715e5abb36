/**
 * Backup: both databases and the data folder's files into FLYWHEEL_BACKUP_DIR
 * (activities/backup.ts), verified, then backups past the retention pruned. Short and stateless:
 * run it from a Temporal Schedule (`flywheel backup schedule`, hourly by default: a recovery point
 * of at most an hour). Its activities run on the CPU queue: they take as long as the dump does, and
 * the control queue must never wait behind them. The workflow's start time names the backup, so a
 * retried activity finishes the same backup rather than making another.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { createActivities } from '../activities/index';
import type { BackupSummary } from '../activities/backup';
import { PIPELINE_STAGE } from '../config/search-attributes';
import type { ActivityTaskQueues } from '../lib/task-queues';

type Activities = ReturnType<typeof createActivities>;

export interface BackupInput {
  /** Delete backups past the retention after this one verifies (default true). */
  prune?: boolean;
  taskQueues: ActivityTaskQueues;
}

export interface BackupResult extends BackupSummary {
  pruned?: { deleted: string[]; objectsDeleted: number };
}

export interface BackupStatus {
  state: 'backing-up' | 'verifying' | 'pruning' | 'done';
  backupId?: string;
}

export const backupStatusQuery = wf.defineQuery<BackupStatus>('status');

export async function Backup(input: BackupInput): Promise<BackupResult> {
  const status: BackupStatus = { state: 'backing-up' };
  wf.setHandler(backupStatusQuery, () => status);
  wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'backup' }]);
  const acts = wf.proxyActivities<Activities>({
    taskQueue: input.taskQueues.cpu,
    startToCloseTimeout: '2 hours',
    retry: { initialInterval: '10s', maximumInterval: '5 minutes', maximumAttempts: 3 },
  });
  const made = await acts.runBackup({ at: wf.workflowInfo().startTime.toISOString() });
  Object.assign(status, { state: 'verifying', backupId: made.id });
  const { problems } = await acts.verifyBackupById({ id: made.id });
  if (problems.length) throw ApplicationFailure.nonRetryable(`backup ${made.id} does not verify: ${problems.slice(0, 5).join('; ')}`, 'BackupInvalid');
  wf.log.info('backup made', { event: 'backup made', backupId: made.id, files: made.files, newBytes: made.newBytes });
  status.state = input.prune === false ? 'done' : 'pruning';
  const pruned = input.prune === false ? undefined : await acts.pruneExpiredBackups();
  status.state = 'done';
  wf.setCurrentDetails(`backup ${made.id}: ${made.files} files (${made.newBytes} bytes new)${pruned ? `, ${pruned.deleted.length} expired deleted` : ''}`);
  return { ...made, ...(pruned ? { pruned } : {}) };
}
