/**
 * `flywheel schedule create|list|pause|resume|trigger|delete|backfill`: retraining on a timetable,
 * as Temporal Schedules that start the `Retraining` workflow. One schedule per model by default
 * (id `retrain-<model>`). Overlap is `skip` unless asked otherwise (a retraining still running when
 * the next is due makes the next pointless), and the catch-up window is always set explicitly so
 * an outage never replays a year of missed runs.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { datasetAtEdge } from '../dataset-edge';
import { MODEL_NAME } from '../../config/search-attributes';
import { connectTemporal } from '../../clients/temporal';
import { checkRetraining, retrainingScheduleId, type ComparisonMetric, type RetrainingInput } from '../../lib/retraining/spec';
import { overlapConstant, parseDuration, parseOverlap, parseWhen } from '../../lib/retraining/schedule-spec';
import { collect, json, withConfig } from '../command-kit';
import { CliError, printFields, printJson, printTable } from '../output';
import { parseParams } from './train';

interface CreateOptions {
  dataset: string;
  label?: string;
  family: string;
  param: string[];
  cron?: string;
  every?: string;
  overlap: string;
  catchupWindow: string;
  margin: string;
  metric: string;
  id?: string;
  paused?: boolean;
  json?: boolean;
}

async function withClient<T>(config: FlywheelConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const { client, connection } = await connectTemporal(config);
  try {
    return await fn(client);
  } finally {
    await connection.close();
  }
}

async function createSchedule(config: FlywheelConfig, model: string, opts: CreateOptions): Promise<void> {
  const when = parseWhen(opts);
  if (!when.ok) throw new CliError(when.message, 2);
  const overlap = parseOverlap(opts.overlap);
  if (!overlap.ok) throw new CliError(overlap.message, 2);
  const catchupMs = parseDuration(opts.catchupWindow);
  if (catchupMs === undefined) throw new CliError(`--catchup-window: "${opts.catchupWindow}" must be a duration like 10m or 1h`, 2);
  const margin = Number(opts.margin);
  const scheduleId = opts.id ?? retrainingScheduleId(model);
  const input: RetrainingInput = {
    model,
    dataset: opts.dataset,
    labelColumn: opts.label,
    family: opts.family,
    hyperparameters: parseParams(opts.param),
    margin,
    metric: opts.metric as ComparisonMetric,
    trigger: { kind: 'schedule', scheduleId },
    taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control },
  };
  const checked = checkRetraining(input);
  if (!checked.ok) throw new CliError(checked.message, 2);
  // Checked now as train does; the file may be refreshed between runs, and each run checks again.
  // production:7d stays a reference: each run snapshots the window that ends when it runs.
  const edge = await datasetAtEdge(config, opts.dataset, { model, label: opts.label, snapshot: false });
  if (!edge.loaded) checked.value.dataset = edge.reference;

  await withClient(config, async (client) => {
    try {
      await client.schedule.create({
        scheduleId,
        spec: when.value.kind === 'cron' ? { cronExpressions: [when.value.expression] } : { intervals: [{ every: when.value.ms }] },
        action: {
          type: 'startWorkflow',
          workflowType: 'Retraining',
          // Temporal appends each run's scheduled time, so every run has its own id.
          workflowId: `retrain-${model}-scheduled`,
          taskQueue: config.taskQueues.workflows,
          args: [checked.value],
          typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
          staticSummary: `Scheduled retraining of ${model} on ${opts.dataset}`,
        },
        policies: { overlap: overlapConstant(overlap.value) as ScheduleOverlapPolicy, catchupWindow: catchupMs },
        state: { paused: opts.paused ?? false, note: opts.paused ? 'created paused' : undefined },
        // The server keeps a cron spec only in its parsed calendar form: the memo keeps what was asked for.
        memo: { flywheelModel: model, dataset: opts.dataset, when: when.value.kind === 'cron' ? `cron "${when.value.expression}"` : `every ${when.value.ms / 1000}s` },
      });
    } catch (err) {
      if (err instanceof ScheduleAlreadyRunning) throw new CliError(`schedule ${scheduleId} already exists: delete it first (flywheel schedule delete ${model})`, 2);
      const message = (err as Error).message.split('\n')[0]!;
      if (/invalid|cron/i.test(message)) throw new CliError(`Temporal refused the schedule: ${message}`, 2);
      throw err;
    }
    const when_ = when.value.kind === 'cron' ? `cron "${when.value.expression}"` : `every ${when.value.text}`;
    if (opts.json) printJson({ scheduleId, model, dataset: opts.dataset, spec: when.value, overlap: overlap.value, catchupWindowMs: catchupMs, margin: checked.value.margin, metric: checked.value.metric, paused: opts.paused ?? false });
    else printFields({ schedule: scheduleId, model, dataset: opts.dataset, when: when_, overlap: overlap.value, 'catch-up window': opts.catchupWindow, margin: `${checked.value.margin} (${checked.value.metric})` });
  });
}

async function listSchedules(config: FlywheelConfig, opts: { json?: boolean }): Promise<void> {
  await withClient(config, async (client) => {
    const rows: Record<string, unknown>[] = [];
    for await (const s of client.schedule.list()) {
      if (s.action?.workflowType !== 'Retraining') continue;
      const spec = typeof s.memo?.when === 'string' ? s.memo.when : describeSpec(s.spec);
      rows.push({
        scheduleId: s.scheduleId,
        model: s.memo?.flywheelModel,
        dataset: s.memo?.dataset,
        spec,
        paused: s.state.paused,
        nextRun: s.info?.nextActionTimes?.[0]?.toISOString(),
        lastRun: s.info?.recentActions?.at(-1)?.action.workflow.workflowId,
      });
    }
    if (opts.json) printJson(rows);
    else printTable(rows, ['scheduleId', 'model', 'spec', 'paused', 'nextRun', 'lastRun']);
  });
}

type Act = 'pause' | 'resume' | 'trigger' | 'delete';
const DONE: Record<Act, string> = { pause: 'paused', resume: 'resumed', trigger: 'triggered', delete: 'deleted' };

async function act(config: FlywheelConfig, model: string, action: Act, opts: { id?: string; note?: string; json?: boolean }): Promise<void> {
  const scheduleId = opts.id ?? retrainingScheduleId(model);
  await withClient(config, async (client) => {
    const handle = client.schedule.getHandle(scheduleId);
    try {
      if (action === 'pause') await handle.pause(opts.note ?? 'paused from the CLI');
      else if (action === 'resume') await handle.unpause(opts.note ?? 'resumed from the CLI');
      else if (action === 'trigger') await handle.trigger();
      else await handle.delete();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new CliError(`no schedule ${scheduleId} (flywheel schedule list)`, 2);
      throw err;
    }
    if (opts.json) printJson({ scheduleId, model, action: DONE[action] });
    else process.stdout.write(`${scheduleId}: ${DONE[action]}\n`);
  });
}

async function backfill(config: FlywheelConfig, model: string, opts: { id?: string; start: string; end: string; overlap?: string; json?: boolean }): Promise<void> {
  const scheduleId = opts.id ?? retrainingScheduleId(model);
  const start = new Date(opts.start);
  const end = new Date(opts.end);
  if (Number.isNaN(start.getTime())) throw new CliError(`--start: "${opts.start}" is not a date (ISO 8601, e.g. 2026-11-01T00:00:00Z)`, 2);
  if (Number.isNaN(end.getTime())) throw new CliError(`--end: "${opts.end}" is not a date (ISO 8601, e.g. 2026-11-02T00:00:00Z)`, 2);
  if (!(end > start)) throw new CliError(`--end (${opts.end}) must be after --start (${opts.start})`, 2);
  let overlap: ScheduleOverlapPolicy | undefined;
  if (opts.overlap) {
    const o = parseOverlap(opts.overlap);
    if (!o.ok) throw new CliError(o.message, 2);
    overlap = overlapConstant(o.value) as ScheduleOverlapPolicy;
  }
  await withClient(config, async (client) => {
    try {
      await client.schedule.getHandle(scheduleId).backfill({ start, end, overlap });
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new CliError(`no schedule ${scheduleId} (flywheel schedule list)`, 2);
      throw err;
    }
    if (opts.json) printJson({ scheduleId, model, backfill: { start: start.toISOString(), end: end.toISOString(), overlap: opts.overlap ?? 'skip' } });
    else process.stdout.write(`${scheduleId}: backfill ${start.toISOString()} → ${end.toISOString()} requested\n`);
  });
}

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('scheduled retraining (Temporal Schedules starting the Retraining workflow)');
  json(
    schedule
      .command('create <model>')
      .description('retrain a model on a timetable: challenger vs champion, canary only when better by the margin')
      .requiredOption('-d, --dataset <ref>', 'the fresh data window: builtin name, synthetic:…, or a .csv/.json file refreshed between runs')
      .option('-l, --label <column>', 'label column of a file dataset')
      .option('-f, --family <family>', 'model family', 'softmax-regression')
      .option('-p, --param <key=value>', 'hyperparameter (repeatable)', collect, [] as string[])
      .option('--cron <expression>', 'cron expression, e.g. "0 2 * * *" (UTC)')
      .option('--every <duration>', 'interval, e.g. 24h')
      .option('--overlap <policy>', 'when a run is still going: skip, buffer-one, buffer-all, cancel-other, terminate-other, allow-all', 'skip')
      .option('--catchup-window <duration>', 'after an outage, runs missed within this are still taken', '1h')
      .option('--margin <x>', 'the challenger must beat the champion by more than this', '0.01')
      .option('--metric <name>', 'logLoss or accuracy', 'logLoss')
      .option('--id <scheduleId>', 'schedule id (default retrain-<model>)')
      .option('--paused', 'create it paused'),
  ).action(withConfig((config, model: string, opts: CreateOptions) => createSchedule(config, model, opts)));
  json(schedule.command('list').description('retraining schedules: spec, paused, next and last run')).action(
    withConfig((config, opts: { json?: boolean }) => listSchedules(config, opts)),
  );
  for (const [name, help] of [
    ['pause', 'stop taking actions until resumed'],
    ['resume', 'take actions again'],
    ['trigger', 'start one retraining now (subject to the overlap policy)'],
    ['delete', 'remove the schedule (running retrainings go on)'],
  ] as const) {
    json(schedule.command(`${name} <model>`).description(help).option('--id <scheduleId>', 'schedule id (default retrain-<model>)').option('--note <text>', 'recorded with a pause or resume')).action(
      withConfig((config, model: string, opts: { id?: string; note?: string; json?: boolean }) => act(config, model, name, opts)),
    );
  }
  json(
    schedule
      .command('backfill <model>')
      .description('take the actions the schedule would have taken between two times')
      .requiredOption('--start <time>', 'ISO 8601 start')
      .requiredOption('--end <time>', 'ISO 8601 end')
      .option('--overlap <policy>', 'overlap policy for the backfilled runs (default skip)')
      .option('--id <scheduleId>', 'schedule id (default retrain-<model>)'),
  ).action(withConfig((config, model: string, opts: { id?: string; start: string; end: string; overlap?: string; json?: boolean }) => backfill(config, model, opts)));
}

/** Temporal describes a cron schedule as calendars; either way one short line for the table. */
function describeSpec(spec: { cronExpressions?: string[]; intervals?: Array<{ every: unknown }>; calendars?: unknown[] } | undefined): string {
  if (spec?.cronExpressions?.length) return spec.cronExpressions.join('; ');
  if (spec?.intervals?.length) return spec.intervals.map((i) => `every ${Number(i.every) / 1000}s`).join('; ');
  if (spec?.calendars?.length) return JSON.stringify(spec.calendars);
  return '-';
}
