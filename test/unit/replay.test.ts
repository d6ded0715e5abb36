/**
 * Determinism guard: histories recorded from real runs (Temporal dev server, PostgreSQL, MLflow,
 * the gateway) must replay against the current workflow code. A change that reorders commands,
 * adds an activity or reads non-deterministic state fails here, before it can break the workflows
 * already running in production. Needs no server.
 *
 * Re-record after an intended, versioned change of a workflow, e.g.:
 *   .venv/bin/temporal workflow show -w <workflow id> [-r <run id>] -o json > test/fixtures/<name>.history.json
 * (DriftMonitor and Retraining come from a run of test/integration/drift.test.ts, OnlineSnapshot from
 * test/integration/online.test.ts, FeatureDriftMonitor from test/integration/feature-drift.test.ts, which prints its id; find the ids with
 * `.venv/bin/temporal workflow list --query "WorkflowType='DriftMonitor'"`; drift-monitor-waits from
 * the time-skipping test/workflows/drift-monitor.test.ts run with FLYWHEEL_RECORD_HISTORY=1, and
 * canary-rollout-segment-rollback / ab-test-segment-guardrail from test/workflows/canary-rollout.test.ts /
 * ab-test.test.ts the same way.) Every workflow file is
 * covered by at least one fixture here: test/unit/workflow-versions.test.ts checks it, and fails
 * when a workflow's source changes without `npm run workflows:stamp` (README: Upgrading workflows).
 */
import { readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS_PATH } from '../../workers/workflow-worker-path';

/** Workflow ids matter in replay: a workflow may derive child ids from its own. */
async function load(name: string) {
  return historyFromJSON(JSON.parse(await readFile(new URL(`../fixtures/${name}.history.json`, import.meta.url), 'utf8')));
}

function activityTypes(history: Awaited<ReturnType<typeof load>>): string[] {
  return history.events!.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name!);
}

describe('recorded workflow histories replay against the current code', () => {
  it('TrainingPipeline', async () => {
    const history = await load('training-pipeline');
    // The fixture is a whole run: every pipeline activity, in order.
    expect(activityTypes(history)).toEqual([
      'validateDataset', 'recordPipelineRun', 'splitDataset', 'trainModel', 'exportOnnx', 'evaluateOnnx', 'logTrainingRun', 'registerModelVersion', 'recordPipelineRun',
    ]);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'train-penguins-9fbc2969')).resolves.toBeUndefined();
  }, 60_000);

  it('TrainingPipeline on the PyTorch pool (no GPU worker within the wait: the CPU torch queue)', async () => {
    const history = await load('training-pipeline-torch');
    expect(activityTypes(history)).toEqual([
      'validateDataset', 'recordPipelineRun', 'splitDataset', 'trainNeuralModel', 'trainNeuralModel', 'evaluateOnnx', 'logTrainingRun', 'registerModelVersion', 'recordPipelineRun',
    ]);
    const timeouts = history.events!.filter((e) => e.activityTaskTimedOutEventAttributes).map((e) => e.activityTaskTimedOutEventAttributes!.failure!.timeoutFailureInfo!.timeoutType);
    expect(timeouts).toEqual([2]); // TIMEOUT_TYPE_SCHEDULE_TO_START: the GPU queue's wait ran out
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'train-torch-mlp-fc591549')).resolves.toBeUndefined();
  }, 60_000);

  it('HyperparameterSearch (parallel trials, pruning by cancellation, a child pipeline)', async () => {
    const history = await load('hyperparameter-search');
    const types = activityTypes(history);
    expect(types.filter((t) => t === 'runTrial').length).toBeGreaterThanOrEqual(16);
    expect(history.events!.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
    expect(history.events!.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(true);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'hpo-hpo-96c161d5')).resolves.toBeUndefined();
  }, 60_000);

  it('CanaryRollout (a rollback)', async () => {
    const history = await load('canary-rollout');
    expect(activityTypes(history)).toContain('rejectCandidate');
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'canary-penguins')).resolves.toBeUndefined();
  }, 60_000);

  it('CanaryRollout with the sequential judge (promoted after evidence of no regression)', async () => {
    const history = await load('canary-rollout-sequential');
    const types = activityTypes(history);
    expect(types.slice(0, 3)).toEqual(['deployVersion', 'getTrafficWeights', 'collectRolloutWindow']);
    expect(types.at(-1)).toBe('promoteChampion');
    // The patch marker that keeps fixed-horizon rollouts in flight on their own path.
    expect(history.events!.some((e) => e.markerRecordedEventAttributes)).toBe(true);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'canary-canary-8f827620')).resolves.toBeUndefined();
  }, 60_000);

  it('CanaryRollout with a shadow step (the candidate rolled back in shadow, before any exposure)', async () => {
    const history = await load('canary-rollout-shadow-rollback');
    const types = activityTypes(history);
    expect(types).toContain('startRolloutShadow');
    expect(types.slice(-3)).toEqual(['stopRolloutShadow', 'setTrafficWeights', 'rejectCandidate']);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'canary-shadow-canary-f13a3192')).resolves.toBeUndefined();
  }, 60_000);

  it('CanaryRollout cancelled during its shadow step (the shadow stopped)', async () => {
    const history = await load('canary-rollout-shadow-cancelled');
    expect(activityTypes(history)).toContain('stopRolloutShadow');
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'canary-shadow-canary-b68e4644')).resolves.toBeUndefined();
  }, 60_000);

  it('CanaryRollout with the sequential judge (a rollback)', async () => {
    const history = await load('canary-rollout-sequential-rollback');
    expect(activityTypes(history)).toContain('rejectCandidate');
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'canary-canary-8f827620')).resolves.toBeUndefined();
  }, 60_000);

  it('CanaryRollout with a segment guardrail (plan=pro worse while the whole holds: a rollback naming it)', async () => {
    // From the time-skipping test/workflows/canary-rollout.test.ts run with FLYWHEEL_RECORD_HISTORY=1.
    const history = await load('canary-rollout-segment-rollback');
    expect(activityTypes(history)).toContain('rejectCandidate');
    const patches = history.events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').map((e) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!.data!).toString()).id);
    expect(patches).toContain('canary-segment-guardrails');
    const id = history.events![0]!.workflowExecutionStartedEventAttributes!.workflowId ?? 'canary-iris';
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, id)).resolves.toBeUndefined();
  }, 60_000);

  it('ABTest with a segment guardrail (the arm worse within plan=pro while its average holds: halted)', async () => {
    // From the time-skipping test/workflows/ab-test.test.ts run with FLYWHEEL_RECORD_HISTORY=1.
    const history = await load('ab-test-segment-guardrail');
    const patches = history.events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').map((e) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!.data!).toString()).id);
    expect(patches).toContain('ab-segment-guardrails');
    const id = history.events![0]!.workflowExecutionStartedEventAttributes!.workflowId ?? 'ab-penguins';
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, id)).resolves.toBeUndefined();
  }, 60_000);

  it('ABTest (a winner)', async () => {
    const history = await load('ab-test');
    expect(activityTypes(history)).toContain('collectExperimentMetrics');
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'ab-penguins')).resolves.toBeUndefined();
  }, 60_000);

  it('ABTest continuing as new, and ABTest cancelled (the control gets all traffic back)', async () => {
    const continued = await load('ab-test-continue-as-new');
    expect(continued.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, continued, 'ab-ab-can-2d816960')).resolves.toBeUndefined();
    const cancelled = await load('ab-test-cancelled');
    expect(cancelled.events!.at(-1)!.workflowExecutionCanceledEventAttributes).toBeTruthy();
    expect(activityTypes(cancelled).at(-1)).toBe('setTrafficWeights');
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, cancelled, 'ab-ab-can-2d816960-cancel')).resolves.toBeUndefined();
  }, 60_000);

  it('KnowledgeValidation (a review update and a review deadline)', async () => {
    const history = await load('knowledge-validation');
    expect(history.events!.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(true);
    expect(history.events!.some((e) => e.timerFiredEventAttributes)).toBe(true);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'knowledge-dfe2478e9e4cbaad')).resolves.toBeUndefined();
  }, 60_000);

  it('DriftMonitor (first run: opens the cursor, polls, continues as new)', async () => {
    const history = await load('drift-monitor-first-run');
    expect(activityTypes(history)).toEqual(['openDriftMonitor', 'readOutcomes', 'readOutcomes', 'readOutcomes', 'readOutcomes']);
    expect(history.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'drift-drift-d9f74147')).resolves.toBeUndefined();
  }, 60_000);

  it('DriftMonitor (a carried run that detects drift, starts a Retraining child and continues as new)', async () => {
    const history = await load('drift-monitor-drift');
    // Started by continue-as-new, with the carried cursor and ADWIN state as its second argument.
    expect(history.events![0]!.workflowExecutionStartedEventAttributes!.continuedExecutionRunId).toBeTruthy();
    expect(history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads).toHaveLength(2);
    expect(activityTypes(history)).toEqual(['readOutcomes', 'readOutcomes', 'runningRetraining', 'recordDriftEvent', 'readOutcomes', 'readOutcomes']);
    const child = history.events!.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)!.startChildWorkflowExecutionInitiatedEventAttributes!;
    expect([child.workflowType!.name, child.workflowId]).toEqual(['Retraining', 'retrain-drift-d9f74147-drift-1']);
    expect(history.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'drift-drift-d9f74147')).resolves.toBeUndefined();
  }, 60_000);

  it('DriftMonitor (production data: a rise, the retraining started only after new labels, on them alone; stopped)', async () => {
    const history = await load('drift-monitor-waits');
    const types = activityTypes(history);
    expect(types.indexOf('recordDriftEvent')).toBeLessThan(types.indexOf('noteDriftRetraining'));
    expect(types.slice(types.indexOf('recordDriftEvent') + 1, types.indexOf('noteDriftRetraining'))).toEqual(['readOutcomes', 'runningRetraining']);
    const child = history.events!.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)!.startChildWorkflowExecutionInitiatedEventAttributes!;
    expect(child.workflowType!.name).toBe('Retraining');
    expect(history.events!.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(true);
    const id = history.events![0]!.workflowExecutionStartedEventAttributes!.workflowId ?? 'drift-churn';
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, id)).resolves.toBeUndefined();
  }, 60_000);

  it('FeatureDriftMonitor (an event on the first check, then checks of newer rows only, stopped by signal)', async () => {
    const history = await load('feature-drift-monitor');
    expect(activityTypes(history)).toEqual(['checkFeatureDrift', 'checkFeatureDrift', 'checkFeatureDrift']);
    expect(history.events!.some((e) => e.workflowExecutionSignaledEventAttributes)).toBe(true);
    expect(history.events!.at(-1)!.workflowExecutionCompletedEventAttributes).toBeTruthy();
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'feature-drift-featdrift-2ebf0522')).resolves.toBeUndefined();
  }, 60_000);

  it('Retraining (started by drift: a challenger that wins goes to a promoted canary)', async () => {
    const history = await load('retraining');
    expect(activityTypes(history)).toEqual(['recordRetraining', 'locateHoldout', 'evaluateOnnx', 'fetchChampion', 'evaluateOnnx', 'tagChallenger', 'recordRetraining', 'recordRetraining']);
    const children = history.events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).map((e) => e.startChildWorkflowExecutionInitiatedEventAttributes!.workflowType!.name);
    expect(children).toEqual(['TrainingPipeline', 'CanaryRollout']);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'retrain-drift-d9f74147-drift-1')).resolves.toBeUndefined();
  }, 60_000);

  it('OnlineSnapshot (snapshot signals, then stop)', async () => {
    const history = await load('online-snapshot');
    expect(activityTypes(history)).toEqual(['snapshotOnlineModel', 'snapshotOnlineModel']);
    const signals = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes!.signalName);
    expect(signals.at(-1)).toBe('stop');
    expect(signals).toContain('snapshot');
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'online-snapshot-iris-online-f5aa9632-live')).resolves.toBeUndefined();
  }, 60_000);

  it('Reconciler (reports a split no running workflow owns)', async () => {
    const history = await load('reconciler');
    expect(activityTypes(history)).toEqual(['checkTrafficOwners']);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'reconcile-doctor-owned-eec3233f-0')).resolves.toBeUndefined();
  }, 60_000);

  it('Reconciler with the traffic partition upkeep (patched: traffic-partitions)', async () => {
    const history = await load('reconciler-partitions');
    expect(activityTypes(history)).toEqual(['checkTrafficOwners', 'maintainTrafficPartitions']);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'reconcile-partitions-mx7sgpn3')).resolves.toBeUndefined();
  }, 60_000);

  it('Backup (backs up, verifies, prunes; from test/integration/backup-restore.test.ts)', async () => {
    const history = await load('backup');
    expect(activityTypes(history)).toEqual(['runBackup', 'verifyBackupById', 'pruneExpiredBackups']);
    await expect(Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'backup-restore-6683eabc')).resolves.toBeUndefined();
  }, 60_000);
});
