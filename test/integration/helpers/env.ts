/**
 * What integration tests share: the real stack's config, a Temporal client, MLflow, PostgreSQL,
 * and in-process workers on a task queue of the test's own (so tests never steal each other's
 * tasks, nor the `flywheel up` workers'). Nothing here is a mock.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pg from 'pg';
import { loadConfig, type FlywheelConfig } from '../../../config/index';
import { createActivities } from '../../../activities/index';
import { MlflowClient } from '../../../clients/mlflow';
import { temporalConnectionOptions } from '../../../clients/temporal';
import { WORKFLOWS_PATH } from '../../../workers/workflow-worker-path';

export interface TestEnv {
  config: FlywheelConfig;
  client: Client;
  mlflow: MlflowClient;
  db: pg.Pool;
  taskQueues: { workflows: string; cpu: string; control: string };
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
  return {
    config,
    client: new Client({ connection, namespace: config.temporal.namespace }),
    mlflow,
    db,
    taskQueues,
    async close() {
      await db.end();
      await connection.close();
    },
  };
}

/** Runs a workflow worker (and, unless told otherwise, a CPU and a control activity worker) in this
 * process. Inputs that name only `cpu` run all their activities on the CPU worker, as before. */
export async function runWorkers<T>(env: TestEnv, fn: () => Promise<T>, opts: { activities?: boolean } = {}): Promise<T> {
  const connection = await NativeConnection.connect(temporalConnectionOptions(env.config));
  const workers: Worker[] = [
    await Worker.create({ connection, namespace: env.config.temporal.namespace, taskQueue: env.taskQueues.workflows, workflowsPath: WORKFLOWS_PATH }),
  ];
  if (opts.activities !== false) {
    const activities = createActivities(env.config, 'test-commit');
    for (const taskQueue of [env.taskQueues.cpu, env.taskQueues.control]) {
      workers.push(await Worker.create({ connection, namespace: env.config.temporal.namespace, taskQueue, activities }));
    }
  }
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await connection.close();
  }
}

/** A model name of this test's own, written down so the run deletes it from MLflow at its end (global-setup.ts). */
export function uniqueModelName(prefix: string): string {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  const file = process.env.FLYWHEEL_TEST_MODELS_FILE;
  if (file) appendFileSync(file, `${name}\n`);
  return name;
}
