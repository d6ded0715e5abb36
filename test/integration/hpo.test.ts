/**
 * HyperparameterSearch on the real stack: a parallel, pruned TPE study ends with every trial
 * recorded once (PostgreSQL and MLflow child runs) and the best configuration registered; a study
 * whose CPU worker is SIGKILLed mid-way loses no finished trial and repeats none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAME } from '../../config/search-attributes';
import { mlflowQuote, tagsToRecord } from '../../clients/mlflow';
import { searchStatusQuery, type SearchResult } from '../../workflows/hyperparameter-search';
import type { HyperparameterSearchInput } from '../../lib/pipeline/search-input';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { spawnCpuWorker, type SpawnedWorker } from './helpers/processes';
import { freePort } from './helpers/monitoring';

let env: TestEnv;
const spawned: SpawnedWorker[] = [];
beforeAll(async () => {
  env = await openTestEnv('hpo');
});
afterAll(async () => {
  for (const w of spawned) await w.kill();
  await env?.close();
});

function searchInput(model: string, over: Partial<HyperparameterSearchInput> = {}): HyperparameterSearchInput {
  return {
    model,
    dataset: 'builtin:breast-cancer',
    family: 'softmax-regression',
    space: { learningRate: { type: 'float', low: 0.0005, high: 2, log: true }, batchSize: { type: 'categorical', choices: [8, 32, 128] } },
    fixed: { epochs: 12 },
    sampler: 'tpe',
    pruner: 'median',
    trials: 12,
    parallel: 3,
    metric: 'logLoss',
    seed: 3,
    taskQueues: { cpu: env.taskQueues.cpu },
    ...over,
  };
}

async function trialRows(workflowId: string) {
  const r = await env.db.query('select number, state, value from hpo_trials where study_workflow_id = $1 order by number', [workflowId]);
  return r.rows as Array<{ number: number; state: string; value: number | null }>;
}

describe('HyperparameterSearch', () => {
  it('runs a parallel pruned TPE study, records every trial once and registers the best', async () => {
    const model = uniqueModelName('hpo');
    const workflowId = `hpo-${model}`;
    const { result, status } = await runWorkers(env, async () => {
      const handle = await env.client.workflow.start('HyperparameterSearch', {
        taskQueue: env.taskQueues.workflows,
        workflowId,
        // Learning rates down to 1e-6 barely move: the median pruner must stop such trials. Epochs
        // of 160k rows last long enough for a prune decision to reach a trial before it ends.
        args: [
          searchInput(model, {
            dataset: 'synthetic:rows=200000,features=20,classes=2,seed=9',
            fixed: { epochs: 8 },
            trials: 16,
            space: { learningRate: { type: 'float', low: 1e-6, high: 1, log: true }, batchSize: { type: 'categorical', choices: [8, 32, 128] } },
          }),
        ],
        typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
      });
      const result = (await handle.result()) as SearchResult;
      return { result, status: await handle.query(searchStatusQuery) };
    });

    expect(result.trials.total).toBe(16);
    expect(result.trials.complete + result.trials.pruned + result.trials.failed).toBe(16);
    expect(result.trials.complete).toBeGreaterThanOrEqual(5);
    expect(result.trials.pruned).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(result.best.value)).toBe(true);
    expect(result.hyperparameters).toMatchObject({ epochs: 8, ...result.best.params });
    expect(status.state).toBe('completed');

    // The best configuration was trained, evaluated as ONNX and registered by the child pipeline.
    expect(result.final?.version).toBe('1');
    expect(result.final?.metrics.accuracy).toBeGreaterThan(0.75);
    const versions = await env.mlflow.searchModelVersions(`name=${mlflowQuote(model)}`);
    expect(versions).toHaveLength(1);

    // Every trial recorded once, in PostgreSQL and as an MLflow child run of the study run.
    const rows = await trialRows(workflowId);
    expect(rows.map((r) => r.number)).toEqual([...Array(16).keys()]);
    expect(rows.every((r) => r.state !== 'running')).toBe(true);
    const experiment = await env.mlflow.getExperimentByName(model);
    const children = await env.mlflow.searchRuns([experiment!.experiment_id], `tags.\`mlflow.parentRunId\` = ${mlflowQuote(result.mlflowRunId)}`, 100);
    expect(children).toHaveLength(16);
    // The build's commit where MLflow's UI shows it, on the study run and every trial.
    expect(tagsToRecord((await env.mlflow.getRun(result.mlflowRunId)).data.tags)['mlflow.source.git.commit']).toBe('test-commit');
    expect(children.map((c) => tagsToRecord(c.data.tags)['mlflow.source.git.commit'])).toEqual(Array(16).fill('test-commit'));
    const pruned = children.filter((c) => tagsToRecord(c.data.tags)['flywheel.trial_state'] === 'pruned');
    expect(pruned).toHaveLength(result.trials.pruned);
    const study = await env.db.query('select status, best_trial from hpo_studies where workflow_id = $1', [workflowId]);
    expect(study.rows[0]).toEqual({ status: 'completed', best_trial: result.best.number });
  });

  it('keeps its trial count intact when the CPU worker is killed mid-study', async () => {
    const model = uniqueModelName('hpokill');
    const workflowId = `hpo-${model}`;
    const workerEnv = {
      FLYWHEEL_TASK_QUEUE_CPU: env.taskQueues.cpu,
      FLYWHEEL_CPU_WORKER_METRICS_PORT: String(await freePort()),
    };
    spawned.push(await spawnCpuWorker(workerEnv));
    const result = await runWorkers(
      env,
      async () => {
        const handle = await env.client.workflow.start('HyperparameterSearch', {
          taskQueue: env.taskQueues.workflows,
          workflowId,
          args: [
            searchInput(model, {
              dataset: 'synthetic:rows=60000,features=20,classes=2,seed=4',
              fixed: { epochs: 6, batchSize: 1 },
              space: { learningRate: { type: 'float', low: 0.001, high: 0.1, log: true } },
              trials: 6,
              parallel: 2,
              pruner: 'none',
              trainBest: false,
            }),
          ],
        });
        for (let i = 0; i < 900; i++) {
          const s = await handle.query(searchStatusQuery);
          if (s.trials.complete >= 2 && s.trials.running > 0) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        const before = await handle.query(searchStatusQuery);
        await spawned[0]!.kill('SIGKILL');
        spawned.push(await spawnCpuWorker(workerEnv));
        return { before, result: (await handle.result()) as SearchResult };
      },
      { activities: false },
    );
    expect(result.before.trials.complete).toBeGreaterThanOrEqual(2);
    expect(result.before.trials.running).toBeGreaterThan(0);
    expect(result.result.trials).toEqual({ total: 6, complete: 6, pruned: 0, failed: 0 });
    const rows = await trialRows(workflowId);
    expect(rows.map((r) => r.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows.every((r) => r.state === 'complete')).toBe(true);
    const experiment = await env.mlflow.getExperimentByName(model);
    const children = await env.mlflow.searchRuns([experiment!.experiment_id], `tags.\`mlflow.parentRunId\` = ${mlflowQuote(result.result.mlflowRunId)}`, 100);
    expect(children).toHaveLength(6);
  });
});
