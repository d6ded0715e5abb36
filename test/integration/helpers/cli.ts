/** The `flywheel` CLI as a user runs it: a process of its own, stdout and stderr together. */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../../config/index';

export function runFlywheel(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}
