/** `flywheel data snapshot <model> --window 7d`: served traffic and its labels as a training dataset. */
import type { Command } from 'commander';
import { dataPaths, type FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { shortDigest } from '../../lib/data/digest';
import { parseDuration } from '../../lib/retraining/schedule-spec';
import { snapshotProduction, SnapshotRefused } from '../../datasets/production';
import { json } from '../command-kit';
import { badInput, printFields, printJson } from '../output';
import { asCliError, type WithConfig } from './serving';
import { getFileStore } from '../../datasets/file-store';

interface SnapshotOptions {
  window: string;
  attribution: string;
  minLabelCoverage: string;
  mix?: string;
  to?: string;
  json?: boolean;
}

/** `builtin:iris:0.3` → the reference and its share (the share after the last colon). */
export function parseMix(v: string): { dataset: string; share: number } {
  const at = v.lastIndexOf(':');
  const share = Number(v.slice(at + 1));
  if (at <= 0 || !(share > 0 && share < 1)) throw badInput(`--mix: "${v}" must be <dataset>:<share>, the share between 0 and 1 (e.g. iris:0.3)`);
  return { dataset: v.slice(0, at), share };
}

async function snapshot(config: FlywheelConfig, model: string, opts: SnapshotOptions): Promise<void> {
  const windowMs = parseDuration(opts.window);
  if (windowMs === undefined) throw badInput(`--window: "${opts.window}" must be a duration like 6h or 7d`);
  const attributionMs = parseDuration(opts.attribution);
  if (attributionMs === undefined) throw badInput(`--attribution: "${opts.attribution}" must be a duration like 1h or 1d`);
  const minLabelCoverage = Number(opts.minLabelCoverage);
  if (!(minLabelCoverage >= 0 && minLabelCoverage <= 1)) throw badInput(`--min-label-coverage: "${opts.minLabelCoverage}" must be between 0 and 1`);
  const to = opts.to === undefined ? undefined : new Date(opts.to);
  if (to && Number.isNaN(to.getTime())) throw badInput(`--to: "${opts.to}" must be an ISO time (2026-12-03T12:00:00Z)`);
  const mix = opts.mix === undefined ? undefined : parseMix(opts.mix);
  try {
    const r = await snapshotProduction(getPool(config.postgres.url), dataPaths(config).datasets, { model, windowMs, windowText: opts.window, attributionMs, minLabelCoverage, mix, to }, getFileStore(config));
    if (opts.json) return printJson(r);
    printFields({
      dataset: `stored:${r.digest}`,
      source: r.source,
      rows: `${r.nRows}${r.mix ? ` (${r.rows} production + ${r.mix.rows} from ${r.mix.source})` : ''}`,
      window: `${r.from} → ${r.to}`,
      predictions: r.predictions,
      'with features': r.withFeatures,
      labelled: r.labelled,
      'label coverage': r.labelCoverage,
      'left out': `${r.incompleteFeatures} with a dropped column, ${r.unknownLabel} with an unknown label, ${r.untrustedLabel} labelled only by untrusted feedback`,
      'versions served': Object.entries(r.versions).map(([v, n]) => `v${v}: ${n}`),
      train: `flywheel train -d stored:${r.digest} -m ${model}`,
    });
    process.stdout.write(`(digest ${shortDigest(r.digest)}…; the rows are in serving order, newest last)\n`);
  } catch (err) {
    if (err instanceof SnapshotRefused) throw badInput(err.message);
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

export function registerSnapshotCommand(data: Command, withConfig: WithConfig): void {
  json(
    data
      .command('snapshot <model>')
      .description("served predictions joined with their labels, written as a dataset for training (stored:<digest>)")
      .requiredOption('--window <duration>', 'predictions served in the last 6h, 7d, …')
      .option('--attribution <duration>', 'a label counts when it arrived within this long after its prediction', '1d')
      .option('--min-label-coverage <share>', 'refuse below this share of logged predictions labelled', '0')
      .option('--mix <dataset:share>', 'mix in a reference dataset so it is this share of the rows, e.g. iris:0.3')
      .option('--to <time>', 'end of the window (ISO time; default now), to reproduce a snapshot'),
  ).action(withConfig((config, model: string, opts: SnapshotOptions) => snapshot(config, model, opts)));
}
