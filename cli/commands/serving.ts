/**
 * `flywheel deploy <model> <version>` and `flywheel serve`. Deploy runs the deployVersion
 * activity's code right here (it needs no workflow): the same checks, the same rows.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { MlflowClient, MlflowError } from '../../clients/mlflow';
import { deployVersion } from '../../activities/deploy';
import { audited, localActor } from '../../clients/audit';
import { CliError, printFields, printJson } from '../output';
import { versionArg } from '../edge';

export type WithConfig = <A extends unknown[]>(fn: (config: FlywheelConfig, ...args: A) => Promise<void>) => (...args: A) => Promise<void> | void;

/** Activity failures carry the one message the user should see; infrastructure errors get a hint. */
export function asCliError(config: FlywheelConfig, err: unknown): unknown {
  if (err instanceof MlflowError && err.errorCode === 'UNREACHABLE') {
    return new CliError(`MLflow is not reachable at ${config.mlflow.trackingUri}: start the stack with \`flywheel up\``, 3);
  }
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === '3D000' || code === '42P01') {
    return new CliError(`PostgreSQL at ${config.postgres.url.replace(/\/\/[^@]*@/, '//')} is not ready (${(err as Error).message}): run \`flywheel up\``, 3);
  }
  if (err instanceof ApplicationFailure) return new CliError(err.message, 2);
  return err;
}

export async function deployCommand(config: FlywheelConfig, model: string, version: string, opts: { json?: boolean }): Promise<void> {
  versionArg(version);
  try {
    const pool = getPool(config.postgres.url);
    const result = await audited(pool, { actor: localActor(config), action: 'deploy', target: `model:${model}/v${version}` }, () => deployVersion(pool, new MlflowClient(config.mlflow), { model, version }), (r) => ({ weight: r.weight, created: r.created }));
    if (opts.json) return printJson(result);
    printFields({
      deployed: `${result.model} v${result.version}${result.created ? '' : ' (already active, unchanged)'}`,
      weight: `${result.weight / 100}%${result.firstDeployment ? ' (first deployment: all traffic)' : ''}`,
      features: result.nFeatures,
      classes: result.classes,
      onnx: result.onnxUri,
      sha256: result.onnxSha256,
    });
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

export async function serveCommand(config: FlywheelConfig, opts: { port?: string; host?: string; threads?: string; json?: boolean }): Promise<void> {
  const port = opts.port === undefined ? undefined : Number(opts.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new CliError(`--port: expected a port number, got ${opts.port}`, 2);
  const threads = opts.threads === undefined ? config.gateway.threads : Number(opts.threads);
  if (!(Number.isInteger(threads) && threads >= 0 && threads <= 32)) throw new CliError(`--threads: expected 0 (inference on the event loop) to 32, got ${opts.threads}`, 2);
  const { serve } = await import('../../serving/main');
  try {
    await serve({ ...config, gateway: { ...config.gateway, threads } }, { port, host: opts.host });
  } catch (err) {
    throw asCliError(config, err);
  }
}

export function registerServingCommands(program: Command, withConfig: WithConfig): void {
  program
    .command('deploy <model> <version>')
    .description("check a registered version's ONNX (loads, input shape, dummy inference) and make it servable; a model's first deployment gets 100% of traffic, later ones 0%")
    .option('--json', 'print one JSON document for scripts')
    .action(withConfig((config, model: string, version: string, opts: { json?: boolean }) => deployCommand(config, model, version, opts)));

  program
    .command('serve')
    .description('run the serving gateway in the foreground (Ctrl-C stops it after in-flight requests and buffered predictions)')
    .option('--port <n>', 'listen port (default FLYWHEEL_GATEWAY_PORT)')
    .option('--host <address>', 'listen address (default FLYWHEEL_GATEWAY_HOST)')
    .option('--threads <n>', 'inference worker threads, 0: on the event loop, for small models (default FLYWHEEL_GATEWAY_THREADS)')
    .option('--json', 'log as JSON lines (the gateway always does)')
    .action(withConfig((config, opts: { port?: string; host?: string; threads?: string; json?: boolean }) => serveCommand(config, opts)));
}
