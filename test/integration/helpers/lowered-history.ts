/**
 * A Temporal dev server of a test's own whose continue-as-new suggestion is lowered through its
 * dynamic config, so a looping workflow reaches it in seconds; and workers on it (a workflow worker
 * and the CPU activities, on the test env's queues) next to the real PostgreSQL and MLflow.
 */
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../../activities/index';
import { PROJECT_ROOT } from '../../../config/index';
import { DATASET_DIGEST, MODEL_NAME, PIPELINE_STAGE } from '../../../config/search-attributes';
import { WORKFLOWS_PATH } from '../../../workers/workflow-worker-path';
import type { TestEnv } from './env';

export function startLoweredHistoryServer(suggestContinueAsNew: number): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: path.join(PROJECT_ROOT, '.venv/bin/temporal') },
      searchAttributes: [MODEL_NAME, PIPELINE_STAGE, DATASET_DIGEST],
      extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${suggestContinueAsNew}`],
    },
  });
}

export async function withWorkersOn<T>(server: TestWorkflowEnvironment, env: TestEnv, fn: () => Promise<T>): Promise<T> {
  const { nativeConnection, namespace } = server;
  const workers = [
    await Worker.create({ connection: nativeConnection, namespace, taskQueue: env.taskQueues.workflows, workflowsPath: WORKFLOWS_PATH }),
    await Worker.create({ connection: nativeConnection, namespace, taskQueue: env.taskQueues.cpu, activities: createActivities(env.config, 'test-commit') }),
  ];
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
  }
}
