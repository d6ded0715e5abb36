/**
 * Flywheel's own Temporal workers as background processes: the workflow worker and the CPU
 * activity pool. Each serves Prometheus metrics, which is how we tell it is alive.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { StackError } from './errors';
import { isHttpOk } from './health';
import { launch, logFile, ownedProcess, stopProcess, type ProcessRecord, type ProcessSpec } from './processes';

export type WorkerName = 'workflow-worker' | 'cpu-worker';
export const WORKER_NAMES: readonly WorkerName[] = ['workflow-worker', 'cpu-worker'];

const ENTRY: Record<WorkerName, string> = {
  'workflow-worker': 'workers/workflow-worker.ts',
  'cpu-worker': 'workers/cpu-worker.ts',
};

export function workerMetricsUrl(config: FlywheelConfig, name: WorkerName): string {
  const port = name === 'workflow-worker' ? config.metrics.workflowWorkerPort : config.metrics.cpuWorkerPort;
  return `http://127.0.0.1:${port}/metrics`;
}

export function workerSpec(name: WorkerName): ProcessSpec {
  // Workers read the same environment as this process, so they load the same configuration.
  return { name, command: process.execPath, args: ['--import', 'tsx', ENTRY[name]], cwd: PROJECT_ROOT, env: process.env };
}

export async function isWorkerHealthy(config: FlywheelConfig, name: WorkerName): Promise<boolean> {
  return isHttpOk(workerMetricsUrl(config, name));
}

export async function ownedWorker(config: FlywheelConfig, name: WorkerName): Promise<ProcessRecord | undefined> {
  return ownedProcess(config, name);
}

/** Whether the log has said `phrase` (default `worker ready`) since byte `from`. */
export async function saidReady(file: string, from: number, phrase = 'worker ready'): Promise<boolean> {
  try {
    const handle = await fsp.open(file, 'r');
    try {
      const { size } = await handle.stat();
      const buf = Buffer.alloc(Math.max(0, size - from));
      await handle.read(buf, 0, buf.length, from);
      return buf.toString('utf8').includes(phrase);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

/** Ready means polling: metrics answer as soon as the runtime is installed, which is before
 * the workflow bundle is built, so also wait for the worker's own `worker ready` line. */
export async function startWorker(config: FlywheelConfig, name: WorkerName): Promise<ProcessRecord> {
  const entry = path.join(PROJECT_ROOT, ENTRY[name]);
  if (!fs.existsSync(entry)) throw new StackError(`${ENTRY[name]} does not exist yet: start the stack with --no-workers`);
  const log = logFile(config, name);
  const from = fs.existsSync(log) ? fs.statSync(log).size : 0;
  return launch(config, workerSpec(name), {
    what: name,
    healthy: async () => (await isWorkerHealthy(config, name)) && (await saidReady(log, from)),
    timeoutMs: 90_000,
  });
}

export async function stopWorker(config: FlywheelConfig, name: WorkerName): Promise<boolean> {
  return stopProcess(config, name);
}
