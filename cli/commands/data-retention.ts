/**
 * `flywheel data retention [--apply] [--json]`: the traffic tables' daily partitions (migration
 * 0014), their row estimates, the retention, and what the next upkeep would create and drop; with
 * --apply it runs that upkeep now (the Reconciler and `flywheel up` run it otherwise).
 */
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { describeTrafficPartitions, maintainTrafficPartitions } from '../../activities/traffic-partitions';
import { json } from '../command-kit';
import { printJson, printTable } from '../output';
import { asCliError, type WithConfig } from './serving';

interface RetentionOptions {
  apply?: boolean;
  json?: boolean;
}

async function retention(config: FlywheelConfig, opts: RetentionOptions): Promise<void> {
  const db = getPool(config.postgres.url);
  try {
    const tables = await describeTrafficPartitions(db, config.traffic);
    const upkeep = await maintainTrafficPartitions(db, config.traffic, { dryRun: !opts.apply });
    if (opts.json) return printJson({ aheadDays: config.traffic.aheadDays, applied: Boolean(opts.apply), tables, upkeep });
    printTable(
      tables.map((t) => {
        const daily = t.partitions.filter((p) => p.kind === 'daily');
        const u = upkeep.find((x) => x.table === t.table)!;
        const rows = t.partitions.reduce((n, p) => n + Math.max(0, p.rowEstimate ?? 0), 0);
        const def = t.partitions.find((p) => p.kind === 'default');
        return {
          table: t.table,
          partitioned: t.partitioned ? 'yes' : 'no (migration 0014 not applied)',
          retention: t.retentionDays ? `${t.retentionDays} d` : 'forever',
          days: daily.length ? `${daily.length} (${daily[0]!.name.slice(-8)}…${daily.at(-1)!.name.slice(-8)})` : '0',
          legacy: t.partitions.some((p) => p.kind === 'legacy') ? 'yes' : 'no',
          'rows (est.)': Math.round(rows),
          'default rows (est.)': Math.max(0, Math.round(def?.rowEstimate ?? 0)),
          [opts.apply ? 'created' : 'to create']: u.created.length,
          [opts.apply ? 'dropped' : 'to drop']: u.dropped.map((d) => d.name).join(' ') || '-',
        };
      }),
    );
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

export function registerRetentionCommand(data: Command, withConfig: WithConfig): void {
  json(
    data
      .command('retention')
      .description('the traffic tables\' daily partitions, their sizes and retention (FLYWHEEL_TRAFFIC_RETENTION_DAYS), and what the next upkeep does')
      .option('--apply', 'run the upkeep now: create the days ahead, drop the days past the retention'),
  ).action(withConfig((config, opts: RetentionOptions) => retention(config, opts)));
}
