/**
 * Disaster recovery on real parts: a trained, deployed champion serves predictions and gets
 * labels; `createBackup` dumps both databases and copies the data folder's files; then a fresh
 * PostgreSQL cluster is started in a fresh data folder (the way `flywheel up` starts its own), the
 * backup is restored into it, a real MLflow server runs on the restored store and artifacts, and
 * a gateway on the restored parts must serve the same probabilities for the same rows, MLflow must
 * list the same versions with their lineage tags and alias, and the feedback must be all there.
 * It prints the recovery time (docs/benchmarks.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, listBackups, restoreBackup, verifyBackup } from '../../activities/backup';
import { deployVersion } from '../../activities/deploy';
import { MlflowClient } from '../../clients/mlflow';
import { loadConfig, type FlywheelConfig } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { MLFLOW_BIN, mlflowSpec } from '../../scripts/stack/mlflow';
import { ensureDatabases, startPostgres, stopPostgres } from '../../scripts/stack/postgres';
import { createGateway, type Gateway } from '../../serving/app';
import { testApiKey } from './helpers/auth';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import type { BackupResult } from '../../workflows/backup';
import { eventually, freePort } from './helpers/monitoring';

let env: TestEnv;
let restored: FlywheelConfig;
let mlflowProc: ChildProcess | undefined;
const gateways: Gateway[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-restore-'));
// The cluster's owner (user postgres when running as root) must pass through it.
fs.chmodSync(tmp, 0o755);
const model = uniqueModelName('restore');
const rows = [
  [5.1, 3.5, 1.4, 0.2],
  [6.2, 2.9, 4.3, 1.3],
  [7.7, 3.0, 6.1, 2.3],
  [5.9, 3.0, 5.1, 1.8],
];

async function predict(url: string, key: string): Promise<{ version: string; probabilities: Array<Record<string, number>>; predictionIds: string[] }> {
  const res = await fetch(`${url}/v1/models/${model}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ instances: rows }) });
  expect(res.status).toBe(200);
  return (await res.json()) as { version: string; probabilities: Array<Record<string, number>>; predictionIds: string[] };
}

async function feedbackOf(url: string): Promise<Array<{ prediction_id: string; kind: string; label: string }>> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const r = await db.query(
      `select f.prediction_id::text, f.kind, f.label from feedback f join predictions p on p.id = f.prediction_id where p.model = $1 order by f.prediction_id`,
      [model],
    );
    return r.rows;
  } finally {
    await db.end();
  }
}

describe('backup and restore into a fresh data folder and PostgreSQL cluster', () => {
  let before: Awaited<ReturnType<typeof predict>>;
  let backupConfig: FlywheelConfig;

  beforeAll(async () => {
    env = await openTestEnv('restore');
    await runWorkers(env, async () => {
      await (
        await env.client.workflow.start('TrainingPipeline', {
          taskQueue: env.taskQueues.workflows,
          workflowId: `train-${model}`,
          args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5, seed: 1 }, taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } }],
          typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
        })
      ).result();
    });
    await deployVersion(env.db, env.mlflow, { model, version: '1' });
    await env.mlflow.setAlias(model, 'champion', '1');
    const gateway = await createGateway(env.config, { port: 0, logger: false });
    gateways.push(gateway);
    const url = await gateway.listen();
    const key = await testApiKey(env, 'restore');
    before = await predict(url, key);
    for (const [i, id] of before.predictionIds.entries()) {
      const res = await fetch(`${url}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ predictionId: id, kind: 'label', label: ['setosa', 'versicolor', 'virginica', 'virginica'][i] }) });
      expect(res.status).toBe(201);
    }
    await gateway.close(); // writes the predictions it still holds
    gateways.pop();

    backupConfig = { ...env.config, backup: { dir: path.join(tmp, 'backups'), retentionDays: 30 } };
    const pgPort = await freePort();
    const mlPort = await freePort();
    // The recovery site as a new machine would have it: its own data folder and cluster, whose
    // logins `flywheel up` would generate there (read lazily by the config, as on any machine).
    const { DATABASE_URL: _own, ...environment } = process.env;
    restored = {
      ...loadConfig({
        ...environment,
        FLYWHEEL_DATA_DIR: path.join(tmp, 'data'),
        FLYWHEEL_PG_PORT: String(pgPort),
        FLYWHEEL_PG_DATABASE: decodeURIComponent(new URL(env.config.postgres.url).pathname.slice(1)),
        MLFLOW_PORT: String(mlPort),
        MLFLOW_TRACKING_URI: `http://127.0.0.1:${mlPort}`,
        FLYWHEEL_SUPERVISOR: 'off',
      }),
      temporal: env.config.temporal,
    };
  });

  afterAll(async () => {
    for (const g of gateways) await g.close();
    if (mlflowProc && mlflowProc.exitCode === null) {
      mlflowProc.kill('SIGTERM');
      await once(mlflowProc, 'exit');
    }
    if (restored) await stopPostgres(restored).catch(() => undefined);
    await env?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a backup verifies, a second one copies no file again, and a corrupt object is caught', async () => {
    const mlflow = new MlflowClient(backupConfig.mlflow);
    const first = await createBackup(backupConfig, mlflow);
    expect(first.dumps.map((d) => d.database)).toEqual(['flywheel', 'mlflow']);
    expect(first.files.some((f) => f.root === 'mlflow-artifacts' && f.path.endsWith('.onnx'))).toBe(true);
    expect((await verifyBackup(backupConfig, first.id)).problems).toEqual([]);
    const second = await createBackup(backupConfig, mlflow);
    expect(second.newBytes).toBe(0);
    expect(listBackups(backupConfig).map((b) => b.id)).toEqual([first.id, second.id]);

    const onnx = second.files.find((f) => f.path.endsWith('.onnx'))!;
    const object = path.join(backupConfig.backup.dir, 'objects', onnx.sha256.slice(0, 2), onnx.sha256);
    const good = fs.readFileSync(object);
    fs.writeFileSync(object, Buffer.concat([good, Buffer.from('x')]));
    let problems: string[];
    try {
      problems = (await verifyBackup(backupConfig, second.id)).problems;
    } finally {
      fs.writeFileSync(object, good);
    }
    // Every file with that content (the same ONNX can sit in MLflow's store and in artifacts/) is named.
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toContain(`object ${onnx.sha256} is corrupt`);
    expect((await verifyBackup(backupConfig, second.id)).problems).toEqual([]);
  });

  it('the Backup workflow makes a verified backup, idempotent under its start time, and prunes — on a worker whose own folder holds none of MLflow\'s artifacts', async () => {
    // The activity workers run as hosts of their own (an empty data folder each): MLflow's
    // artifacts, the shared store among them, come through MLflow, as on a cluster with no shared disk.
    const result = (await runWorkers({ ...env, config: backupConfig }, async () =>
      env.client.workflow.execute('Backup', { taskQueue: env.taskQueues.workflows, workflowId: `backup-${model}`, args: [{ prune: true, taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } }] }),
    )) as BackupResult;
    const listed = listBackups(backupConfig);
    expect(listed.map((b) => b.id)).toContain(result.id);
    expect(result).toMatchObject({ files: listed.find((b) => b.id === result.id)!.files.length, newBytes: 0, pruned: { deleted: [], objectsDeleted: 0 } });
    expect((await verifyBackup(backupConfig, result.id)).problems).toEqual([]);
    // Every model the first backup held (taken from MLflow's own host), the same bytes: the
    // suite's other tests may have logged more since, never changed one.
    const models = (id: string) => listed.find((b) => b.id === id)!.files.filter((f) => f.root === 'mlflow-artifacts' && f.path.endsWith('.onnx')).map((f) => `${f.path} ${f.sha256}`);
    const mine = new Set(models(result.id));
    expect(models(listed[0]!.id).length).toBeGreaterThan(0);
    expect(models(listed[0]!.id).filter((m) => !mine.has(m))).toEqual([]);
  });

  it('restored into a fresh cluster and data folder, the champion serves the same probabilities, MLflow has every version, the feedback is all there', async () => {
    const t0 = performance.now();
    await startPostgres(restored);
    // Roles and empty databases as `flywheel up` makes them, before any migration.
    await ensureDatabases(restored);
    const restore = await restoreBackup(backupConfig, 'latest', {
      dataDir: restored.dataDir,
      databaseUrl: restored.postgres.url,
      mlflowUrl: restored.postgres.mlflowUrl,
      adminUrl: restored.postgres.adminUrl,
    });
    const spec = mlflowSpec(restored);
    const mlLog = fs.openSync(path.join(tmp, 'mlflow.log'), 'a');
    mlflowProc = spawn(MLFLOW_BIN, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', mlLog, mlLog] });
    fs.closeSync(mlLog);
    const mlflow = new MlflowClient(restored.mlflow);
    expect(await eventually(async () => ((await mlflow.health()) ? true : undefined), 240), fs.existsSync(path.join(tmp, 'mlflow.log')) ? fs.readFileSync(path.join(tmp, 'mlflow.log'), 'utf8').slice(-2000) : '').toBe(true);
    const gateway = await createGateway(restored, { port: 0, logger: false });
    gateways.push(gateway);
    const url = await gateway.listen();
    const restoredDb = new pg.Pool({ connectionString: restored.postgres.url, max: 1 });
    const key = await testApiKey({ config: restored, db: restoredDb }, 'restored');
    await restoredDb.end();
    const after = await predict(url, key);
    const recoverySeconds = (performance.now() - t0) / 1000;
    console.log(`recovery: restore ${restore.seconds.toFixed(1)} s (verify, pg_restore of both databases, files); to the first prediction served ${recoverySeconds.toFixed(1)} s`);

    expect(after.version).toBe(before.version);
    expect(after.probabilities).toEqual(before.probabilities);

    const original = await env.mlflow.searchModelVersions(`name = '${model}'`);
    const back = await mlflow.searchModelVersions(`name = '${model}'`);
    const lineage = (vs: typeof original) => vs.map((v) => ({ version: v.version, source: v.source, runId: v.run_id, tags: [...(v.tags ?? [])].sort((a, b) => a.key.localeCompare(b.key)) })).sort((a, b) => a.version.localeCompare(b.version));
    expect(back.length).toBeGreaterThan(0);
    expect(lineage(back)).toEqual(lineage(original));
    expect((await mlflow.getVersionByAlias(model, 'champion'))?.version).toBe('1');

    const fb = await feedbackOf(restored.postgres.url);
    expect(fb).toHaveLength(rows.length);
    expect(fb).toEqual(await feedbackOf(env.config.postgres.url));
  });
});
