/**
 * What every command group uses to register itself: `--json`, and an action wrapper that loads
 * the configuration and turns any failure into one line (or one JSON error) and an exit code.
 */
import type { Command } from 'commander';
import { loadConfig, type FlywheelConfig } from '../config/index';
import { runCommand } from './output';

export const json = (cmd: Command) => cmd.option('--json', 'print one JSON document for scripts');

export const collect = (v: string, acc: string[]) => [...acc, v];

// Config errors (a malformed environment variable) are reported like any other bad input.
export const withConfig =
  <A extends unknown[]>(fn: (config: FlywheelConfig, ...args: A) => Promise<void>) =>
  (...args: A) => {
    const opts = args.find((a) => a && typeof a === 'object' && !Array.isArray(a) && 'json' in (a as object)) as { json?: boolean } | undefined;
    return runCommand(opts?.json ?? process.argv.includes('--json'), () => fn(loadConfig(), ...args));
  };
