/**
 * Retraining on the real stack: a challenger that is not better than the champion by the margin
 * is not canaried, and says why — in the workflow's status, in `retraining_runs` and on its MLflow
 * version — while serving keeps the champion untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { getTrafficWeights } from '../../activities/traffic';
import { tagsToRecord } from '../../clients/mlflow';
import { MODEL_NAME } from '../../config/search-attributes';
import type { RetrainingInput } from '../../lib/retraining/spec';
import { retrainingStatusQuery, type RetrainingResult } from '../../workflows/retraining';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
const model = uniqueModelName('retrain');
const hyperparameters = { epochs: 100, learningRate: 0.5, seed: 1 };

beforeAll(async () => {
  env = await openTestEnv('retraining');
  await runWorkers(env, async () => {
    const handle = await env.client.workflow.start('TrainingPipeline', {
      taskQueue: env.taskQueues.workflows,
      workflowId: `train-${model}-v1`,
      args: [{ model, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters, taskQueues: { cpu: env.taskQueues.cpu } }],
      typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
    });
    await handle.result();
  });
  await deployVersion(env.db, env.mlflow, { model, version: '1' });
});

afterAll(async () => {
  await env?.close();
});

describe('Retraining', () => {
  it('does not canary a challenger that is not better by the margin, and records why', async () => {
    const workflowId = `retrain-${model}-manual`;
    // Same data, same seed: the challenger is the champion's twin, improvement 0 < margin 0.01.
    const input: RetrainingInput = { model, dataset: 'builtin:iris', hyperparameters, margin: 0.01, metric: 'logLoss', taskQueues: { cpu: env.taskQueues.cpu } };
    const { result, status } = await runWorkers(env, async () => {
      const handle = await env.client.workflow.start('Retraining', { taskQueue: env.taskQueues.workflows, workflowId, args: [input] });
      const result = (await handle.result()) as RetrainingResult;
      return { result, status: await handle.query(retrainingStatusQuery) };
    });
    expect(result.decision.kind).toBe('keep-champion');
    expect(result.decision.reason).toMatch(/^challenger v2 is not better by the margin: logLoss must be lower by more than 0\.01, improvement -?0\.0000 \(logLoss \d\.\d{4} vs champion v1's \d\.\d{4} on the challenger's holdout\)$/);
    expect(result.challenger.version).toBe('2');
    expect(result.champion).toMatchObject({ version: '1', source: 'traffic' });
    expect(result.challenger.logLoss).toBeCloseTo(result.champion!.logLoss, 6);
    expect(result.canary).toBeUndefined();
    expect(status).toMatchObject({ stage: 'done', decision: result.decision, holdoutRows: 30 });

    const { rows } = await env.db.query('select status, decision, reason, challenger_version, champion_version, champion_source, canary_workflow_id from retraining_runs where workflow_id = $1', [workflowId]);
    expect(rows).toEqual([{ status: 'completed', decision: 'keep-champion', reason: result.decision.reason, challenger_version: '2', champion_version: '1', champion_source: 'traffic', canary_workflow_id: null }]);
    const tags = tagsToRecord((await env.mlflow.getModelVersion(model, '2'))!.tags);
    expect(tags).toMatchObject({ 'flywheel.retraining_decision': 'keep-champion', 'flywheel.retraining_reason': result.decision.reason, 'flywheel.retraining_workflow': workflowId });
    // Nothing rolled out: no canary workflow, the champion keeps all traffic.
    await expect(env.client.workflow.getHandle(`canary-${model}`).describe()).rejects.toThrow(/not found/i);
    expect((await getTrafficWeights(env.db, model)).weights).toEqual({ '1': 10_000 });
  }, 90_000);
});
