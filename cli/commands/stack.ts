/** `flywheel up|down|status`: the local stack (PostgreSQL, Temporal, MLflow, the workers, the gateway). */
import type { FlywheelConfig } from '../../config/index';
import { down, status, up } from '../../scripts/stack/stack';
import { printJson, printTable } from '../output';

export async function upCommand(config: FlywheelConfig, opts: { workers: boolean; gpu?: boolean; authIdp?: boolean; monitoring?: boolean; json?: boolean }): Promise<void> {
  // `--no-monitoring` turns it off; without the flag FLYWHEEL_MONITORING decides.
  const result = await up(config, { workers: opts.workers, gpu: opts.gpu, authIdp: opts.authIdp, ...(opts.monitoring === false ? { monitoring: false } : {}), onProgress: opts.json ? undefined : (line: string) => process.stderr.write(`${line}\n`) });
  if (opts.json) {
    printJson(result);
    return;
  }
  const u = result.urls;
  const monitoring = u.prometheus ? `  Prometheus   ${u.prometheus}\n  Alertmanager ${u.alertmanager}\n` : '';
  process.stdout.write(`\nFlywheel is up.\n  Temporal UI  ${u.temporalUi}\n  MLflow UI    ${u.mlflowUi}\n${monitoring}`);
}

export async function downCommand(config: FlywheelConfig, opts: { json?: boolean }): Promise<void> {
  const stopped = await down(config, { onProgress: opts.json ? undefined : (line: string) => process.stderr.write(`${line}\n`) });
  if (opts.json) printJson({ stopped });
  else process.stdout.write(stopped.length ? `stopped: ${stopped.join(', ')}\n` : 'nothing Flywheel started is running\n');
}

export async function statusCommand(config: FlywheelConfig, opts: { json?: boolean }): Promise<void> {
  const parts = await status(config);
  if (opts.json) printJson(parts);
  else printTable(parts as unknown as Record<string, unknown>[], ['name', 'state', 'pid', 'url', 'detail']);
  // Scripts can `flywheel status && …`: non-zero unless every part is usable.
  if (parts.some((p) => p.state !== 'running' && p.state !== 'external')) process.exitCode = 3;
}
