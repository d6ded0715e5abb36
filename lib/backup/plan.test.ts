import { describe, expect, it } from 'vitest';
import { backupId, expiredBackups, objectPath, unreferencedObjects, verifyProblems, type BackupManifest } from './plan';

const day = 86_400_000;
const at = (daysAgo: number, now: Date) => new Date(now.getTime() - daysAgo * day).toISOString();

describe('backup plan', () => {
  const now = new Date('2026-12-03T12:00:00Z');

  it('ids sort by time', () => {
    expect(backupId(new Date('2026-12-03T13:45:12.345Z'))).toBe('20261203T134512345Z');
    expect(backupId(new Date('2026-12-03T09:00:00Z')) < backupId(new Date('2026-12-03T10:00:00Z'))).toBe(true);
    expect(objectPath('abcdef')).toBe('objects/ab/abcdef');
  });

  it('expires backups past the retention, oldest first, never the newest', () => {
    const b = [
      { id: 'c', createdAt: at(1, now) },
      { id: 'a', createdAt: at(40, now) },
      { id: 'b', createdAt: at(31, now) },
      { id: 'd', createdAt: at(29.9, now) },
    ];
    expect(expiredBackups(b, now, 30).map((x) => x.id)).toEqual(['a', 'b']);
    expect(expiredBackups([{ id: 'old', createdAt: at(400, now) }], now, 30)).toEqual([]);
    expect(expiredBackups([{ id: 'x', createdAt: at(400, now) }, { id: 'y', createdAt: at(300, now) }], now, 30).map((x) => x.id)).toEqual(['x']);
  });

  it('finds objects no kept manifest uses', () => {
    expect(unreferencedObjects(['s1', 's2', 's3'], [{ files: [{ root: 'r', path: 'p', sha256: 's2', bytes: 1 }] }])).toEqual(['s1', 's3']);
  });

  it('names every problem of a backup', () => {
    const m: BackupManifest = {
      id: 'x',
      createdAt: now.toISOString(),
      dumps: [
        { database: 'flywheel', file: 'flywheel.dump', sha256: 'd1', bytes: 10 },
        { database: 'mlflow', file: 'mlflow.dump', sha256: 'd2', bytes: 10 },
      ],
      files: [
        { root: 'datasets', path: 'a/b.bin', sha256: 'o1', bytes: 1 },
        { root: 'mlflow-artifacts', path: 'm.onnx', sha256: 'o2', bytes: 1 },
      ],
      newBytes: 2,
      seconds: 1,
    };
    const ok = { dumps: { 'flywheel.dump': { sha256: 'd1', listed: true as const }, 'mlflow.dump': { sha256: 'd2', listed: true as const } }, objects: { o1: 'o1', o2: 'o2' } };
    expect(verifyProblems(m, ok)).toEqual([]);
    expect(
      verifyProblems(m, { dumps: { 'flywheel.dump': { sha256: 'zz', listed: false, error: 'not a dump' } }, objects: { o1: 'bad' } }),
    ).toEqual([
      'flywheel.dump: checksum zz differs from the manifest\'s d1',
      'flywheel.dump: pg_restore --list cannot read it: not a dump',
      'mlflow.dump: missing',
      'datasets/a/b.bin: object o1 is corrupt (its content hashes to bad)',
      'mlflow-artifacts/m.onnx: object o2 missing',
    ]);
  });
});
