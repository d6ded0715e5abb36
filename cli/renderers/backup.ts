/** Backup: which backup it made, how much was new, and what retention deleted. */
import type { BackupResult, BackupStatus } from '../../workflows/backup';
import { closedBadly, fields, type Renderer } from './types';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export const renderBackup: Renderer<BackupStatus, BackupResult> = ({ status: s, result: r, ...view }) => [
  ...fields({
    stage: s?.state ?? (r ? 'done' : undefined),
    backup: r?.id ?? s?.backupId,
    databases: r ? mib(r.dumpBytes) : undefined,
    files: r ? `${r.files} (${mib(r.fileBytes)}; ${mib(r.newBytes)} new)` : undefined,
    pruned: r?.pruned ? `${r.pruned.deleted.length} backups, ${r.pruned.objectsDeleted} files` : undefined,
  }),
  ...closedBadly({ ...view, status: s, result: r }),
];
