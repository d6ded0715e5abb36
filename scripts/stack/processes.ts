/**
 * Background services that Flywheel starts itself: each runs in its own process group,
 * logs to `.flywheel/logs/<name>.log` and is remembered by `.flywheel/run/<name>.pid` (the pid
 * alone, one line, so `kill $(cat x.pid)` works) and `.flywheel/run/<name>.json` (the record: the
 * command and the kernel's start time of the process, so a pid that was reused by some other
 * program after a crash or reboot is never signalled).
 *
 * Where Debian's supervisord is installed, each service is a program of the stack's supervisord
 * (supervisor.ts), which restarts it when it dies; the record says `supervised`, and its pid is
 * refreshed from supervisord whenever it is read, so it follows the restarts. Without
 * supervisord, services run detached and stay down when they die.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { dataPaths, type FlywheelConfig } from '../../config/index';
import { StackError } from './errors';
import { waitUntil } from './health';
import { withPrivateUmask } from './private-files';
import { findSupervisord, programInfo, startProgram, stopProgram, type ProgramState } from './supervisor';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default `.flywheel/logs/<name>.log`. */
  logFile?: string;
  /** Under supervisord: run as this user (PostgreSQL's, when we are root). */
  user?: string;
  /** Under supervisord: the signal that stops it (default TERM; PostgreSQL's fast shutdown is INT). */
  stopSignal?: 'TERM' | 'INT';
  /** Seconds from the stop signal to SIGKILL of the group (default 15). */
  stopWaitSecs?: number;
}

export interface ProcessRecord {
  name: string;
  pid: number;
  command: string;
  args: string[];
  cwd: string;
  /** Field 22 of /proc/<pid>/stat: together with the pid, unique for the machine's uptime. */
  startTicks: string;
  startedAt: string;
  logFile: string;
  /** Started as a program of the stack's supervisord, which restarts it when it dies. */
  supervised?: boolean;
  /** Not stored: supervisord's word on the program when the record was read (RUNNING, BACKOFF, …). */
  supervisorState?: ProgramState;
}

export function logFile(config: FlywheelConfig, name: string): string {
  return path.join(dataPaths(config).logs, `${name}.log`);
}

export function pidFile(config: FlywheelConfig, name: string): string {
  return path.join(dataPaths(config).run, `${name}.pid`);
}

/** The process record beside the pidfile. */
export function recordFile(config: FlywheelConfig, name: string): string {
  return path.join(dataPaths(config).run, `${name}.json`);
}

interface ProcInfo {
  state: string;
  pgrp: number;
  startTicks: string;
  argv: string[];
}

export async function procInfo(pid: number): Promise<ProcInfo | undefined> {
  try {
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return {
      state: fields[0]!,
      pgrp: Number(fields[2]),
      startTicks: fields[19]!,
      argv: cmdline.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1),
    };
  } catch {
    return undefined;
  }
}

/** Interpreted programs show up as `python3 /…/mlflow server …`: look for our argv inside theirs. */
export function argvMatches(record: Pick<ProcessRecord, 'command' | 'args'>, argv: string[]): boolean {
  const base = path.basename(record.command);
  for (let i = 0; i < argv.length; i++) {
    if (path.basename(argv[i]!) !== base) continue;
    const rest = argv.slice(i + 1, i + 1 + record.args.length);
    if (rest.length === record.args.length && rest.every((a, j) => a === record.args[j])) return true;
  }
  return false;
}

async function isOurs(record: ProcessRecord): Promise<boolean> {
  const info = await procInfo(record.pid);
  return info !== undefined && info.state !== 'Z' && info.startTicks === record.startTicks && argvMatches(record, info.argv);
}

/** Members of a process group that have not exited (zombies excluded: nothing is left to stop). */
export async function livingGroupMembers(pgid: number): Promise<number[]> {
  const pids = (await fsp.readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const members: number[] = [];
  for (const pid of pids) {
    const info = await procInfo(pid);
    if (info && info.pgrp === pgid && info.state !== 'Z') members.push(pid);
  }
  return members;
}

export async function readRecord(config: FlywheelConfig, name: string): Promise<ProcessRecord | undefined> {
  let text: string | undefined = await fsp.readFile(recordFile(config, name), 'utf8').catch(() => undefined);
  // Pidfiles written before the record moved out kept it on their second line.
  text ??= (await fsp.readFile(pidFile(config, name), 'utf8').catch(() => '')).split('\n')[1];
  try {
    const record = JSON.parse(text ?? '') as ProcessRecord;
    return typeof record.pid === 'number' ? record : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRecord(config: FlywheelConfig, record: ProcessRecord): Promise<void> {
  const write = async (file: string, text: string) => {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, text);
    await fsp.rename(tmp, file);
  };
  const { supervisorState: _transient, ...stored } = record;
  record = stored;
  // The record first: a pidfile is never there without the record that proves whose pid it is.
  await write(recordFile(config, record.name), `${JSON.stringify(record)}\n`);
  await write(pidFile(config, record.name), `${record.pid}\n`);
}

export async function removeRecord(config: FlywheelConfig, name: string): Promise<void> {
  await fsp.rm(pidFile(config, name), { force: true });
  await fsp.rm(recordFile(config, name), { force: true });
}

/**
 * The record of a process Flywheel started that is still running (its leader, or what is left of
 * its group); a pidfile that no longer describes a live process is deleted.
 */
export async function ownedProcess(config: FlywheelConfig, name: string): Promise<ProcessRecord | undefined> {
  let record = await readRecord(config, name);
  if (!record) return undefined;
  if (record.supervised) {
    const info = await programInfo(config, name);
    // STOPPED: stopped by hand (`supervisorctl stop`), or loaded by a supervisord started after the
    // one that ran it died; either way supervisord runs nothing of it, so look at the pid below.
    if (info && info.state !== 'STOPPED') {
      if (info.pid > 0 && info.pid !== record.pid) {
        // supervisord restarted it: the pidfile follows.
        const proc = await procInfo(info.pid);
        record = { ...record, pid: info.pid, startTicks: proc?.startTicks ?? '', startedAt: new Date().toISOString() };
        await writeRecord(config, record);
      }
      return { ...record, supervisorState: info.state };
    }
    // supervisord is gone (or does not run it): what was left running is checked like a detached process.
  }
  if (await isOurs(record)) return record;
  // While any member of the group lives, the kernel does not hand its id out as a new pid, so
  // members left behind by a dead leader are still ours.
  if ((await livingGroupMembers(record.pid)).length > 0) return record;
  await removeRecord(config, name);
  return undefined;
}

export async function startProcess(config: FlywheelConfig, spec: ProcessSpec): Promise<ProcessRecord> {
  const log = spec.logFile ?? logFile(config, spec.name);
  await fsp.mkdir(path.dirname(log), { recursive: true });
  const cwd = spec.cwd ?? process.cwd();
  if (findSupervisord(config)) {
    await fsp.appendFile(log, `\n=== ${new Date().toISOString()} flywheel starts under supervisord: ${[spec.command, ...spec.args].join(' ')}\n`);
    const info = await startProgram(config, {
      name: spec.name,
      command: spec.command,
      args: spec.args,
      cwd,
      logFile: log,
      ...(spec.user ? { user: spec.user } : {}),
      // The environment goes to a 0600 file the program loads, not into the configuration.
      ...(spec.env !== undefined || !spec.user ? { env: spec.env ?? process.env } : {}),
      stopSignal: spec.stopSignal ?? 'TERM',
      stopWaitSecs: spec.stopWaitSecs ?? 15,
      startSecs: 3,
      // Linear back-off (1 s, 2 s, …): 30 tries wait about 8 minutes for what it needs (say, PostgreSQL).
      startRetries: 30,
    });
    const proc = await procInfo(info.pid);
    const record: ProcessRecord = {
      name: spec.name,
      pid: info.pid,
      command: spec.command,
      args: spec.args,
      cwd,
      startTicks: proc?.startTicks ?? '',
      startedAt: new Date().toISOString(),
      logFile: log,
      supervised: true,
    };
    await writeRecord(config, record);
    return record;
  }
  const fd = fs.openSync(log, 'a');
  let child;
  try {
    fs.writeSync(fd, `\n=== ${new Date().toISOString()} flywheel starts: ${[spec.command, ...spec.args].join(' ')}\n`);
    // detached: the service leads its own process group, so stopping it reaches every process it
    // forked, and a Ctrl-C in the terminal that ran `flywheel up` does not reach it.
    // umask 077: what the service writes in the data folder is its owner's alone (private-files.ts).
    child = withPrivateUmask(() => spawn(spec.command, spec.args, { cwd, env: spec.env ?? process.env, detached: true, stdio: ['ignore', fd, fd] }));
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) {
    const [err] = (await once(child, 'error')) as [Error];
    throw new StackError(`cannot start ${spec.name} (${spec.command}): ${err.message}`, log);
  }
  child.on('error', () => {});
  child.unref();
  const info = await procInfo(child.pid);
  const record: ProcessRecord = {
    name: spec.name,
    pid: child.pid,
    command: spec.command,
    args: spec.args,
    cwd,
    startTicks: info?.startTicks ?? '',
    startedAt: new Date().toISOString(),
    logFile: log,
  };
  await writeRecord(config, record);
  return record;
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGTERM to the whole group, then SIGKILL to what is left after `graceMs`. */
export async function stopProcess(config: FlywheelConfig, name: string, graceMs = 15_000): Promise<boolean> {
  const record = await ownedProcess(config, name);
  if (!record) return false;
  if (record.supervisorState) {
    // Through supervisord, or it would start the service again: the stop signal to the group,
    // SIGKILL after the program's stopwaitsecs.
    await stopProgram(config, name);
    await removeRecord(config, name);
    return true;
  }
  const leader = await procInfo(record.pid);
  // A group id is only ours to signal when the process still leads it (or its leader is gone).
  const target = !leader || leader.pgrp === record.pid ? -record.pid : record.pid;
  const gone = async () => (target < 0 ? (await livingGroupMembers(record.pid)).length === 0 : !(await isOurs(record)));
  signal(target, 'SIGTERM');
  if ((await waitUntil(gone, { timeoutMs: graceMs, intervalMs: 100 })) !== 'ready') {
    signal(target, 'SIGKILL');
    await waitUntil(gone, { timeoutMs: 5_000, intervalMs: 100 });
  }
  await removeRecord(config, name);
  return true;
}

export async function tailLog(file: string, lines = 15): Promise<string> {
  try {
    const handle = await fsp.open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, size - length);
      return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

export interface LaunchOptions {
  /** Says what is starting in the error message, e.g. "MLflow server". */
  what: string;
  healthy: () => Promise<boolean>;
  timeoutMs: number;
}

/** Starts a process and waits until `healthy`; on failure stops it and quotes its log. */
export async function launch(config: FlywheelConfig, spec: ProcessSpec, opts: LaunchOptions): Promise<ProcessRecord> {
  const record = await startProcess(config, spec);
  const result = await waitUntil(opts.healthy, {
    timeoutMs: opts.timeoutMs,
    intervalMs: 300,
    // Under supervisord a first start that exits is BACKOFF (then retried): fail now, as without it.
    stillWorthWaiting: record.supervised
      ? async () => ['STARTING', 'RUNNING'].includes((await programInfo(config, spec.name))?.state ?? '')
      : () => isOurs(record),
  });
  if (result === 'ready') return record;
  await stopProcess(config, spec.name).catch(() => undefined);
  await removeRecord(config, spec.name);
  const why = result === 'gave-up' ? 'exited before it was ready' : `was not ready after ${Math.round(opts.timeoutMs / 1000)} s`;
  const tail = await tailLog(record.logFile);
  throw new StackError(
    `${opts.what} ${why}; see ${record.logFile}${tail ? `\n  ${tail.split('\n').join('\n  ')}` : ''}`,
    record.logFile,
  );
}
