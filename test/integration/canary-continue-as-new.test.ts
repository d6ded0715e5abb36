/**
 * Bounded histories: a canary that waits (here: a one-hour step, then paused by a person) keeps
 * looking every interval, and continues as new whenever Temporal suggests it, carrying its status,
 * the judge's evidence and the window cursor, so `status` tells one continuous story and the
 * outcome is what it would have been. The suggestion threshold is lowered through the dev server's
 * dynamic config (a real Temporal dev server of its own, next to the real PostgreSQL and MLflow).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { getTrafficWeights } from '../../activities/traffic';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import type { Dataset } from '../../lib/data/table';
import { createGateway, type Gateway } from '../../serving/app';
import { replay } from '../../traffic/replay';
import { abortUpdate, pauseUpdate, rolloutStatusQuery, type RolloutResult } from '../../workflows/canary-rollout';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';
import { startLoweredHistoryServer, withWorkersOn } from './helpers/lowered-history';
import { testApiKey } from './helpers/auth';

const HISTORY_SUGGESTION = 60;
let testEnv: TestWorkflowEnvironment;
let env: TestEnv;
let gateway: Gateway;
let url: string;
let iris: Dataset;
const model = uniqueModelName('canary-can');

beforeAll(async () => {
  env = await openTestEnv('canary-can');
  testEnv = await startLoweredHistoryServer(HISTORY_SUGGESTION);
  const loaded = await loadDataset('builtin:iris');
  if (!loaded.ok) throw new Error(loaded.error.message);
  iris = loaded.value.dataset;
});

afterAll(async () => {
  await gateway?.close();
  await testEnv?.teardown();
  await env?.close();
});

const withWorkers = <T>(fn: () => Promise<T>): Promise<T> => withWorkersOn(testEnv, env, fn);

it('a waiting canary continues as new with one continuous status, and its history per run stays bounded', async () => {
  const client = testEnv.client;
  const result = await withWorkers(async () => {
    for (let i = 1; i <= 2; i++) {
      await client.workflow.execute('TrainingPipeline', {
        taskQueue: env.taskQueues.workflows,
        workflowId: `train-${model}-v${i}`,
        args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5, seed: 1 }, taskQueues: { cpu: env.taskQueues.cpu } }],
        typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
      });
    }
    await deployVersion(env.db, env.mlflow, { model, version: '1' });
    gateway = await createGateway(env.config, { port: 0, logger: false });
    url = await gateway.listen();
    const apiKey = await testApiKey(env, 'continue-as-new');

    const handle = await client.workflow.start('CanaryRollout', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `canary-${model}`,
      args: [{ model, candidateVersion: '2', steps: [{ weight: 30, pauseSeconds: 3600 }, { weight: 100, pauseSeconds: 0 }], analysis: { intervalSeconds: 1 }, taskQueues: { cpu: env.taskQueues.cpu } }],
    });
    let done = false;
    const traffic = (async () => {
      let seed = 1;
      while (!done) await replay({ url, apiKey, model, dataset: iris, rate: 60, durationMs: 1000, labelDelayMs: 50, units: 200, seed: seed++ });
    })();
    try {
      // Paused by a person while its step runs: the rollout waits, and keeps looking.
      for (let i = 0; i < 300 && !(await handle.query(rolloutStatusQuery)).decisions.some((d) => d.action === 'step'); i++) await new Promise((r) => setTimeout(r, 100));
      await handle.executeUpdate(pauseUpdate, { args: ['waiting for the weekend to end'] });
      for (let i = 0; i < 900 && ((await handle.query(rolloutStatusQuery)).runs ?? 1) < 3; i++) await new Promise((r) => setTimeout(r, 100));
      const status = await handle.query(rolloutStatusQuery);
      expect(status.runs).toBeGreaterThanOrEqual(3);
      expect(status.state).toBe('paused');
      // One continuous story: the first decisions of the first run are still there, then a continue per run.
      expect(status.decisions.map((d) => d.action).slice(0, 3)).toEqual(['deploy', 'step', 'pause']);
      expect(status.decisions.filter((d) => d.action === 'continue').length).toBeGreaterThanOrEqual(2);
      // Every earlier run ended by continuing as new, with a history near the suggestion, not growing.
      const runs = await client.workflowService.listWorkflowExecutions({ namespace: testEnv.namespace ?? 'default', query: `WorkflowId = 'canary-${model}'` });
      const closed = runs.executions.filter((e) => e.status === 6 /* CONTINUED_AS_NEW */);
      expect(closed.length).toBeGreaterThanOrEqual(2);
      for (const run of closed) {
        expect(Number(run.historyLength)).toBeLessThan(HISTORY_SUGGESTION + 30);
      }
      // The judge's evidence crossed runs: counts only grow.
      const trials = status.analyses.map((a) => (a.checks[0] as { evidence?: { candidate: { trials: number } } }).evidence!.candidate.trials);
      expect(trials.at(-1)).toBeGreaterThan(trials[0]!);
      await handle.executeUpdate(abortUpdate, { args: ['enough'] });
      return (await handle.result()) as RolloutResult;
    } finally {
      done = true;
      await traffic;
    }
  });
  expect(result).toMatchObject({ outcome: 'rolled-back', reason: 'enough', stableVersion: '1', candidateVersion: '2' });
  expect((await getTrafficWeights(env.db, model)).weights).toMatchObject({ '1': 10_000, '2': 0 });
});
