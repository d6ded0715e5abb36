/**
 * `flywheel data logging|snapshot`: what the gateway keeps of served traffic (issue 15), and
 * production traffic as a training dataset.
 */
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { audited, localActor } from '../../clients/audit';
import { checkFeatureLogging, getFeatureLogging, setFeatureLogging } from '../../activities/feature-logging';
import { json } from '../command-kit';
import { badInput, printFields, printJson } from '../output';
import { asCliError, type WithConfig } from './serving';
import { registerSnapshotCommand } from './data-snapshot';

interface LoggingOptions {
  rate?: string;
  budget?: string;
  drop?: string;
  hash?: string;
  json?: boolean;
}

/** `2,5` → [2, 5]; `none` or '' → []. */
function columnList(flag: string, v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  if (v === '' || v === 'none') return [];
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 0)) throw badInput(`--${flag}: "${v}" must be 0-based column numbers separated by commas (or none)`);
  return out;
}

async function logging(config: FlywheelConfig, model: string, opts: LoggingOptions): Promise<void> {
  const db = getPool(config.postgres.url);
  try {
    const current = (await getFeatureLogging(db, model)) ?? { model, sampleRate: 1, dailyRowBudget: null, drop: [], hash: [] };
    const changing = [opts.rate, opts.budget, opts.drop, opts.hash].some((o) => o !== undefined);
    let policy = current;
    if (changing) {
      const input = {
        model,
        sampleRate: opts.rate === undefined ? current.sampleRate : Number(opts.rate),
        dailyRowBudget: opts.budget === undefined ? current.dailyRowBudget : opts.budget === 'default' ? null : Number(opts.budget),
        drop: columnList('drop', opts.drop) ?? current.drop,
        hash: columnList('hash', opts.hash) ?? current.hash,
      };
      const checked = checkFeatureLogging(input);
      if (!checked.ok) {
        const flag = { sampleRate: 'rate', dailyRowBudget: 'budget' }[checked.field ?? ''] ?? checked.field;
        throw badInput(`--${flag}: ${checked.message.replace(/^[^:]*: /, '')}`);
      }
      policy = checked.value;
      await audited(db, { actor: localActor(config), action: 'feature-logging', target: `model:${model}` }, () => setFeatureLogging(db, checked.value), () => ({ ...checked.value }));
    }
    const view = { ...policy, dailyRowBudget: policy.dailyRowBudget ?? config.gateway.featureLogDailyRows, budgetIsDefault: policy.dailyRowBudget === null, changed: changing };
    if (opts.json) return printJson(view);
    printFields({
      model,
      'sample rate': view.sampleRate,
      'daily row budget': `${view.dailyRowBudget}${view.budgetIsDefault ? ' (default, FLYWHEEL_FEATURE_LOG_DAILY_ROWS)' : ''}`,
      dropped: view.drop.length ? view.drop : 'none',
      hashed: view.hash.length ? view.hash : 'none',
    });
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

export function registerDataCommands(program: Command, withConfig: WithConfig): void {
  const data = program.command('data').description('production traffic as data: feature logging and training snapshots');
  json(
    data
      .command('logging <model>')
      .description("show or set which served rows keep their features (the gateways apply a change at once)")
      .option('--rate <share>', 'share of served rows whose features are stored, 0 to 1')
      .option('--budget <rows>', 'rows with features per UTC day per gateway, or default')
      .option('--drop <columns>', '0-based feature columns never stored, e.g. 2,5 (none clears)')
      .option('--hash <columns>', '0-based feature columns stored as a pseudonym (none clears)'),
  ).action(withConfig((config, model: string, opts: LoggingOptions) => logging(config, model, opts)));
  registerSnapshotCommand(data, withConfig);
}
