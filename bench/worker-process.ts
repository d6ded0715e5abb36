/**
 * A worker started as its own process, as in production: benchmarks that measure orchestration or
 * scale-out must not share an event loop with the client that drives them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { PROJECT_ROOT } from '../config/index';
import { freePort } from './serving/processes';

/** Starts `file` (e.g. workers/cpu-worker.ts) with `env` on top of this process's; resolves once it logs "worker ready". */
export async function startWorkerProcess(file: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      // Each process its own metrics port, from the kernel (a random one collided in the tests once).
      FLYWHEEL_WORKFLOW_WORKER_METRICS_PORT: String(await freePort()),
      FLYWHEEL_CPU_WORKER_METRICS_PORT: String(await freePort()),
      FLYWHEEL_GIT_COMMIT: 'bench',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('worker ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

/** A process's peak resident set (VmHWM) in MB, read while it still runs. */
export async function peakRssMb(pid: number): Promise<number> {
  return Number((await readFile(`/proc/${pid}/status`, 'utf8')).match(/VmHWM:\s+(\d+)/)![1]) / 1024;
}
