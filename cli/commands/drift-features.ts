/**
 * `flywheel drift features <model>`: one check of the served features against the serving
 * champion's training data (PSI and KS per feature); a flagged check is recorded as a feature
 * drift event, listed by `flywheel drift events`. No label is needed.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { connectTemporal } from '../../clients/temporal';
import { checkFeatureDriftMonitor, featureDriftMonitorId, type FeatureDriftMonitorInput } from '../../lib/retraining/feature-drift-spec';
import { parseDuration } from '../../lib/retraining/schedule-spec';
import { stopFeatureDriftSignal } from '../../workflows/feature-drift-monitor';
import { datasetAtEdge } from '../dataset-edge';
import { dataPaths, type FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { checkFeatureDrift, FeatureDriftRefused } from '../../datasets/feature-drift';
import { json, withConfig } from '../command-kit';
import { badInput, printFields, printJson, printTable } from '../output';
import { asCliError } from './serving';
import { getFileStore } from '../../datasets/file-store';

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
    const r = await checkFeatureDrift(getPool(config.postgres.url), dataPaths(config).datasets, { model, windowRows, options, source: 'cli' }, getFileStore(config));
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

interface WatchOptions extends FeaturesOptions {
  every: string;
  retrainOn?: string;
  margin: string;
  metric: string;
  stop?: boolean;
}

/** Starts (or with --stop, stops) the durable FeatureDriftMonitor `feature-drift-<model>`. */
async function watch(config: FlywheelConfig, model: string, opts: WatchOptions): Promise<void> {
  const workflowId = featureDriftMonitorId(model);
  const { client, connection } = await connectTemporal(config);
  try {
    if (opts.stop) {
      try {
        await client.workflow.getHandle(workflowId).signal(stopFeatureDriftSignal, 'stopped from the CLI');
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw badInput(`no feature drift monitor for model ${model} (${workflowId})`);
        throw err;
      }
      return opts.json ? printJson({ workflowId, stopping: true }) : void process.stdout.write(`${workflowId}: stopping\n`);
    }
    const pollMs = parseDuration(opts.every);
    if (pollMs === undefined) throw badInput(`--every: "${opts.every}" must be a duration like 30s or 5m`);
    let retraining: FeatureDriftMonitorInput['retraining'];
    if (opts.retrainOn) {
      const edge = await datasetAtEdge(config, opts.retrainOn, { model, snapshot: false });
      retraining = { dataset: edge.loaded ? opts.retrainOn : edge.reference, margin: Number(opts.margin), metric: opts.metric as 'logLoss' | 'accuracy' };
    }
    const input: FeatureDriftMonitorInput = {
      model,
      windowRows: Number(opts.window),
      pollSeconds: pollMs / 1000,
      ...(opts.psi !== undefined ? { psiThreshold: Number(opts.psi) } : {}),
      ...(opts.alpha !== undefined ? { ksAlpha: Number(opts.alpha) } : {}),
      ...(opts.minSample !== undefined ? { minSample: Number(opts.minSample) } : {}),
      ...(retraining ? { retraining } : {}),
      taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control },
    };
    const checked = checkFeatureDriftMonitor(input);
    if (!checked.ok) throw badInput(checked.message);
    try {
      await client.workflow.start('FeatureDriftMonitor', {
        taskQueue: config.taskQueues.workflows,
        workflowId,
        args: [input],
        typedSearchAttributes: [{ key: MODEL_NAME, value: model }, { key: PIPELINE_STAGE, value: 'feature-drift-watch' }],
        staticSummary: `Feature drift monitor of ${model} (PSI ≥ ${checked.value.psiThreshold} and KS, every ${opts.every})${retraining ? `; retrains on ${retraining.dataset}` : ''}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw badInput(`model ${model} already has a feature drift monitor (${workflowId}): flywheel workflows show ${workflowId}`);
      throw err;
    }
    if (opts.json) printJson({ workflowId, model, input });
    else printFields({ started: workflowId, watch: `flywheel workflows show ${workflowId}`, events: `flywheel drift events ${model}` });
  } finally {
    await connection.close();
  }
}

export function registerFeatureDriftCommand(drift: Command): void {
  json(
    drift
      .command('watch-features <model>')
      .description('a durable FeatureDriftMonitor: the drift features check every --every, recording events and optionally retraining')
      .option('--every <duration>', 'how often to check', '1m')
      .option('--window <rows>', 'the newest served rows with logged features to judge', '1000')
      .option('--psi <x>', 'PSI at or above which a feature may be flagged (default 0.1)')
      .option('--alpha <p>', 'family-wise level of the KS tests (default 0.001)')
      .option('--min-sample <rows>', 'judge nothing below this many rows (default 500)')
      .option('--retrain-on <dataset>', 'on an event start one Retraining on this, e.g. production:7d')
      .option('--margin <x>', 'the retrained challenger must beat the champion by more than this', '0.01')
      .option('--metric <name>', 'logLoss or accuracy', 'logLoss')
      .option('--stop', 'stop the monitor instead'),
  ).action(withConfig((config, model: string, opts: WatchOptions) => watch(config, model, opts)));
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
