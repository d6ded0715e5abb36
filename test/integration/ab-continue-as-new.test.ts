/**
 * Bounded histories and cancellation for A/B tests: a test that looks every second continues as
 * new whenever Temporal suggests it, carrying its monitors, latest look and start time, so `status`
 * tells one continuous story and the decision is what it would have been (here: inconclusive at the
 * maximum duration, which only a start time carried across runs can reach). A cancelled test gives
 * the control all traffic back. The suggestion threshold is lowered through the dev server's dynamic
 * config (a real Temporal dev server of its own, next to the real PostgreSQL and MLflow).
 *
 * With RECORD_FIXTURES=1 it writes the histories of a continued run and of a cancelled test to
 * test/fixtures/ (replayed by test/unit/replay.test.ts).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { getTrafficWeights } from '../../activities/traffic';
import { PROJECT_ROOT } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import type { Dataset } from '../../lib/data/table';
import type { ABTestInput } from '../../lib/experiment/spec';
import { createGateway, type Gateway } from '../../serving/app';
import { replay } from '../../traffic/replay';
import { abStatusQuery, type ABTestResult } from '../../workflows/ab-test';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';
import { startLoweredHistoryServer, withWorkersOn } from './helpers/lowered-history';
import { testApiKey } from './helpers/auth';

const HISTORY_SUGGESTION = 60;
const RECORD = process.env.RECORD_FIXTURES === '1';
let testEnv: TestWorkflowEnvironment;
let env: TestEnv;
let gateway: Gateway | undefined;
let url: string;
let apiKey: string;
let iris: Dataset;
const model = uniqueModelName('ab-can');

beforeAll(async () => {
  env = await openTestEnv('ab-can');
  testEnv = await startLoweredHistoryServer(HISTORY_SUGGESTION);
  const loaded = await loadDataset('builtin:iris');
  if (!loaded.ok) throw new Error(loaded.error.message);
  iris = loaded.value.dataset;
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await testEnv?.teardown();
  await env?.close();
});

const withWorkers = <T>(fn: () => Promise<T>): Promise<T> => withWorkersOn(testEnv, env, fn);

/** Two equally good versions of one model (trained the same way), v1 serving, and a gateway. */
async function prepare(): Promise<void> {
  if (gateway) return;
  for (let i = 1; i <= 2; i++) {
    await testEnv.client.workflow.execute('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}-v${i}`,
      args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5, seed: 1 }, taskQueues: { cpu: env.taskQueues.cpu } }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
  }
  await deployVersion(env.db, env.mlflow, { model, version: '1' });
  gateway = await createGateway(env.config, { port: 0, logger: false });
  url = await gateway.listen();
  apiKey = await testApiKey(env, 'ab-continue-as-new');
}

const abInput = (over: Partial<ABTestInput> = {}): ABTestInput => ({
  model,
  versions: ['1', '2'],
  primaryMetric: 'accuracy',
  tau2: 0.01,
  minSamplePerArm: 30,
  maxDurationSeconds: 25,
  checkIntervalSeconds: 1,
  taskQueues: { cpu: env.taskQueues.cpu },
  ...over,
});

/** Replays iris through the gateway until `until` settles. */
async function underTraffic<T>(until: Promise<T>, seed: number): Promise<T> {
  let done = false;
  const value = until.finally(() => (done = true));
  while (!done) await replay({ url, apiKey, model, dataset: iris, rate: 60, durationMs: 1000, labelDelayMs: 50, units: 200, seed: seed++ });
  return value;
}

async function record(workflowId: string, runId: string, name: string): Promise<void> {
  if (!RECORD) return;
  const history = await testEnv.client.workflow.getHandle(workflowId, runId).fetchHistory();
  await writeFile(path.join(PROJECT_ROOT, `test/fixtures/${name}.history.json`), `${historyToJSON(history)}\n`);
}

it('an A/B test continues as new with one continuous status and a bounded history per run, then concludes as it would have', async () => {
  const client = testEnv.client;
  const workflowId = `ab-${model}`;
  const { result, status } = await withWorkers(async () => {
    await prepare();
    const handle = await client.workflow.start('ABTest', { taskQueue: env.taskQueues.workflows, workflowId, args: [abInput()] });
    const result = (await underTraffic(handle.result(), 1)) as ABTestResult;
    return { result, status: await client.workflow.getHandle(workflowId).query(abStatusQuery) };
  });
  // Equally good versions: no winner, so the test runs to its maximum duration, which the runs only
  // reach together (each run is a few seconds long): the start time crossed every run.
  expect(result.decision.kind).toBe('inconclusive');
  expect(status.state).toBe('concluded');
  expect(status.runs).toBeGreaterThanOrEqual(3);
  expect(status.elapsedSeconds).toBeGreaterThanOrEqual(25);
  expect(status.looks).toBe(result.looks);
  expect(status.looks).toBeGreaterThanOrEqual(10);
  const continues = (status.decisions ?? []).filter((d) => d.action === 'continue');
  expect(continues.length).toBe(status.runs! - 1);
  // The monitors crossed runs: the latest look counts every observation since the test began.
  expect(Math.min(...status.latest!.arms.map((a) => a.n))).toBeGreaterThanOrEqual(100);

  const runs = await client.workflowService.listWorkflowExecutions({ namespace: testEnv.namespace ?? 'default', query: `WorkflowId = '${workflowId}'` });
  const closed = runs.executions.filter((e) => e.status === 6 /* CONTINUED_AS_NEW */);
  expect(closed.length).toBeGreaterThanOrEqual(2);
  for (const run of closed) expect(Number(run.historyLength)).toBeLessThan(HISTORY_SUGGESTION + 30);
  // The split ended with the test: no winner, so the control takes all traffic.
  expect((await getTrafficWeights(env.db, model)).weights).toMatchObject({ '1': 10_000, '2': 0 });
  const first = closed.sort((a, b) => Number(a.startTime?.seconds ?? 0) - Number(b.startTime?.seconds ?? 0))[0]!;
  await record(workflowId, first.execution!.runId!, 'ab-test-continue-as-new');
}, 240_000);

it('a cancelled A/B test gives the control all traffic back and records itself as cancelled', async () => {
  const client = testEnv.client;
  const workflowId = `ab-${model}-cancel`;
  const outcome = await withWorkers(async () => {
    await prepare();
    const handle = await client.workflow.start('ABTest', { taskQueue: env.taskQueues.workflows, workflowId, args: [abInput({ maxDurationSeconds: 3600, checkIntervalSeconds: 2 })] });
    const traffic = underTraffic(handle.result().then(() => 'completed', (e: Error) => e.name), 7);
    for (let i = 0; i < 300 && (await handle.query(abStatusQuery)).looks < 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await getTrafficWeights(env.db, model)).weights).toMatchObject({ '1': 5_000, '2': 5_000 });
    await handle.cancel();
    const result = await traffic;
    return { result, status: await handle.query(abStatusQuery), description: await handle.describe() };
  });
  expect(outcome.result).toBe('WorkflowFailedError');
  expect(outcome.description.status.name).toBe('CANCELLED');
  expect(outcome.status.state).toBe('cancelled');
  expect(outcome.status.decisions?.at(-1)).toMatchObject({ action: 'cancel', reason: 'the A/B test workflow was cancelled; control v1 takes all traffic again' });
  expect((await getTrafficWeights(env.db, model)).weights).toMatchObject({ '1': 10_000, '2': 0 });
  await record(workflowId, outcome.description.runId, 'ab-test-cancelled');
}, 240_000);
