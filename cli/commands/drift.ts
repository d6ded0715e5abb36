/**
 * `flywheel drift start|status|stop|events`: one durable DriftMonitor per model (`drift-<model>`)
 * watching its served error rate with ADWIN, retraining on the given dataset when errors rise.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { datasetAtEdge } from '../dataset-edge';
import { MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { closePools, getPool } from '../../clients/db';
import { connectTemporal } from '../../clients/temporal';
import { parseSteps } from '../../lib/rollout/spec';
import { checkDriftMonitor, DEFAULT_MIN_NEW_LABELS, driftMonitorId, type ComparisonMetric, type DriftMonitorInput } from '../../lib/retraining/spec';
import { parseDuration } from '../../lib/retraining/schedule-spec';
import { driftStatusQuery, stopSignal, type DriftMonitorStatus } from '../../workflows/drift-monitor';
import { collect, json, withConfig } from '../command-kit';
import { liveStatus } from '../workflow-state';
import { checkModelRegistered } from '../edge';
import { CliError, printFields, printJson, printTable } from '../output';
import { parseParams } from './train';
import { registerFeatureDriftCommand } from './drift-features';

interface StartOptions {
  dataset: string;
  label?: string;
  family: string;
  param: string[];
  margin: string;
  metric: string;
  delta: string;
  poll: string;
  minNewLabels: string;
  canarySteps?: string;
  canaryInterval?: string;
  json?: boolean;
}

async function start(config: FlywheelConfig, model: string, opts: StartOptions): Promise<void> {
  const pollMs = parseDuration(opts.poll);
  if (pollMs === undefined) throw new CliError(`--poll: "${opts.poll}" must be a duration like 10s or 1m`, 2);
  let canary: DriftMonitorInput['retraining']['canary'];
  if (opts.canarySteps || opts.canaryInterval) {
    const steps = opts.canarySteps ? parseSteps(opts.canarySteps) : undefined;
    if (steps && !steps.ok) throw new CliError(`--canary-steps: ${steps.message}`, 2);
    canary = { steps: steps?.steps, analysis: opts.canaryInterval ? { intervalSeconds: Number(opts.canaryInterval) } : undefined };
  }
  const input: DriftMonitorInput = {
    model,
    retraining: { dataset: opts.dataset, labelColumn: opts.label, family: opts.family, hyperparameters: parseParams(opts.param), margin: Number(opts.margin), metric: opts.metric as ComparisonMetric, canary },
    delta: Number(opts.delta),
    pollSeconds: pollMs / 1000,
    minNewLabels: Number(opts.minNewLabels),
    taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control },
  };
  const checked = checkDriftMonitor(input);
  if (!checked.ok) throw new CliError(checked.message, 2);
  // production:7d stays a reference: each drift-triggered retraining snapshots the latest window.
  const edge = await datasetAtEdge(config, opts.dataset, { model, label: opts.label, snapshot: false });
  if (!edge.loaded) input.retraining.dataset = edge.reference;
  await checkModelRegistered(config, model);
  const { client, connection } = await connectTemporal(config);
  try {
    const workflowId = driftMonitorId(model);
    try {
      await client.workflow.start('DriftMonitor', {
        taskQueue: config.taskQueues.workflows,
        workflowId,
        args: [input],
        typedSearchAttributes: [{ key: MODEL_NAME, value: model }, { key: PIPELINE_STAGE, value: 'drift-watch' }],
        staticSummary: `Drift monitor of ${model} (ADWIN δ=${input.delta}); retrains on ${opts.dataset}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`model ${model} already has a drift monitor (${workflowId}): flywheel drift status ${model}`, 2);
      throw err;
    }
    if (opts.json) printJson({ workflowId, model, dataset: opts.dataset });
    else printFields({ started: workflowId, watch: `flywheel drift status ${model}` });
  } finally {
    await connection.close();
  }
}

async function withMonitor<T>(config: FlywheelConfig, model: string, fn: (h: ReturnType<import('@temporalio/client').Client['workflow']['getHandle']>) => Promise<T>): Promise<T> {
  const { client, connection } = await connectTemporal(config);
  try {
    return await fn(client.workflow.getHandle(driftMonitorId(model)));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no drift monitor for model ${model} (flywheel drift start ${model} --dataset …)`, 2);
    throw err;
  } finally {
    await connection.close();
  }
}

async function status(config: FlywheelConfig, model: string, opts: { json?: boolean }): Promise<void> {
  const { client, connection } = await connectTemporal(config);
  let s: DriftMonitorStatus;
  try {
    s = await liveStatus(client, driftMonitorId(model), driftStatusQuery, { what: 'drift monitor', notFound: `no drift monitor for model ${model} (flywheel drift start ${model} --dataset …)` });
  } finally {
    await connection.close();
  }
  if (opts.json) return printJson(s);
  printFields({ monitor: s.workflowId, state: s.state, samples: s.samples, 'window width': s.width, 'error estimate': s.estimation, detections: s.detections, retrainings: s.retrainingsStarted, 'last poll': s.lastPollAt });
  if (s.lastEvent) process.stdout.write(`last event: #${s.lastEvent.event} at sample ${s.lastEvent.sample}, ${s.lastEvent.direction} — ${s.lastEvent.note}\n`);
  const w = s.waitingForLabels;
  if (w) process.stdout.write(`retraining for event #${w.event} waits for labels served after ${w.since}: ${w.labelsSeen} of ${w.labelsNeeded}\n`);
}

async function stop(config: FlywheelConfig, model: string, opts: { reason?: string; json?: boolean }): Promise<void> {
  await withMonitor(config, model, (h) => h.signal(stopSignal, opts.reason ?? 'stopped from the CLI'));
  if (opts.json) printJson({ workflowId: driftMonitorId(model), stopping: true });
  else process.stdout.write(`${driftMonitorId(model)}: stopping\n`);
}

async function events(config: FlywheelConfig, model: string, opts: { limit: string; json?: boolean }): Promise<void> {
  const limit = Number(opts.limit);
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) throw new CliError(`--limit must be an integer between 1 and 1000 (got ${opts.limit})`, 2);
  let rows: Record<string, unknown>[];
  let featureEvents: Record<string, unknown>[];
  try {
    // Feature drift (served inputs against the training data) is found before any label: listed apart.
    ({ rows: featureEvents } = await getPool(config.postgres.url).query(
      `select id::text as event, detected_at as "detectedAt", champion_version as "champion", window_rows as "windowRows", features, source
       from feature_drift_events where model = $1 order by id desc limit $2`,
      [model, limit],
    ));
    ({ rows } = await getPool(config.postgres.url).query(
    `select e.event, e.detected_at as "detectedAt", e.direction, e.sample, e.error_before as "errorBefore", e.error_after as "errorAfter",
            e.retraining_workflow_id as "retraining", r.decision, r.reason, e.note
     from drift_events e left join retraining_runs r on r.workflow_id = e.retraining_workflow_id
     where e.model = $1 order by e.event desc limit $2`,
    [model, limit],
    ));
  } finally {
    await closePools();
  }
  if (opts.json) return printJson(process.argv.includes('--features') ? featureEvents : rows);
  printTable(rows, ['event', 'detectedAt', 'direction', 'sample', 'errorBefore', 'errorAfter', 'retraining', 'decision']);
  if (featureEvents.length === 0) return;
  process.stdout.write('\nfeature drift (served features against the champion\'s training data):\n');
  const moved = (f: unknown) => (f as Array<{ name: string; psi: number }>).map((m) => `${m.name} (PSI ${m.psi.toFixed(2)})`).join(', ');
  printTable(featureEvents.map((e) => ({ ...e, features: moved(e['features']) })), ['event', 'detectedAt', 'champion', 'windowRows', 'features', 'source']);
}

export function registerDriftCommands(program: Command): void {
  const drift = program.command('drift').description('drift monitors: ADWIN on the served error rate, retraining when it rises');
  json(
    drift
      .command('start <model>')
      .description('watch a deployed model; on a rise in its error rate, retrain on --dataset')
      .requiredOption('-d, --dataset <ref>', 'what a drift-triggered retraining trains on (the fresh data window)')
      .option('-l, --label <column>', 'label column of a file dataset')
      .option('-f, --family <family>', 'model family', 'softmax-regression')
      .option('-p, --param <key=value>', 'hyperparameter (repeatable)', collect, [] as string[])
      .option('--margin <x>', 'the challenger must beat the champion by more than this', '0.01')
      .option('--metric <name>', 'logLoss or accuracy', 'logLoss')
      .option('--delta <x>', "ADWIN's significance level", '0.002')
      .option('--poll <duration>', 'how often new labelled outcomes are read', '30s')
      .option('--min-new-labels <n>', 'with production data: labelled outcomes served after a rise before the retraining starts (it learns only those)', String(DEFAULT_MIN_NEW_LABELS))
      .option('--canary-steps <list>', "the retrained challenger's canary steps, e.g. 10:1m,50:2m,100 (default: CanaryRollout's)")
      .option('--canary-interval <seconds>', "its analysis interval (default: CanaryRollout's)"),
  ).action(withConfig((config, model: string, opts: StartOptions) => start(config, model, opts)));
  json(drift.command('status <model>').description('window, error estimate, detections, last event')).action(
    withConfig((config, model: string, opts: { json?: boolean }) => status(config, model, opts)),
  );
  json(drift.command('stop <model>').description('stop the monitor (retrainings it started go on)').option('--reason <text>', 'recorded with the stop')).action(
    withConfig((config, model: string, opts: { reason?: string; json?: boolean }) => stop(config, model, opts)),
  );
  registerFeatureDriftCommand(drift);
  json(drift.command('events <model>').description('drift events and what each retraining decided; feature drift events below them').option('--limit <n>', 'newest first, at most', '20').option('--features', 'with --json: the feature drift events')).action(
    withConfig((config, model: string, opts: { limit: string; json?: boolean }) => events(config, model, opts)),
  );
}
