/** The `flywheel` CLI as a user runs it: a process of its own; stdout and stderr apart and together. */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../../config/index';

export function runFlywheel(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
    let out = '';
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => ((out += d), (stdout += d)));
    child.stderr.on('data', (d) => ((out += d), (stderr += d)));
    child.on('close', (code) => resolve({ code: code ?? 1, out, stdout, stderr }));
  });
}
