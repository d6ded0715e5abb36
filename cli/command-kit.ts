/**
 * What every command group uses to register itself: `--json`, and an action wrapper that loads
 * the configuration and turns any failure into one line (or one JSON error) and an exit code.
 */
import type { Command } from 'commander';
import { loadConfig, type FlywheelConfig } from '../config/index';
import { EXIT, runCommand } from './output';

export const json = (cmd: Command) => cmd.option('--json', 'print one JSON document for scripts');

export const collect = (v: string, acc: string[]) => [...acc, v];

// Config errors (a malformed environment variable) are reported like any other bad input.
export const withConfig =
  <A extends unknown[]>(fn: (config: FlywheelConfig, ...args: A) => Promise<void>) =>
  (...args: A) => {
    const opts = args.find((a) => a && typeof a === 'object' && !Array.isArray(a) && 'json' in (a as object)) as { json?: boolean } | undefined;
    return runCommand(opts?.json ?? process.argv.includes('--json'), () => fn(loadConfig(), ...args));
  };

/**
 * Usage errors (a missing argument, an unknown option or command) are bad input: one line naming
 * what is wrong and where the usage is, exit 2, instead of the whole help text after the line.
 */
export function oneLineUsageErrors(program: Command): void {
  const visit = (cmd: Command, path: string[]) => {
    const where = ['flywheel', ...path].join(' ');
    cmd.showHelpAfterError(false);
    cmd.configureOutput({
      outputError: (str, write) => write(`flywheel: ${str.replace(/^error: /, '').trim()} (see \`${where} --help\`)\n`),
    });
    cmd.exitOverride((err) => {
      // --help and --version exit 0; a command group run alone prints its help and is a usage error.
      process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput);
    });
    for (const sub of cmd.commands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
}
