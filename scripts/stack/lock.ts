/**
 * One `up` or `down` at a time per data folder, across processes: two terminals running
 * `flywheel up` would otherwise both see Temporal stopped and both start it.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { dataPaths, type FlywheelConfig } from '../../config/index';
import { StackError } from './errors';
import { procInfo } from './processes';

interface Holder {
  pid: number;
  startTicks: string;
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

async function isAlive(holder: Holder): Promise<boolean> {
  const info = await procInfo(holder.pid);
  return info !== undefined && info.state !== 'Z' && info.startTicks === holder.startTicks;
}

/** A lock left by a process that died is moved aside before removal, so two processes breaking
 * it at once cannot delete a lock that a third has just taken. */
async function breakIfStale(file: string): Promise<void> {
  const holder = await readHolder(file);
  if (!holder || (await isAlive(holder))) {
    // An unreadable lock may be one being written right now; only a stale one is broken.
    if (holder) return;
    const stat = await fsp.stat(file).catch(() => undefined);
    if (!stat || Date.now() - stat.mtimeMs < 5_000) return;
  }
  const aside = `${file}.${process.pid}.stale`;
  try {
    await fsp.rename(file, aside);
  } catch {
    return;
  }
  const moved = await readHolder(aside);
  if (moved && holder && (moved.pid !== holder.pid || moved.startTicks !== holder.startTicks)) {
    await fsp.link(aside, file).catch(() => undefined);
  }
  await fsp.rm(aside, { force: true });
}

export interface LockOptions {
  timeoutMs?: number;
  onWait?: (holderPid: number) => void;
}

export async function withStackLock<T>(config: FlywheelConfig, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const file = path.join(dataPaths(config).run, 'stack.lock');
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const me: Holder = { pid: process.pid, startTicks: (await procInfo(process.pid))?.startTicks ?? '' };
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  let told = false;
  for (;;) {
    try {
      const handle = await fsp.open(file, 'wx');
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await breakIfStale(file);
    const holder = await readHolder(file);
    if (holder && !told) {
      opts.onWait?.(holder.pid);
      told = true;
    }
    if (Date.now() > deadline) {
      throw new StackError(`another flywheel up/down (pid ${holder?.pid ?? '?'}) still holds ${file}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    return await fn();
  } finally {
    const holder = await readHolder(file);
    if (holder?.pid === me.pid && holder.startTicks === me.startTicks) await fsp.rm(file, { force: true });
  }
}
