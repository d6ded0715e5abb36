/**
 * `flywheel drift features <model>`: one check of the served features against the serving
 * champion's training data (PSI and KS per feature); a flagged check is recorded as a feature
 * drift event, listed by `flywheel drift events`. No label is needed.
 */
import type { Command } from 'commander';
import { dataPaths, type FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { checkFeatureDrift, FeatureDriftRefused } from '../../datasets/feature-drift';
import { json, withConfig } from '../command-kit';
import { badInput, printFields, printJson, printTable } from '../output';
import { asCliError } from './serving';

interface FeaturesOptions {
  window: string;
  psi?: string;
  alpha?: string;
  minSample?: string;
  json?: boolean;
}

function numberOption(flag: string, v: string | undefined, ok: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!ok(n)) throw badInput(`--${flag}: "${v}" must be ${what}`);
  return n;
}

async function features(config: FlywheelConfig, model: string, opts: FeaturesOptions): Promise<void> {
  const windowRows = numberOption('window', opts.window, (n) => Number.isInteger(n) && n >= 10 && n <= 1_000_000, 'a whole number of rows between 10 and 1000000')!;
  const options = {
    ...(opts.psi !== undefined ? { psiThreshold: numberOption('psi', opts.psi, (n) => n > 0, 'a number > 0') } : {}),
    ...(opts.alpha !== undefined ? { ksAlpha: numberOption('alpha', opts.alpha, (n) => n > 0 && n < 1, 'a number between 0 and 1') } : {}),
    ...(opts.minSample !== undefined ? { minSample: numberOption('min-sample', opts.minSample, (n) => Number.isInteger(n) && n >= 2, 'a whole number ≥ 2') } : {}),
  };
  try {
    const r = await checkFeatureDrift(getPool(config.postgres.url), dataPaths(config).datasets, { model, windowRows, options, source: 'cli' });
    if (opts.json) return printJson(r);
    printFields({
      model,
      reference: `v${r.championVersion}'s training data (${r.referenceRows} rows, ${r.referenceDigest.slice(0, 12)})`,
      window: `${r.windowRows} newest served rows with features${r.windowEnd ? `, up to ${r.windowEnd}` : ''}`,
      excluded: r.excluded.length ? `${r.excluded.join(', ')} (dropped or hashed when logged)` : undefined,
      verdict: !r.judged ? `not judged: fewer than ${r.options.minSample} rows` : r.moved.length ? `drift in ${r.moved.map((m) => m.name).join(', ')} (event ${r.eventId})` : 'no feature moved',
    });
    if (r.judged) {
      process.stdout.write('\n');
      printTable(r.scores.map((s) => ({ feature: s.name, psi: s.psi, ks: s.ks, pvalue: s.pvalue.toExponential(2), moved: s.moved ? 'yes' : '' })));
    }
  } catch (err) {
    if (err instanceof FeatureDriftRefused) throw badInput(err.message);
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

export function registerFeatureDriftCommand(drift: Command): void {
  json(
    drift
      .command('features <model>')
      .description("compare the newest served features with the champion's training data (PSI and KS per feature); no labels needed")
      .option('--window <rows>', 'the newest served rows with logged features to judge', '1000')
      .option('--psi <x>', 'PSI at or above which a feature may be flagged (default 0.1)')
      .option('--alpha <p>', 'family-wise level of the KS tests over all features (default 0.001)')
      .option('--min-sample <rows>', 'judge nothing below this many rows (default 500)'),
  ).action(withConfig((config, model: string, opts: FeaturesOptions) => features(config, model, opts)));
}
