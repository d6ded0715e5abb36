/**
 * What a backup holds and which ones to keep: pure decisions over manifests (the file and database
 * work is in activities/backup*.ts). Files are content-addressed (objects/<sha[0:2]>/<sha>), so a
 * file unchanged since the last backup is referenced again, not copied again.
 */

export interface DumpEntry {
  /** Which database: Flywheel's operational one or MLflow's backend store. */
  database: 'flywheel' | 'mlflow';
  /** File name inside the backup's folder (pg_dump custom format). */
  file: string;
  sha256: string;
  bytes: number;
}

export interface FileEntry {
  /** Folder of the data directory it came from (mlflow-artifacts, datasets, artifacts). */
  root: string;
  /** Path inside that folder, '/'-separated. */
  path: string;
  sha256: string;
  bytes: number;
}

export interface BackupManifest {
  id: string;
  createdAt: string;
  dumps: DumpEntry[];
  files: FileEntry[];
  /** Bytes this backup added to the object store (files not already there). */
  newBytes: number;
  seconds: number;
}

/** Sortable, unique to the millisecond: 20261203T134512345Z. */
export function backupId(at: Date): string {
  return at.toISOString().replace(/[-:.]/g, '');
}

export const objectPath = (sha256: string) => `objects/${sha256.slice(0, 2)}/${sha256}`;

/** Backups older than the retention, oldest first; the newest backup is kept whatever its age. */
export function expiredBackups<T extends { id: string; createdAt: string }>(backups: T[], now: Date, retentionDays: number): T[] {
  const sorted = [...backups].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const cutoff = now.getTime() - retentionDays * 86_400_000;
  return sorted.slice(0, -1).filter((b) => Date.parse(b.createdAt) < cutoff);
}

/** Objects no kept manifest refers to (safe to delete once the expired manifests are gone). */
export function unreferencedObjects(objects: string[], kept: Pick<BackupManifest, 'files'>[]): string[] {
  const used = new Set(kept.flatMap((m) => m.files.map((f) => f.sha256)));
  return objects.filter((o) => !used.has(o));
}

export interface Observed {
  /** Per dump file: its sha256 now, and whether `pg_restore --list` read it (its error otherwise). */
  dumps: Record<string, { sha256?: string; listed: true } | { sha256?: string; listed: false; error: string }>;
  /** Per object referenced: its sha256 now (undefined: missing). */
  objects: Record<string, string | undefined>;
}

/** Everything wrong with a backup, one line each (empty: it verifies). */
export function verifyProblems(m: BackupManifest, seen: Observed): string[] {
  const out: string[] = [];
  for (const d of m.dumps) {
    const s = seen.dumps[d.file];
    if (!s || s.sha256 === undefined) out.push(`${d.file}: missing`);
    else {
      if (s.sha256 !== d.sha256) out.push(`${d.file}: checksum ${s.sha256} differs from the manifest's ${d.sha256}`);
      if (!s.listed) out.push(`${d.file}: pg_restore --list cannot read it: ${s.error}`);
    }
  }
  for (const f of m.files) {
    const now = seen.objects[f.sha256];
    if (now === undefined) out.push(`${f.root}/${f.path}: object ${f.sha256} missing`);
    else if (now !== f.sha256) out.push(`${f.root}/${f.path}: object ${f.sha256} is corrupt (its content hashes to ${now})`);
  }
  return out;
}
