/**
 * `flywheel doctor`: finds traffic splits that no running canary rollout or A/B test owns (left by
 * a workflow that was terminated, or failed mid-step, and so could not put the traffic back) and
 * reports them; `--repair` gives each model's champion (or, without one serving, the version with
 * the most traffic) all traffic. Exit 0 when clean, 1 when it found something (even if repaired:
 * something had gone wrong). `--schedule <every>` instead creates a Temporal Schedule that runs the
 * Reconciler workflow, which does the same, on a timetable.
 *
 * It also lists the alerts firing in the stack's Alertmanager, with each one's runbook line. They
 * inform and do not change the exit code: a stack run without workers fires FlywheelWorkerDown by
 * design, and Alertmanager (not doctor) is what pages. Without Alertmanager it says so and goes on.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { MlflowClient } from '../../clients/mlflow';
import { connectTemporal } from '../../clients/temporal';
import { checkTraffic, repairOrphan, type RepairResult } from '../../activities/reconcile';
import { alertmanagerBaseUrl, fetchActiveAlerts } from '../../clients/alertmanager';
import { firingAlerts, type FiringAlert } from '../../lib/alerts/firing';
import { parseDuration } from '../../lib/retraining/schedule-spec';
import type { ReconcilerInput } from '../../workflows/reconciler';
import { collect, json, withConfig } from '../command-kit';
import { CliError, EXIT, printFields, printJson, printTable } from '../output';
import { asCliError } from './serving';

export const RECONCILER_SCHEDULE_ID = 'flywheel-reconciler';

interface DoctorOptions {
  repair?: boolean;
  model: string[];
  grace: string;
  schedule?: string;
  json?: boolean;
}

const pct = (bp: number) => `${bp / 100}%`;

async function doctor(config: FlywheelConfig, opts: DoctorOptions): Promise<void> {
  const graceSeconds = Number(opts.grace);
  if (!(Number.isFinite(graceSeconds) && graceSeconds >= 0)) throw new CliError(`--grace: must be a number of seconds >= 0 (got ${opts.grace})`, 2);
  if (opts.schedule !== undefined) return schedule(config, opts, graceSeconds);
  const models = opts.model.length ? opts.model : undefined;
  const { client, connection } = await connectTemporal(config);
  try {
    const pool = getPool(config.postgres.url);
    const check = await checkTraffic({ pool, temporal: client, mlflow: new MlflowClient(config.mlflow) }, { models, graceSeconds });
    const repairs: RepairResult[] = [];
    if (opts.repair) for (const f of check.findings) repairs.push(await repairOrphan(pool, { model: f.model, revision: f.revision, version: f.target, reason: f.targetReason }));
    const alerts = await readAlerts(config, models);
    if (opts.json) printJson({ ...check, repaired: opts.repair ? repairs : undefined, clean: check.findings.length === 0, alerts: alerts.firing, alertmanager: alerts.error ?? 'ok' });
    else {
      printFields({
        models: check.models,
        'running rollouts and A/B tests': check.running.length,
        'unowned splits': check.findings.length,
        'firing alerts': alerts.error ? `unknown (${alerts.error})` : alerts.firing!.length,
      });
      if (check.findings.length) {
        process.stdout.write('\n');
        printTable(
          check.findings.map((f) => {
            const r = repairs.find((x) => x.model === f.model);
            return {
              model: f.model,
              weights: f.serving.map((v) => `v${v} ${pct(f.weights[v]!)}`).join(', '),
              repair: `v${f.target} to 100% (${f.targetReason})`,
              done: r ? (r.repaired ? 'repaired' : r.reason) : 'reported (flywheel doctor --repair)',
            };
          }),
        );
      }
      if (alerts.firing?.length) {
        process.stdout.write('\n');
        printTable(alerts.firing.map((a) => ({ alert: a.alert, severity: a.severity, subject: a.subject, since: a.since, summary: a.summary })));
        // One runbook line per alert name: its text is the same for every series of that alert.
        const runbooks = new Map(alerts.firing.map((a) => [a.alert, a.runbook]));
        process.stdout.write('\nwhat to do:\n');
        for (const [alert, runbook] of runbooks) process.stdout.write(`  ${alert}: ${runbook}\n`);
      }
    }
    if (check.findings.length) process.exitCode = EXIT.failure;
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await connection.close();
    await closePools();
  }
}

/** Alertmanager's firing alerts (of `models` when given), or why they could not be read. */
async function readAlerts(config: FlywheelConfig, models: string[] | undefined): Promise<{ firing?: FiringAlert[]; error?: string }> {
  const url = alertmanagerBaseUrl(config);
  try {
    return { firing: firingAlerts(await fetchActiveAlerts(url), { models }) };
  } catch (err) {
    return { error: `Alertmanager at ${url} did not answer (${(err as Error).message}); \`flywheel up\` starts it unless --no-monitoring` };
  }
}

async function schedule(config: FlywheelConfig, opts: DoctorOptions, graceSeconds: number): Promise<void> {
  const everyMs = parseDuration(opts.schedule!);
  if (everyMs === undefined) throw new CliError(`--schedule: "${opts.schedule}" must be a duration like 10m or 1h`, 2);
  const input: ReconcilerInput = { repair: opts.repair ?? false, models: opts.model.length ? opts.model : undefined, graceSeconds, taskQueues: { cpu: config.taskQueues.cpu, control: config.taskQueues.control } };
  const { client, connection } = await connectTemporal(config);
  try {
    await client.schedule.create({
      scheduleId: RECONCILER_SCHEDULE_ID,
      spec: { intervals: [{ every: everyMs }] },
      action: { type: 'startWorkflow', workflowType: 'Reconciler', workflowId: 'reconcile', taskQueue: config.taskQueues.workflows, args: [input], staticSummary: `Reconcile traffic${input.repair ? ' (repair)' : ' (report only)'}` },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: everyMs },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new CliError(`schedule ${RECONCILER_SCHEDULE_ID} already exists: delete it first (temporal schedule delete -s ${RECONCILER_SCHEDULE_ID})`, 2);
    throw err;
  } finally {
    await connection.close();
  }
  if (opts.json) printJson({ scheduleId: RECONCILER_SCHEDULE_ID, everyMs, repair: input.repair });
  else printFields({ schedule: RECONCILER_SCHEDULE_ID, every: opts.schedule, repair: input.repair ? 'yes' : 'no (report only: add --repair)' });
}

export function registerDoctorCommand(program: Command): void {
  json(
    program
      .command('doctor')
      .description('find traffic splits no running canary rollout or A/B test owns (exit 1 when any); --repair gives the champion all traffic')
      .option('--repair', 'give each unowned split\'s champion (or its heaviest version) all traffic')
      .option('-m, --model <name>', 'check only this model (repeatable)', collect, [])
      .option('--grace <seconds>', 'leave weights changed this recently alone (their workflow may not be visible yet)', '60')
      .option('--schedule <every>', 'instead, create a Temporal Schedule running the Reconciler workflow this often (e.g. 10m); with --repair it repairs'),
  ).action(withConfig((config, opts: DoctorOptions) => doctor(config, opts)));
}
