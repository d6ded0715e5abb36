/**
 * The chaos driver's hands: kill a part of the local stack the hard way (SIGKILL to its whole
 * process group: what an OOM kill or a lost host does), freeze MLflow for a while, and time how
 * long each part takes to answer its health check again. Nothing here restarts anything: bringing
 * a dead part back is the supervisor's job (`flywheel up` runs the stack under supervisord), and
 * the time it takes is what is measured.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FlywheelConfig } from '../../config/index';
import { status, type ServiceName } from '../../scripts/stack/stack';
import { supervisorConfFile } from './supervisor-conf';

const execFileP = promisify(execFile);

export const VICTIMS = ['workflow-worker', 'cpu-worker', 'control-worker', 'gpu-worker', 'gateway', 'temporal', 'postgres'] as const satisfies readonly ServiceName[];
export type Victim = (typeof VICTIMS)[number];

export interface Recovery {
  victim: ServiceName;
  how: 'SIGKILL' | 'stopped';
  at: string;
  /** Seconds from the kill (or from the end of the stop) until its health check answered again. */
  recoverySeconds: number | null;
  oldPid?: number;
  newPid?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serviceState(config: FlywheelConfig, name: ServiceName) {
  return (await status(config)).find((s) => s.name === name);
}

/** SIGKILL to the victim's process group; returns the pid it had, or undefined when it was not running. */
export async function kill(config: FlywheelConfig, name: ServiceName): Promise<number | undefined> {
  const s = await serviceState(config, name);
  if (!s?.pid) return undefined;
  for (const target of [-s.pid, s.pid]) {
    try {
      process.kill(target, 'SIGKILL');
      return s.pid;
    } catch {
      /* not a group leader: the pid alone */
    }
  }
  return s.pid;
}

/** Polls until the part is healthy with a pid other than `oldPid` (or `timeoutMs` passes). */
export async function awaitRecovery(config: FlywheelConfig, name: ServiceName, oldPid: number | undefined, t0: number, timeoutMs: number): Promise<{ seconds: number | null; pid?: number }> {
  while (Date.now() - t0 < timeoutMs) {
    const s = await serviceState(config, name).catch(() => undefined);
    if (s?.state === 'running' && s.pid !== undefined && s.pid !== oldPid) return { seconds: (Date.now() - t0) / 1000, pid: s.pid };
    await sleep(250);
  }
  return { seconds: null };
}

/** supervisorctl against the stack's supervisord, when `flywheel up` runs one. */
async function supervisorctl(config: FlywheelConfig, ...args: string[]): Promise<boolean> {
  const conf = supervisorConfFile(config);
  if (!conf) return false;
  try {
    await execFileP('supervisorctl', ['-c', conf, ...args]);
    return true;
  } catch {
    return false;
  }
}

/**
 * MLflow stopped for `seconds`: through the supervisor when there is one (stop, wait, start), else
 * frozen with SIGSTOP/SIGCONT (it then holds connections open instead of refusing them: harsher).
 */
export async function stopFor(config: FlywheelConfig, name: ServiceName, seconds: number): Promise<Recovery> {
  const at = new Date().toISOString();
  const before = await serviceState(config, name);
  let resume: () => Promise<void>;
  if (await supervisorctl(config, 'stop', name)) {
    resume = async () => void (await supervisorctl(config, 'start', name));
  } else {
    const pid = before?.pid;
    if (pid) process.kill(-pid, 'SIGSTOP');
    resume = async () => {
      if (pid) process.kill(-pid, 'SIGCONT');
    };
  }
  await sleep(seconds * 1000);
  const t0 = Date.now();
  await resume();
  const { seconds: rec, pid } = await awaitRecovery(config, name, undefined, t0, 180_000);
  return { victim: name, how: 'stopped', at, recoverySeconds: rec, oldPid: before?.pid, newPid: pid };
}

export async function killAndTime(config: FlywheelConfig, name: ServiceName, timeoutMs: number): Promise<Recovery> {
  const at = new Date().toISOString();
  const t0 = Date.now();
  const oldPid = await kill(config, name);
  const { seconds, pid } = await awaitRecovery(config, name, oldPid, t0, timeoutMs);
  return { victim: name, how: 'SIGKILL', at, recoverySeconds: seconds, oldPid, newPid: pid };
}
