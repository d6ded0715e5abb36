/**
 * The PyTorch pool's worker (gpu-worker/, Python) as a stack service. `flywheel up` starts it with
 * `--device auto`: on the GPU queue when CUDA is there, else on the torch pool's CPU queue, so the
 * same commands work on this CPU machine and on a GPU host; `flywheel up --gpu` insists on CUDA.
 * Healthy once its Prometheus endpoint answers and its log says it is polling.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { StackError } from './errors';
import { clientHost, isHttpOk } from './health';
import { launch, logFile, ownedProcess, stopProcess, type ProcessRecord, type ProcessSpec } from './processes';
import { saidReady, workerStopWaitSecs } from './workers';

export const GPU_WORKER = 'gpu-worker' as const;
export const GPU_WORKER_PYTHON = path.join(PROJECT_ROOT, 'gpu-worker', '.venv', 'bin', 'python');

export type GpuWorkerDevice = 'auto' | 'cuda';

export function gpuWorkerMetricsUrl(config: FlywheelConfig): string {
  return `http://${clientHost(config.metrics.host)}:${config.metrics.gpuWorkerPort}/metrics`;
}

export function gpuWorkerSpec(config: FlywheelConfig, device: GpuWorkerDevice): ProcessSpec {
  // -u: unbuffered, so the `gpu worker ready` line reaches the log as soon as it is printed.
  return {
    name: GPU_WORKER,
    command: GPU_WORKER_PYTHON,
    args: ['-u', '-m', 'flywheel_gpu_worker', '--device', device],
    cwd: PROJECT_ROOT,
    env: process.env,
    // Under supervisord: it drains on SIGTERM like the TypeScript workers.
    stopWaitSecs: workerStopWaitSecs(config),
  };
}

export async function isGpuWorkerHealthy(config: FlywheelConfig): Promise<boolean> {
  return isHttpOk(gpuWorkerMetricsUrl(config));
}

export async function startGpuWorker(config: FlywheelConfig, device: GpuWorkerDevice): Promise<ProcessRecord> {
  if (!fs.existsSync(GPU_WORKER_PYTHON)) {
    throw new StackError(`the GPU worker is not installed (${path.relative(PROJECT_ROOT, GPU_WORKER_PYTHON)} is missing): run bash scripts/setup.sh`);
  }
  const log = logFile(config, GPU_WORKER);
  const from = fs.existsSync(log) ? fs.statSync(log).size : 0;
  return launch(config, gpuWorkerSpec(config, device), {
    what: `GPU worker (--device ${device})`,
    healthy: async () => (await isGpuWorkerHealthy(config)) && (await saidReady(log, from, 'gpu worker ready')),
    // Importing torch takes a few seconds on a cold disk.
    timeoutMs: 90_000,
  });
}

/** The entry for stack.ts's SERVICES list (same shape as its `Service`). */
export function gpuWorkerService(device: GpuWorkerDevice) {
  return {
    name: GPU_WORKER,
    label: 'GPU worker (PyTorch pool)',
    startable: () => true,
    healthy: isGpuWorkerHealthy,
    owned: (config: FlywheelConfig) => ownedProcess(config, GPU_WORKER),
    start: (config: FlywheelConfig) => startGpuWorker(config, device),
    stop: (config: FlywheelConfig) => stopProcess(config, GPU_WORKER, workerStopWaitSecs(config) * 1000),
    url: gpuWorkerMetricsUrl,
    logFile: async (config: FlywheelConfig) => logFile(config, GPU_WORKER),
    ports: (config: FlywheelConfig) => [{ port: config.metrics.gpuWorkerPort, env: 'FLYWHEEL_GPU_WORKER_METRICS_PORT' }],
  };
}
