/**
 * Determinism guard: a TrainingPipeline history recorded from a real run (Temporal dev server,
 * PostgreSQL, MLflow) must replay against the current workflow code. A change that reorders
 * commands, adds an activity or reads non-deterministic state fails here, before it can break
 * the workflows already running in production. Needs no server.
 *
 * Re-record after an intended, versioned change of the workflow:
 *   FLYWHEEL_RECORD_HISTORY=$PWD/test/fixtures/training-pipeline.history.json \
 *     npx vitest run test/integration/training-pipeline.test.ts -t "trains penguins"
 */
import { readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../workers/workflow-worker-path';

it('replays a recorded TrainingPipeline history', async () => {
  const history = historyFromJSON(JSON.parse(await readFile(new URL('../fixtures/training-pipeline.history.json', import.meta.url), 'utf8')));
  const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes);
  // The fixture is a whole run: every pipeline activity, in order.
  expect(scheduled.map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name)).toEqual([
    'validateDataset', 'recordPipelineRun', 'splitDataset', 'trainModel', 'exportOnnx', 'evaluateOnnx', 'logTrainingRun', 'registerModelVersion', 'recordPipelineRun',
  ]);
  await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'train-replay-fixture')).resolves.toBeUndefined();
}, 60_000);
