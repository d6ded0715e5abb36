/** The stack's pidfiles hold the pid alone (`kill $(cat x.pid)` works); the record proving whose pid it is sits beside them. */
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../config/index';
import { pidFile, readRecord, recordFile, removeRecord, writeRecord, type ProcessRecord } from '../../scripts/stack/processes';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function config() {
  const dir = await mkdtemp(path.join(tmpdir(), 'flywheel-pid-'));
  dirs.push(dir);
  return loadConfig({ FLYWHEEL_DATA_DIR: dir });
}

const record: ProcessRecord = { name: 'mlflow', pid: 4242, command: 'mlflow', args: ['server'], cwd: '/', startTicks: '123', startedAt: '2026-01-01T00:00:00.000Z', logFile: '/tmp/x.log' };

it('writes the pid alone on one line, and reads the record back', async () => {
  const c = await config();
  await writeRecord(c, record);
  expect(await readFile(pidFile(c, 'mlflow'), 'utf8')).toBe('4242\n');
  expect(await readRecord(c, 'mlflow')).toEqual(record);
  await removeRecord(c, 'mlflow');
  expect(await readRecord(c, 'mlflow')).toBeUndefined();
  await expect(readFile(recordFile(c, 'mlflow'), 'utf8')).rejects.toThrow();
});

it('still reads a pidfile written in the old two-line format (a stack started before the change)', async () => {
  const c = await config();
  await mkdir(path.dirname(pidFile(c, 'mlflow')), { recursive: true });
  await writeFile(pidFile(c, 'mlflow'), `4242\n${JSON.stringify(record)}\n`);
  expect(await readRecord(c, 'mlflow')).toEqual(record);
});
