/**
 * Searches against the real MLflow server page through `next_page_token` to the end: small page
 * sizes force several pages, and `flywheel models list` shows more than 200 registered models
 * (it stopped at 200 before). Everything is registered under a prefix of this test's own and
 * deleted afterwards.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { mlflowQuote } from '../../clients/mlflow';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
const prefix = `${uniqueModelName('paging')}-`;
const registered: string[] = [];
let experimentId: string | undefined;

beforeAll(async () => {
  env = await openTestEnv('paging');
});
afterAll(async () => {
  for (const name of registered) await env?.mlflow.deleteRegisteredModel(name);
  if (experimentId) await env?.mlflow.deleteExperiment(experimentId);
  await env?.close();
});

async function register(names: string[]): Promise<void> {
  // A few at a time: the server is shared with other tests.
  for (let i = 0; i < names.length; i += 8) {
    await Promise.all(
      names.slice(i, i + 8).map(async (name) => {
        registered.push(name);
        await env.mlflow.ensureRegisteredModel(name, 'paging test');
      }),
    );
  }
}

function flywheel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('MLflow searches follow next_page_token', () => {
  it('finds every run, model version and registered model across pages, and stops at a limit', async () => {
    const model = `${prefix}versions`;
    await register([model]);
    experimentId = await env.mlflow.ensureExperiment(`${prefix}experiment`);
    const runIds: string[] = [];
    for (let i = 0; i < 7; i++) {
      const run = await env.mlflow.createRun(experimentId, `r${i}`, [{ key: 'paging.group', value: prefix }], Date.now());
      runIds.push(run.info.run_id);
      await env.mlflow.createModelVersion(model, `${run.info.artifact_uri}/model`, run.info.run_id, []);
    }
    const filter = `tags.\`paging.group\` = ${mlflowQuote(prefix)}`;
    const runs = await env.mlflow.searchRuns([experimentId], filter, Infinity, 2);
    expect(runs.map((r) => r.info.run_id).sort()).toEqual([...runIds].sort());
    expect((await env.mlflow.searchRuns([experimentId], filter, 5, 2)).length).toBe(5);

    const versions = await env.mlflow.searchModelVersions(`name=${mlflowQuote(model)}`, Infinity, 3);
    expect(versions.map((v) => Number(v.version)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await env.mlflow.searchModelVersions(`name=${mlflowQuote(model)}`, 4, 3)).length).toBe(4);

    const more = Array.from({ length: 6 }, (_, i) => `${prefix}m${i}`);
    await register(more);
    const models = await env.mlflow.searchRegisteredModels({ filter: `name LIKE ${mlflowQuote(`${prefix}%`)}`, pageSize: 4 });
    expect(models.map((m) => m.name).sort()).toEqual([model, ...more].sort());
    expect((await env.mlflow.searchRegisteredModels({ filter: `name LIKE ${mlflowQuote(`${prefix}%`)}`, pageSize: 4, limit: 5 })).length).toBe(5);
  });

  it('flywheel models list shows more than 200 registered models', async () => {
    const names = Array.from({ length: 201 }, (_, i) => `${prefix}list-${String(i).padStart(3, '0')}`);
    await register(names);
    const out = await flywheel(['models', 'list', '--json']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const rows = JSON.parse(out.stdout) as Array<{ name: string }>;
    expect(rows.filter((r) => r.name.startsWith(`${prefix}list-`)).map((r) => r.name).sort()).toEqual(names);
    expect(rows.length).toBeGreaterThan(200);
  });
});
