/**
 * Runs a benchmark child and collects its JSON lines. Children are started through `sh`, which
 * forks them from a small process: on Linux a child's ru_maxrss starts at the RSS of whatever
 * process it was forked from, so a direct spawn from this (larger) Node parent would report the
 * parent's size instead of the child's.
 */
import { spawn } from 'node:child_process';

export function runJsonLines(cmd: string, args: string[], cwd: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', '"$@"; exit $?', 'sh', cmd, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${err.slice(-2000)}`));
      resolve(
        out
          .split('\n')
          .filter((l) => l.trim().startsWith('{') || l.trim().startsWith('['))
          .map((l) => JSON.parse(l)),
      );
    });
  });
}

/** Runs `jobs` tasks at a time, results in task order. */
export async function pool<T>(tasks: Array<() => Promise<T>>, jobs: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  return results;
}
