/** Probes that answer "is it up?" without ever throwing, and a loop that waits for one. */
import net from 'node:net';

export async function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function isHttpOk(url: string, timeoutMs = 3000, headers: Record<string, string> = {}): Promise<boolean> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked between probes: waiting on a process that already exited only wastes the timeout. */
  stillWorthWaiting?: () => Promise<boolean>;
}

export type WaitResult = 'ready' | 'timeout' | 'gave-up';

export async function waitUntil(probe: () => Promise<boolean>, opts: WaitOptions): Promise<WaitResult> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 250;
  for (;;) {
    if (await probe()) return 'ready';
    if (opts.stillWorthWaiting && !(await opts.stillWorthWaiting())) return 'gave-up';
    if (Date.now() >= deadline) return 'timeout';
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** `host:port` as written in TEMPORAL_ADDRESS; IPv6 hosts in brackets. */
export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!m) throw new Error(`expected host:port, got "${address}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Flywheel starts a service only when it is meant to run on this machine. */
export function isLocalHost(host: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '0.0.0.0', ''].includes(host.toLowerCase());
}

/** Where a client on this machine reaches something bound to `host` (every interface: loopback). */
export function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
