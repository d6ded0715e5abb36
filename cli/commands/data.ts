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
import { badInput, printFields, printJson, printTable } from '../output';
import { asCliError, type WithConfig } from './serving';
import { registerSnapshotCommand } from './data-snapshot';
import { registerRetentionCommand } from './data-retention';
import { parseDuration } from '../../lib/retraining/schedule-spec';
import { segmentReport } from '../../datasets/segments';

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

interface SegmentOptions {
  by: string;
  since: string;
  bucket: string;
  margin: string;
  alpha: string;
  json?: boolean;
}

async function segments(config: FlywheelConfig, model: string, opts: SegmentOptions): Promise<void> {
  const sinceMs = parseDuration(opts.since);
  if (sinceMs === undefined) throw badInput(`--since: "${opts.since}" must be a duration like 6h or 7d`);
  const bucketMs = parseDuration(opts.bucket);
  if (bucketMs === undefined || bucketMs < 1000) throw badInput(`--bucket: "${opts.bucket}" must be a duration of at least 1s, like 10m or 1h`);
  const margin = Number(opts.margin);
  if (!(margin >= 0)) throw badInput(`--margin: "${opts.margin}" must be a number ≥ 0 (0.2: error odds 20 % above the rest's)`);
  const alpha = Number(opts.alpha);
  if (!(alpha > 0 && alpha < 1)) throw badInput(`--alpha: "${opts.alpha}" must be between 0 and 1`);
  try {
    const r = await segmentReport(getPool(config.postgres.url), { model, attribute: opts.by, since: new Date(Date.now() - sinceMs), bucketSeconds: bucketMs / 1000, margin, alpha });
    if (opts.json) return printJson(r);
    printFields({ model, segment: opts.by, since: r.since, overall: `${r.overall.predictions} predictions, ${r.overall.labelled} labelled, accuracy ${r.overall.accuracy?.toFixed(4) ?? '-'}` });
    process.stdout.write('\n');
    printTable(
      r.segments.map((s) => ({ [opts.by]: s.value, predictions: s.predictions, errors: s.errorRate, labelled: s.labelCoverage, accuracy: s.accuracy, evidence: s.e < 1e6 ? s.e : s.e.toExponential(1), behind: s.behind ? `yes (E ≥ ${1 / alpha})` : '' })),
    );
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
  registerRetentionCommand(data, withConfig);
  json(
    data
      .command('segments <model>')
      .description('accuracy, errors and label coverage per value of a segment attribute, and which segments fall behind the rest (anytime-valid)')
      .requiredOption('--by <attribute>', 'the segment attribute callers send, e.g. plan or country')
      .option('--since <duration>', 'predictions served in the last …', '7d')
      .option('--bucket <duration>', 'time bucket of the sequential evidence', '1h')
      .option('--margin <x>', 'tolerated excess of the error odds over the rest (0.2: 20 %)', '0.2')
      .option('--alpha <p>', 'false flag rate per segment, however often read', '0.01'),
  ).action(withConfig((config, model: string, opts: SegmentOptions) => segments(config, model, opts)));
}
