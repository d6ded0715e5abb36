/**
 * `flywheel online start|status|snapshot|stop`: an online model served by the gateway at
 * /v1/online/<name>/predict, warm-started from a registered version, learning from label feedback,
 * and snapshotted as a registered version on a cadence by the OnlineSnapshot workflow.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { closePools, getPool } from '../../clients/db';
import { MlflowClient } from '../../clients/mlflow';
import { connectTemporal } from '../../clients/temporal';
import { startOnlineModel, stopOnlineModel } from '../../activities/online';
import { onlineStatusQuery, snapshotSignal, stopSignal, type OnlineSnapshotInput, type OnlineSnapshotStatus } from '../../workflows/online-learning';
import { json, withConfig } from '../command-kit';
import { versionArg } from '../edge';
import { CliError, printFields, printJson, printTable } from '../output';
import { asCliError } from './serving';

export const onlineWorkflowId = (name: string) => `online-snapshot-${name}`;

/** `90`, `30s`, `10m`, `2h` → seconds. */
export function parseSeconds(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(v.trim());
  if (!m) throw new CliError(`${flag}: expected seconds or a duration like 30s, 10m, 2h (got ${v})`, 2);
  const s = Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  if (s < 1) throw new CliError(`${flag}: at least 1 second`, 2);
  return s;
}

function optNumber(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`${flag}: expected a number, got ${v}`, 2);
  return n;
}

interface StartOptions {
  from: string;
  name?: string;
  learningRate?: string;
  l2?: string;
  snapshotEvery: string;
  restart?: boolean;
  json?: boolean;
}

async function start(config: FlywheelConfig, model: string, opts: StartOptions): Promise<void> {
  versionArg(opts.from, '--from');
  const name = opts.name ?? `${model}-online`;
  const everySeconds = parseSeconds('--snapshot-every', opts.snapshotEvery);
  const learningRate = optNumber('--learning-rate', opts.learningRate);
  const l2 = optNumber('--l2', opts.l2);
  let started;
  try {
    started = await startOnlineModel(getPool(config.postgres.url), new MlflowClient(config.mlflow), { name, model, version: opts.from, learningRate, l2, restart: opts.restart });
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
  const { client, connection } = await connectTemporal(config);
  const workflowId = onlineWorkflowId(name);
  let snapshots = `every ${everySeconds}s (${workflowId})`;
  try {
    const input: OnlineSnapshotInput = { name, model, everySeconds, taskQueues: { cpu: config.taskQueues.cpu } };
    await client.workflow.start('OnlineSnapshot', {
      taskQueue: config.taskQueues.workflows,
      workflowId,
      args: [input],
      typedSearchAttributes: [
        { key: MODEL_NAME, value: model },
        { key: PIPELINE_STAGE, value: 'online-learning' },
      ],
      staticSummary: `Snapshot online model ${name} (from ${model} v${opts.from}) every ${everySeconds}s`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    snapshots = `already running (${workflowId})`;
  } finally {
    await connection.close();
  }
  const route = `${config.gateway.url}/v1/online/${name}/predict`;
  if (opts.json) return printJson({ ...started, route, snapshotWorkflowId: workflowId, everySeconds });
  printFields({
    online: `${name} from ${model} v${opts.from}${started.created ? '' : ' (already running from it, unchanged)'}`,
    generation: started.generation,
    route,
    learns: 'from label feedback on its own predictions (POST /v1/feedback)',
    snapshots,
  });
}

async function status(config: FlywheelConfig, name: string, opts: { json?: boolean }): Promise<void> {
  const pool = getPool(config.postgres.url);
  try {
    const { rows } = await pool.query(
      'SELECT name, base_model, base_version, generation, learned, learned_from, learned_through, active, updated_at FROM online_models WHERE name = $1',
      [name],
    );
    if (!rows[0]) throw new CliError(`no online model ${name} (flywheel online start <model> --from <version>)`, 2);
    const snaps = (await pool.query('SELECT version, generation, learned, learned_from, learned_through, created_at FROM online_snapshots WHERE name = $1 ORDER BY created_at DESC LIMIT 10', [name])).rows;
    let workflow: OnlineSnapshotStatus | { error: string } | undefined;
    try {
      const { client, connection } = await connectTemporal(config);
      try {
        workflow = await client.workflow.getHandle(onlineWorkflowId(name)).query(onlineStatusQuery);
      } finally {
        await connection.close();
      }
    } catch (err) {
      workflow = { error: (err as Error).message.split('\n')[0]! };
    }
    const r = rows[0];
    if (opts.json) return printJson({ model: r, snapshots: snaps, workflow });
    printFields({
      online: `${r.name} (${r.active ? 'serving' : 'stopped'})`,
      base: `${r.base_model} v${r.base_version}`,
      generation: r.generation,
      learned: `${r.learned} labels (feedback ids ${r.learned_from ?? '-'}…${r.learned_through})`,
      checkpoint: (r.updated_at as Date).toISOString(),
      snapshots: 'error' in (workflow ?? {}) ? `workflow not reachable: ${(workflow as { error: string }).error}` : `${(workflow as OnlineSnapshotStatus).state}, every ${(workflow as OnlineSnapshotStatus).everySeconds}s`,
    });
    if (snaps.length > 0) {
      process.stdout.write('\n');
      printTable(snaps.map((s) => ({ version: s.version, generation: s.generation, labels: s.learned, feedback: `${s.learned_from ?? '-'}…${s.learned_through}`, at: (s.created_at as Date).toISOString() })));
    }
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

async function signal(config: FlywheelConfig, name: string, what: 'snapshot' | 'stop', opts: { json?: boolean }): Promise<void> {
  let stopped: boolean | undefined;
  if (what === 'stop') {
    try {
      stopped = (await stopOnlineModel(getPool(config.postgres.url), name)).stopped;
    } catch (err) {
      throw asCliError(config, err);
    } finally {
      await closePools();
    }
  }
  const { client, connection } = await connectTemporal(config);
  let signalled = true;
  try {
    const handle = client.workflow.getHandle(onlineWorkflowId(name));
    if (what === 'snapshot') await handle.signal(snapshotSignal);
    else await handle.signal(stopSignal, 'stopped by user');
  } catch (err) {
    if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
    if (what === 'snapshot') throw new CliError(`no snapshot workflow for online model ${name} (flywheel online start)`, 2);
    signalled = false;
  } finally {
    await connection.close();
  }
  if (opts.json) return printJson({ name, [what === 'stop' ? 'stopped' : 'snapshotRequested']: what === 'stop' ? stopped : true, workflowSignalled: signalled });
  process.stdout.write(what === 'snapshot' ? `snapshot of ${name} requested: flywheel online status ${name}\n` : `online model ${name} ${stopped ? 'stopped' : 'was not serving'}; snapshots ${signalled ? 'stopped' : 'were not running'}\n`);
}

export function registerOnlineCommands(program: Command): void {
  const online = program.command('online').description('online models: learn from label feedback in the gateway, snapshot as registered versions');
  json(
    online
      .command('start <model>')
      .description('serve an online copy of a registered version at /v1/online/<name>/predict and snapshot it on a cadence')
      .requiredOption('--from <version>', 'registered version to warm-start from')
      .option('--name <name>', 'routing name (default <model>-online)')
      .option('--learning-rate <r>', 'SGD step per label (default 0.05)')
      .option('--l2 <x>', 'L2 penalty (default 0)')
      .option('--snapshot-every <duration>', 'register a version this often when something was learnt', '10m')
      .option('--restart', 'start afresh from the version even if already running from it'),
  ).action(withConfig((config, model: string, opts: StartOptions) => start(config, model, opts)));
  json(online.command('status <name>').description('labels learnt, the feedback window, registered snapshots')).action(
    withConfig((config, name: string, opts: { json?: boolean }) => status(config, name, opts)),
  );
  json(online.command('snapshot <name>').description('register a snapshot now')).action(
    withConfig((config, name: string, opts: { json?: boolean }) => signal(config, name, 'snapshot', opts)),
  );
  json(online.command('stop <name>').description('stop serving and snapshotting it')).action(
    withConfig((config, name: string, opts: { json?: boolean }) => signal(config, name, 'stop', opts)),
  );
}
