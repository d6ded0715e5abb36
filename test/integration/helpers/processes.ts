/**
 * Real worker processes for tests that must kill one (SIGKILL: no graceful shutdown, like a crash).
 * Each gets a data folder of its own (env.ts hostDataDir), as if on its own host, unless the test names one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { loadConfig, PROJECT_ROOT } from '../../../config/index';
import { hostDataDir, hostProcessEnv } from './env';

export interface SpawnedWorker {
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `command` in the project root and resolves once its output says `readyPhrase`. */
export async function spawnUntilReady(what: string, command: string, args: string[], env: Record<string, string>, readyPhrase: string): Promise<SpawnedWorker> {
  const config = loadConfig();
  const host = env.FLYWHEEL_DATA_DIR ? undefined : hostDataDir(config, what.replace(/\W+/g, '-'));
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...(host ? hostProcessEnv(config, host.dataDir) : {}), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.once('exit', () => host?.remove());
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes(readyPhrase)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code} before it was ready:\n${out}`)));
  });
  return {
    child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
    },
  };
}

export async function spawnCpuWorker(env: Record<string, string>): Promise<SpawnedWorker> {
  return spawnUntilReady('cpu worker', process.execPath, ['--import', 'tsx', 'workers/cpu-worker.ts'], env, 'worker ready');
}

export async function spawnControlWorker(env: Record<string, string>): Promise<SpawnedWorker> {
  return spawnUntilReady('control worker', process.execPath, ['--import', 'tsx', 'workers/control-worker.ts'], env, 'worker ready');
}
