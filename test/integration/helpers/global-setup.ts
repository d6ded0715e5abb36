/**
 * The integration tests leave the user's own data alone: they run against the same local stack
 * but in a database of their own (`<database>_test` on the same PostgreSQL) and a Temporal
 * namespace of their own (`flywheel-test`), both created here when missing; the models they
 * register in the shared MLflow server (the one thing that has no namespace) are written down as
 * they are named (uniqueModelName) and deleted, with their experiments, when the run ends, whether
 * its tests passed or not. Set FLYWHEEL_TEST_KEEP_MODELS=1 to keep them for a post-mortem.
 *
 * Environment changes made here reach every test file: vitest forks its workers after this runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { loadConfig, withDatabase, type FlywheelConfig } from '../../../config/index';
import { temporalConnectionOptions } from '../../../clients/temporal';
import { MlflowClient, MlflowError } from '../../../clients/mlflow';
import { migrate } from '../../../db/migrate';
import { ensureDatabases } from '../../../scripts/stack/postgres';
import { ensureSearchAttributes } from '../../../scripts/stack/temporal';

export const TEST_NAMESPACE = 'flywheel-test';

function useTestPlaces(): void {
  const user = loadConfig();
  if (process.env.DATABASE_URL) {
    const name = new URL(user.postgres.url).pathname.slice(1) || 'flywheel';
    process.env.DATABASE_URL = withDatabase(user.postgres.url, `${name}_test`);
  } else {
    process.env.FLYWHEEL_PG_DATABASE ??= 'flywheel_test';
  }
  process.env.TEMPORAL_NAMESPACE = process.env.FLYWHEEL_TEST_NAMESPACE ?? TEST_NAMESPACE;
}

async function ensureNamespace(config: FlywheelConfig): Promise<void> {
  const { address, namespace } = config.temporal;
  const connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: '3s' }).catch(() => {
    throw new Error(`integration tests need the real stack: run \`npx flywheel up --no-workers\` (Temporal not reachable at ${address})`);
  });
  try {
    const exists = () =>
      connection.workflowService.describeNamespace({ namespace }).then(
        () => true,
        () => false,
      );
    if (!(await exists())) {
      await connection.workflowService
        .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day'), description: "Flywheel's integration tests" })
        .catch((err: { code?: number }) => {
          if (err.code !== 6 /* ALREADY_EXISTS */) throw err;
        });
      for (let i = 0; i < 100 && !(await exists()); i++) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await connection.close();
  }
}

/** Deletes the registered models (with their versions) and experiments the run named. */
async function forgetModels(endpoint: FlywheelConfig['mlflow'], file: string): Promise<void> {
  if (!fs.existsSync(file)) return;
  const names = [...new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean))];
  const mlflow = new MlflowClient(endpoint);
  let deleted = 0;
  for (const name of names) {
    try {
      await mlflow.deleteRegisteredModel(name);
      deleted++;
    } catch (err) {
      if (!(err instanceof MlflowError && err.notFound)) console.warn(`test cleanup: registered model ${name}: ${(err as Error).message}`);
    }
    const experiment = await mlflow.getExperimentByName(name).catch(() => undefined);
    if (experiment) await mlflow.deleteExperiment(experiment.experiment_id).catch(() => undefined);
  }
  fs.rmSync(file, { force: true });
  if (deleted) console.log(`test cleanup: deleted ${deleted} test models from ${endpoint.trackingUri}`);
}

export default async function setup(): Promise<() => Promise<void>> {
  useTestPlaces();
  const config = loadConfig();
  const runFile = path.join(config.dataDir, 'run', `test-models-${process.pid}.txt`);
  fs.mkdirSync(path.dirname(runFile), { recursive: true });
  process.env.FLYWHEEL_TEST_MODELS_FILE = runFile;
  await ensureDatabases(config);
  await migrate(config.postgres.url);
  await ensureNamespace(config);
  // A namespace registered just now reaches the server's namespace cache some seconds later.
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureSearchAttributes(config);
      break;
    } catch (err) {
      if ((err as { code?: number }).code !== 5 /* NOT_FOUND */ || attempt >= 120) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return async () => {
    if (process.env.FLYWHEEL_TEST_KEEP_MODELS === '1') return;
    await forgetModels(config.mlflow, runFile);
  };
}
