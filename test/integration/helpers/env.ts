/**
 * What integration tests share: the real stack's config, a Temporal client, MLflow, PostgreSQL,
 * and in-process workers on a task queue of the test's own (so tests never steal each other's
 * tasks, nor the `flywheel up` workers'). Nothing here is a mock.
 *
 * Every worker a test runs gets a data folder of its own, as if each ran on its own host: files pass
 * between them only through the shared store (datasets/file-store.ts), never through a common disk.
 * FLYWHEEL_TEST_SHARED_DATA_DIR=1 gives them all the stack's folder again (the one-host layout).
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { loadConfig, type FlywheelConfig } from '../../../config/index';
import { createActivities } from '../../../activities/index';
import { MlflowClient, mlflowAuthEnv } from '../../../clients/mlflow';
import { temporalConnectionOptions } from '../../../clients/temporal';
import { WORKFLOWS_PATH } from '../../../workers/workflow-worker-path';

export interface TestEnv {
  config: FlywheelConfig;
  client: Client;
  mlflow: MlflowClient;
  db: pg.Pool;
  taskQueues: { workflows: string; cpu: string; control: string };
  /** The config of one more host (a gateway, say): the same services, a data folder of its own, removed at close. */
  host(role: string): FlywheelConfig;
  close(): Promise<void>;
}

export async function openTestEnv(name: string): Promise<TestEnv> {
  const suffix = `${name}-${randomUUID().slice(0, 8)}`;
  const base = loadConfig();
  const taskQueues = { workflows: `test-wf-${suffix}`, cpu: `test-cpu-${suffix}`, control: `test-control-${suffix}` };
  const config: FlywheelConfig = { ...base, taskQueues: { ...base.taskQueues, ...taskQueues } };
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: '3s' });
  } catch {
    throw new Error(`integration tests need the real stack: run \`npx flywheel up --no-workers\` (Temporal not reachable at ${config.temporal.address})`);
  }
  const mlflow = new MlflowClient(config.mlflow);
  if (!(await mlflow.health())) throw new Error(`integration tests need the real stack: MLflow not reachable at ${config.mlflow.trackingUri}`);
  const db = new pg.Pool({ connectionString: config.postgres.url, max: 2 });
  const hosts: Array<() => void> = [];
  return {
    config,
    client: new Client({ connection, namespace: config.temporal.namespace }),
    mlflow,
    db,
    taskQueues,
    host(role) {
      const h = hostDataDir(config, role);
      hosts.push(h.remove);
      return onHost(config, h.dataDir);
    },
    async close() {
      for (const remove of hosts) remove();
      await db.end();
      await connection.close();
    },
  };
}

const ownFolders = process.env.FLYWHEEL_TEST_SHARED_DATA_DIR !== '1';

/** A data folder for one worker ("host"), removed by the returned function; the stack's folder in one-host mode. */
export function hostDataDir(config: FlywheelConfig, role: string): { dataDir: string; remove(): void } {
  if (!ownFolders) return { dataDir: config.dataDir, remove: () => undefined };
  const dataDir = mkdtempSync(path.join(tmpdir(), `flywheel-host-${role}-`));
  return { dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** This config as one host sees it: the same services, its own data folder. */
export function onHost(config: FlywheelConfig, dataDir: string): FlywheelConfig {
  // Isolated: a host of its own cannot see the others' folders, so it must never read them, even here where it could.
  return { ...config, dataDir, fileStore: config.fileStore === 'off' ? 'off' : 'mlflow-isolated' };
}

/**
 * The environment of a worker process of its own host: its own data folder, and the services'
 * logins given explicitly (the local stack keeps them in its data folder, which this host lacks).
 */
export function hostProcessEnv(config: FlywheelConfig, dataDir: string): Record<string, string> {
  if (dataDir === config.dataDir) return {};
  return {
    FLYWHEEL_DATA_DIR: dataDir,
    FLYWHEEL_FILE_STORE: config.fileStore === 'off' ? 'off' : 'mlflow-isolated',
    DATABASE_URL: config.postgres.url,
    ...mlflowAuthEnv(config.mlflow.auth),
  };
}

/** Runs a workflow worker (and, unless told otherwise, two CPU and one control activity worker) in this
 * process. Inputs that name only `cpu` run all their activities on the CPU workers, as before. The two
 * CPU workers poll one queue from folders of their own, so a pipeline's activities land on either
 * "host" as Temporal hands them out: a file one wrote and the other needs must come through the store. */
export async function runWorkers<T>(
  env: TestEnv,
  fn: () => Promise<T>,
  /** ownFolders false: the activity workers run on the host of env.config's folder (a backup of that folder, say). */
  opts: { activities?: boolean; ownFolders?: boolean } = {},
): Promise<T> {
  const connection = await NativeConnection.connect(temporalConnectionOptions(env.config));
  // The SDK allows one worker per queue on a connection: the second CPU "host" has a connection of its own, as it would.
  const connections = [connection];
  const pools = [env.taskQueues.cpu, env.taskQueues.cpu, env.taskQueues.control];
  const folder = (role: string) => (opts.ownFolders === false ? { dataDir: env.config.dataDir, remove: () => undefined } : hostDataDir(env.config, role));
  const folders = opts.activities === false ? [] : [folder('cpu-a'), folder('cpu-b'), folder('control')];
  const cleanUp = async () => {
    for (const c of connections) await c.close();
    for (const f of folders) f.remove();
  };
  const workers: Worker[] = [];
  try {
    workers.push(await Worker.create({ connection, namespace: env.config.temporal.namespace, taskQueue: env.taskQueues.workflows, workflowsPath: WORKFLOWS_PATH }));
    await startActivityWorkers();
  } catch (err) {
    await cleanUp();
    throw err;
  }
  async function startActivityWorkers() {
    if (opts.activities === false) return;
    // One CPU worker when all share a folder (the one-host layout): a second would prove nothing more.
    for (const [i, taskQueue] of pools.entries()) {
      if (i === 1 && folders[1]!.dataDir === env.config.dataDir) continue;
      const dataDir = folders[i]!.dataDir;
      const activities = createActivities(dataDir === env.config.dataDir ? env.config : onHost(env.config, dataDir), 'test-commit');
      const own = i === 1 ? await NativeConnection.connect(temporalConnectionOptions(env.config)) : connection;
      if (own !== connection) connections.push(own);
      workers.push(await Worker.create({ connection: own, namespace: env.config.temporal.namespace, taskQueue, activities }));
    }
  }
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await cleanUp();
  }
}

/** A model name of this test's own, written down so the run deletes it from MLflow at its end (global-setup.ts). */
export function uniqueModelName(prefix: string): string {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const file = process.env.FLYWHEEL_TEST_MODELS_FILE;
  if (file) appendFileSync(file, `${name}\n`);
  return name;
}
