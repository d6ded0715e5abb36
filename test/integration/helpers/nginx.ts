/**
 * Debian's nginx for tests: one foreground process (no master, no daemon) on a configuration the
 * caller writes, its temporary folders under `prefix`, ready once its port accepts a connection.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const NGINX = '/usr/sbin/nginx';

export interface RunningNginx {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The lines every test configuration starts with: foreground, errors to stderr, temp paths in `prefix`. */
export function nginxPreamble(prefix: string, errorLevel: 'warn' | 'error' = 'warn'): { main: string; http: string } {
  return {
    main: `master_process off;\ndaemon off;\npid ${prefix}/nginx.pid;\nerror_log stderr ${errorLevel};`,
    http: ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${prefix}/${t === 'client_body' ? 'body' : t};`).join('\n'),
  };
}

/** Checks the configuration (`nginx -t`), starts nginx and waits until `port` accepts connections. */
export async function runNginx(prefix: string, config: string, port: number): Promise<RunningNginx> {
  const conf = path.join(prefix, 'nginx.conf');
  fs.writeFileSync(conf, config);
  execFileSync(NGINX, ['-t', '-p', prefix, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const child = spawn(NGINX, ['-p', prefix, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (open) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
