/** Child servers for the benchmark: start, wait until they answer, read their peak memory, stop. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Server {
  name: string;
  child: ChildProcess;
  logFile: string;
}

/** Detached, so stopping it reaches every process it forks (uvicorn workers). */
export function startServer(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Server {
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(command, args, { env, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.on('error', () => undefined);
  return { name, child, logFile };
}

export async function waitHttp(server: Server, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const tail = (await fsp.readFile(server.logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
  throw new Error(`${server.name} did not answer ${url}:\n${tail}`);
}

export async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.pid === undefined) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  try {
    process.kill(-server.child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-server.child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, 10_000);
  await exited;
  clearTimeout(timer);
}

async function children(): Promise<Map<number, number[]>> {
  const byParent = new Map<number, number[]>();
  for (const d of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await fsp.readFile(`/proc/${d}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(d)]);
  }
  return byParent;
}

async function peakKb(pid: number): Promise<number> {
  const status = await fsp.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) : 0;
}

/**
 * Peak resident memory (VmHWM, kept by the kernel) of a process and its descendants, in MB. For a
 * tree it is the sum of each process's own peak: an upper bound on the tree's peak. Read once at
 * the end instead of sampled, so measuring costs the client nothing while it measures.
 */
export async function peakRssMb(pid: number): Promise<number> {
  const byParent = await children();
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    total += await peakKb(p);
    stack.push(...(byParent.get(p) ?? []));
  }
  return Math.round(total / 1024);
}
