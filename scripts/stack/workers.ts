/**
 * Flywheel's own Temporal workers as background processes: the workflow worker, the CPU activity
 * pool and the control pool. Each serves Prometheus metrics, which is how we tell it is alive.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT, SHUTDOWN_FORCE_MARGIN_SECONDS, type FlywheelConfig } from '../../config/index';
import { StackError } from './errors';
import { clientHost, isHttpOk } from './health';
import { launch, logFile, ownedProcess, stopProcess, type ProcessRecord, type ProcessSpec } from './processes';

export type WorkerName = 'workflow-worker' | 'cpu-worker' | 'control-worker';
export const WORKER_NAMES: readonly WorkerName[] = ['workflow-worker', 'cpu-worker', 'control-worker'];

const ENTRY: Record<WorkerName, string> = {
  'workflow-worker': 'workers/workflow-worker.ts',
  'cpu-worker': 'workers/cpu-worker.ts',
  'control-worker': 'workers/control-worker.ts',
};

/** Each worker's metrics port, with the variable that moves it (to explain a clash before starting). */
export function workerMetricsPort(config: FlywheelConfig, name: WorkerName): { port: number; env: string } {
  switch (name) {
    case 'workflow-worker':
      return { port: config.metrics.workflowWorkerPort, env: 'FLYWHEEL_WORKFLOW_WORKER_METRICS_PORT' };
    case 'cpu-worker':
      return { port: config.metrics.cpuWorkerPort, env: 'FLYWHEEL_CPU_WORKER_METRICS_PORT' };
    case 'control-worker':
      return { port: config.metrics.controlWorkerPort, env: 'FLYWHEEL_CONTROL_WORKER_METRICS_PORT' };
  }
}

export function workerMetricsUrl(config: FlywheelConfig, name: WorkerName): string {
  return `http://${clientHost(config.metrics.host)}:${workerMetricsPort(config, name).port}/metrics`;
}

/** A worker drains on SIGTERM (in-flight activities get the grace time): SIGKILL only after it could have. */
export function workerStopWaitSecs(config: FlywheelConfig): number {
  return config.shutdownGraceSeconds + SHUTDOWN_FORCE_MARGIN_SECONDS + 5;
}

export function workerSpec(config: FlywheelConfig, name: WorkerName): ProcessSpec {
  // Workers read the same environment as this process, so they load the same configuration.
  return { name, command: process.execPath, args: ['--import', 'tsx', ENTRY[name]], cwd: PROJECT_ROOT, env: process.env, stopWaitSecs: workerStopWaitSecs(config) };
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
  return launch(config, workerSpec(config, name), {
    what: name,
    healthy: async () => (await isWorkerHealthy(config, name)) && (await saidReady(log, from)),
    timeoutMs: 90_000,
  });
}

/** A worker drains on SIGTERM (in-flight activities get the grace time): SIGKILL only after it could have. */
export async function stopWorker(config: FlywheelConfig, name: WorkerName): Promise<boolean> {
  return stopProcess(config, name, workerStopWaitSecs(config) * 1000);
}
