/**
 * The Python PyTorch worker (gpu-worker/) as a real child process on a test's own queue, for
 * tests that route training to it or SIGKILL it mid-training. Without a GPU it runs on the CPU,
 * polling the torch pool's CPU queue.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../../../config/index';
import { GPU_WORKER_PYTHON } from '../../../scripts/stack/gpu-worker';
import { spawnUntilReady, type SpawnedWorker } from './processes';

export type SpawnedTorchWorker = SpawnedWorker;

let nextPort = 19_466 + (process.pid % 500) * 4;

export async function spawnTorchWorker(opts: { cpuTorchQueue: string }): Promise<SpawnedTorchWorker> {
  return spawnUntilReady('torch worker', GPU_WORKER_PYTHON, ['-u', '-m', 'flywheel_gpu_worker', '--device', 'cpu'], {
    FLYWHEEL_TASK_QUEUE_CPU_TORCH: opts.cpuTorchQueue,
    // This checkout's package, whatever the virtual environment's editable install points at (a worktree shares main's).
    PYTHONPATH: path.join(PROJECT_ROOT, 'gpu-worker'),
    // Its own metrics port, so it never clashes with the stack's worker on 9466.
    FLYWHEEL_GPU_WORKER_METRICS_PORT: String(nextPort++),
  }, 'gpu worker ready');
}
