/**
 * The `flywheel` command as a user runs it (a real process), against the real stack: bad input is
 * one line and a non-zero exit and starts nothing; a good `train --wait --json` ends with a
 * registered version that `models show` and `workflows show` report.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
let cliEnv: Record<string, string>;
beforeAll(async () => {
  env = await openTestEnv('cli');
  cliEnv = { FLYWHEEL_TASK_QUEUE_WORKFLOWS: env.taskQueues.workflows, FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu, FLYWHEEL_TASK_QUEUE_CONTROL: env.taskQueues.control };
});
afterAll(async () => {
  await env?.close();
});

function flywheel(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...cliEnv, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function workflowsFor(model: string): Promise<number> {
  let n = 0;
  for await (const _ of env.client.workflow.list({ query: `${MODEL_NAME.name} = "${model}"` })) n++;
  return n;
}

describe('flywheel train rejects bad input at the edge', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown dataset', ['--dataset', 'mnist'], /^flywheel: dataset mnist: unknown dataset "mnist" \(built-in: penguins, penguins-raw, iris, breast-cancer, wine;/],
    ['bad rows', ['--dataset', 'penguins-raw'], /^flywheel: dataset penguins-raw: column "Beak Length \(mm\)", row 4: value is missing$/],
    ['unknown family', ['--dataset', 'iris', '--family', 'xgboost'], /^flywheel: unknown model family "xgboost"/],
    ['hyperparameter out of range', ['--dataset', 'iris', '-p', 'learningRate=50'], /^flywheel: hyperparameter learningRate must be > 0 and <= 10 \(got 50\)$/],
    ['malformed --param', ['--dataset', 'iris', '-p', 'epochs'], /^flywheel: --param "epochs" must be key=value/],
    ['unknown hyperparameter', ['--dataset', 'iris', '-p', 'lr=0.1'], /^flywheel: unknown hyperparameter "lr" for softmax-regression/],
    ['bad holdout', ['--dataset', 'iris', '--holdout', '1.5'], /^flywheel: holdout fraction must be > 0 and < 1 \(got 1.5\)$/],
    ['search: log scale from 0', ['--dataset', 'iris', '--search', 'tpe', '--search-param', 'learningRate=float:0:1:log'], /^flywheel: search space: parameter "learningRate": low \(0\) must be > 0 when log is true$/],
    ['search: not a hyperparameter', ['--dataset', 'iris', '--search', 'tpe', '--search-param', 'foo=float:0:1'], /^flywheel: search space: parameter "foo" is not a hyperparameter of softmax-regression/],
    ['search: range outside the family', ['--dataset', 'iris', '--search', 'tpe', '--search-param', 'learningRate=float:0.01:20'], /^flywheel: search space: parameter "learningRate" allows 20: hyperparameter learningRate must be > 0 and <= 10 \(got 20\)$/],
    ['search: unknown sampler', ['--dataset', 'iris', '--search', 'bayes'], /^flywheel: unknown sampler "bayes" \(known: grid, random, tpe, gp\)$/],
    ['search: zero trials', ['--dataset', 'iris', '--search', 'tpe', '--trials', '0'], /^flywheel: trials must be an integer between 1 and 10000 \(got 0\)$/],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: one line, exit 2, nothing started`, async () => {
      const model = uniqueModelName('edge');
      const r = await flywheel(['train', '--model', model, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
      expect(await workflowsFor(model)).toBe(0);
    });
  }

  it('says the stack is not running when Temporal is unreachable (exit 3)', async () => {
    const r = await flywheel(['train', '--dataset', 'iris', '--model', 'nostack'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(r.code).toBe(3);
    expect(r.stderr.trim()).toMatch(/^flywheel: Temporal is not reachable at 127\.0\.0\.1:1 .*flywheel up/);
  });

  it('reports a malformed environment variable by name (bad input: exit 2)', async () => {
    const r = await flywheel(['models', 'list'], { MLFLOW_TRACKING_URI: 'not a url' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^flywheel: invalid environment variable MLFLOW_TRACKING_URI/);
  });
});

describe('flywheel train --wait --json and the read commands', () => {
  it('trains, then models and workflows commands show the version and its lineage', async () => {
    const model = uniqueModelName('iris');
    const r = await runWorkers(env, () => flywheel(['train', '--dataset', 'iris', '--model', model, '-p', 'epochs=40', '--wait', '--json']));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ model, version: '1' });
    expect(out.workflowId).toMatch(new RegExp(`^train-${model}-[0-9a-f]{12}$`));
    expect(out.metrics.accuracy).toBeGreaterThan(0.85);
    expect(typeof out.mlflowRunId).toBe('string');

    const show = await flywheel(['models', 'show', model, '1', '--json']);
    expect(show.code).toBe(0);
    const version = JSON.parse(show.stdout);
    expect(version.lineage).toMatchObject({ mlflowRunId: out.mlflowRunId, workflowId: out.workflowId, datasetSource: 'builtin:iris', gitCommit: 'test-commit' });
    expect(version.lineage.datasetDigest).toBe(out.datasetDigest);
    expect(version.metrics.accuracy).toBeCloseTo(out.metrics.accuracy, 10);

    const list = await flywheel(['models', 'list', '--json']);
    expect(JSON.parse(list.stdout).find((m: { name: string }) => m.name === model)).toMatchObject({ latestVersion: 1 });

    const wfs = await flywheel(['workflows', 'list', '--model', model, '--json']);
    expect(JSON.parse(wfs.stdout)).toMatchObject([{ workflowId: out.workflowId, status: 'COMPLETED', stage: 'done', model }]);

    const human = await flywheel(['models', 'show', model]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(out.workflowId);

    const missing = await flywheel(['models', 'show', `${model}-nope`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`flywheel: no registered model named ${model}-nope (see flywheel models list)`);
  });
});
