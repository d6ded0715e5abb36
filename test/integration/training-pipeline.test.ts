/**
 * The training pipeline end to end on the real stack: Temporal dev server, PostgreSQL, MLflow.
 * Checks what a user would: a registered version with lineage, metrics of the exported ONNX, the
 * ONNX artifact served by MLflow, the operational record, search attributes, and replay.
 */
import { writeFile } from 'node:fs/promises';
import { Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { WorkflowFailedError } from '@temporalio/client';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAME, PIPELINE_STAGE } from '../../config/search-attributes';
import { IDEMPOTENCY_TAG, ONNX_ARTIFACT_PATH } from '../../activities/registry';
import { mlflowQuote, tagsToRecord } from '../../clients/mlflow';
import { statusQuery, type TrainingPipelineResult } from '../../workflows/training-pipeline';
import { WORKFLOWS_PATH } from '../../workers/workflow-worker-path';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv('pipeline');
});
afterAll(async () => {
  await env?.close();
});

function start(model: string, dataset: string, hyperparameters: Record<string, unknown> = { epochs: 30, learningRate: 0.1 }) {
  return env.client.workflow.start('TrainingPipeline', {
    taskQueue: env.taskQueues.workflows,
    workflowId: `train-${model}`,
    args: [{ model, dataset, family: 'softmax-regression', hyperparameters, taskQueues: { cpu: env.taskQueues.cpu } }],
    typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
  });
}

describe('TrainingPipeline on the real stack', () => {
  it('trains penguins, registers one version with lineage, and replays deterministically', async () => {
    const model = uniqueModelName('penguins');
    const { result, status, history, runId } = await runWorkers(env, async () => {
      const handle = await start(model, 'builtin:penguins');
      const result = (await handle.result()) as TrainingPipelineResult;
      const status = await handle.query(statusQuery);
      const history = await handle.fetchHistory();
      return { result, status, history, runId: handle.firstExecutionRunId };
    });

    // Holdout metrics are those of the exported ONNX; penguins species are well separated.
    expect(result.version).toBe('1');
    expect(result.metrics.accuracy).toBeGreaterThan(0.9);
    expect(result.metrics.holdoutRows).toBeGreaterThan(50);
    expect(result.metrics.logLoss).toBeLessThan(0.5);
    expect(status.state).toBe('completed');
    expect(status.stages.every((s) => s.state === 'done')).toBe(true);
    expect(status.progress?.epoch).toBe(30);

    // MLflow registry: exactly one version, lineage tags, the run it came from.
    const versions = await env.mlflow.searchModelVersions(`name=${mlflowQuote(model)}`);
    expect(versions.map((v) => v.version)).toEqual(['1']);
    const tags = tagsToRecord(versions[0]!.tags);
    expect(tags['flywheel.dataset_digest']).toBe(result.datasetDigest);
    expect(tags['flywheel.git_commit']).toBe('test-commit');
    expect(tags['flywheel.workflow_id']).toBe(result.workflowId);
    expect(tags['flywheel.dataset_source']).toBe('builtin:penguins');
    expect(versions[0]!.run_id).toBe(result.mlflowRunId);
    const run = await env.mlflow.getRun(result.mlflowRunId);
    expect(run.info.status).toBe('FINISHED');
    expect(tagsToRecord(run.data.tags)[IDEMPOTENCY_TAG]).toBe(`${result.workflowId}/${runId}`);
    const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
    expect(params.epochs).toBe('30');
    expect(params.family).toBe('softmax-regression');
    expect(run.inputs?.dataset_inputs?.[0]?.dataset.name).toBe('penguins');

    // The ONNX artifact served by MLflow loads and predicts three species.
    const bytes = await env.mlflow.downloadArtifact(run.info.artifact_uri, ONNX_ARTIFACT_PATH);
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ features: new ort.Tensor('float32', Float32Array.from([39.1, 18.7, 181, 3750]), [1, 4]) });
    expect(out.probabilities!.dims).toEqual([1, 3]);
    expect(Number((out.label!.data as BigInt64Array)[0])).toBe(0); // Adelie, the first class

    // Operational record in PostgreSQL.
    const rows = await env.db.query('select status, model_version, mlflow_run_id, stage from pipeline_runs where workflow_id = $1', [result.workflowId]);
    expect(rows.rows).toEqual([{ status: 'completed', model_version: '1', mlflow_run_id: result.mlflowRunId, stage: 'done' }]);
    const ds = await env.db.query('select n_rows, name from datasets where digest = $1', [result.datasetDigest]);
    expect(ds.rows[0]).toEqual({ n_rows: 342, name: 'penguins' });

    // Search attributes make it findable in the Temporal UI.
    const desc = await env.client.workflow.getHandle(result.workflowId).describe();
    expect(desc.typedSearchAttributes.get(MODEL_NAME)).toBe(model);
    expect(desc.typedSearchAttributes.get(PIPELINE_STAGE)).toBe('done');

    // Determinism: the recorded history replays against the current workflow code.
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, result.workflowId);
    if (process.env.FLYWHEEL_RECORD_HISTORY) {
      await writeFile(process.env.FLYWHEEL_RECORD_HISTORY, historyToJSON(history));
    }
  });

  it('rejects bad data non-retryably, naming the column and row, and registers nothing', async () => {
    const model = uniqueModelName('raw');
    const err = await runWorkers(env, async () => {
      const handle = await start(model, 'builtin:penguins-raw');
      return handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { cause?: { type?: string; message?: string; nonRetryable?: boolean } };
    const failure = cause.cause!;
    expect(failure.type).toBe('InvalidDataset');
    expect(failure.message).toBe('dataset builtin:penguins-raw: column "Beak Length (mm)", row 4: value is missing');
    expect(await env.mlflow.getRegisteredModel(model)).toBeUndefined();
    const rows = await env.db.query('select 1 from pipeline_runs where model = $1', [model]);
    expect(rows.rowCount).toBe(0);
    // One attempt: a retry could not have fixed the data.
    const history = await env.client.workflow.getHandle(`train-${model}`).fetchHistory();
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(attempts).toEqual([1]);
  });

  it('fails a workflow whose hyperparameters are out of range before any activity runs', async () => {
    const model = uniqueModelName('badhp');
    const err = await runWorkers(
      env,
      async () => (await start(model, 'builtin:iris', { learningRate: 50 })).result().catch((e: unknown) => e),
      { activities: false },
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as { type?: string; message?: string };
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toBe('hyperparameter learningRate must be > 0 and <= 10 (got 50)');
    const history = await env.client.workflow.getHandle(`train-${model}`).fetchHistory();
    expect(history.events!.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
  });
});
