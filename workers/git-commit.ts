/** The code version recorded as lineage on every model version this worker trains. */
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT, type FlywheelConfig } from '../config/index';

export function resolveGitCommit(config: FlywheelConfig): string {
  if (config.gitCommit) return config.gitCommit;
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}
