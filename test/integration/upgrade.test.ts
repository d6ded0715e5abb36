/**
 * An upgrade on the real stack: a long-running DriftMonitor starts on "build N" (a workflow worker
 * bundled from the current workflows/), that worker stops mid-execution, and "build N+1" takes
 * over: a copy of workflows/ (under .flywheel/, so imports of ../lib etc. resolve) whose
 * DriftMonitor adds a command (a timer) after each poll behind `patched('upgrade-test')`, and
 * counts the polls that took the new path in its status query.
 *
 * An OnlineSnapshot (unchanged code) is in flight too and must answer and stop cleanly on N+1.
 * A second case keeps the two other long-lived kinds in flight across the same upgrade: an A/B test
 * that is looking, and a canary paused by a person at its first step (the "weekend" case). Both
 * replay build N's history on N+1 (which has no cache of them), keep answering their status, take
 * their person's next action (stop; resume, then promote) and end as they would have on build N.
 *
 * The monitor in flight must keep running on N+1 with no failed workflow task, answer its status
 * query, take the new path only after the patch point (the polls made on build N replay on the old
 * path), and stop cleanly; a monitor started on N+1 takes the new path from its first poll. The
 * same change without the guard cannot replay build N's history (a determinism violation):
 * checked here by replaying it against an unguarded copy. FLYWHEEL_UPGRADE_UNGUARDED=1 runs the
 * whole test with the unguarded copy as build N+1, to watch a real worker break on it (README:
 * Upgrading workflows).
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { DeterminismViolationError } from '@temporalio/workflow';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index';
import { PROJECT_ROOT } from '../../config/index';
import type { DriftMonitorInput } from '../../lib/retraining/spec';
import { driftStatusQuery, stopSignal, type DriftMonitorResult, type DriftMonitorStatus } from '../../workflows/drift-monitor';
import { onlineStatusQuery, stopSignal as onlineStopSignal, type OnlineSnapshotStatus } from '../../workflows/online-learning';
import { WORKFLOWS_PATH } from '../../workers/workflow-worker-path';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';
import { deployVersion } from '../../activities/deploy';
import { getTrafficWeights } from '../../activities/traffic';
import { MODEL_NAME } from '../../config/search-attributes';
import { loadDataset } from '../../datasets/load';
import type { ABTestInput } from '../../lib/experiment/spec';
import { createGateway } from '../../serving/app';
import { replay } from '../../traffic/replay';
import { abStatusQuery, stopSignal as abStopSignal, type ABTestResult } from '../../workflows/ab-test';
import { pauseUpdate, promoteUpdate, resumeUpdate, rolloutStatusQuery, type RolloutResult } from '../../workflows/canary-rollout';
import { until as untilWithin } from './helpers/until';

/** This file's waits are bounded at 60 s. */
const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000) => untilWithin(what, read, ok, timeoutMs);

type History = temporal.api.history.v1.IHistory;
type UpgradedStatus = DriftMonitorStatus & { upgradedPolls?: number };

const PATCH = 'upgrade-test';
let env: TestEnv;
let dir: string;

/** Build N+1: a copy of workflows/ with the DriftMonitor change, guarded by patched() or not. */
function makeBuild(name: string, guarded: boolean): string {
  const out = path.join(dir, name, 'workflows');
  mkdirSync(out, { recursive: true });
  const up = `${path.relative(out, PROJECT_ROOT).split(path.sep).join('/')}/`;
  for (const f of readdirSync(path.join(PROJECT_ROOT, 'workflows')).filter((f) => f.endsWith('.ts'))) {
    let src = readFileSync(path.join(PROJECT_ROOT, 'workflows', f), 'utf8').replaceAll("from '../", `from '${up}`);
    if (f === 'drift-monitor.ts') {
      const edit = (from: string, to: string) => {
        if (!src.includes(from)) throw new Error(`upgrade test: workflows/drift-monitor.ts no longer contains ${JSON.stringify(from)}; update the test's change`);
        src = src.replace(from, to);
      };
      edit('  let lastPollAt: string | undefined;\n', '  let lastPollAt: string | undefined;\n  let upgradedPolls = 0;\n');
      edit('    lastPollAt,\n', '    lastPollAt,\n    ...{ upgradedPolls },\n');
      const change = 'upgradedPolls++;\n      await wf.sleep(1);';
      edit('    carry.cursor = outcomes.cursor;\n', `    carry.cursor = outcomes.cursor;\n    ${guarded ? `if (wf.patched('${PATCH}')) {\n      ${change}\n    }` : `{\n      ${change}\n    }`}\n`);
    }
    writeFileSync(path.join(out, f), src);
  }
  return path.join(out, 'index.ts');
}


const activityIndexes = (h: History, type: string) =>
  h.events!.flatMap((e, i) => (e.activityTaskScheduledEventAttributes?.activityType?.name === type ? [i] : []));
const markerIndexes = (h: History) => h.events!.flatMap((e, i) => (e.markerRecordedEventAttributes?.markerName === 'core_patch' ? [i] : []));
const workflowTaskFailures = (h: History) => h.events!.filter((e) => e.workflowTaskFailedEventAttributes).map((e) => e.workflowTaskFailedEventAttributes!.failure?.message);

beforeAll(async () => {
  env = await openTestEnv('upgrade');
  dir = path.join(PROJECT_ROOT, '.flywheel', `test-upgrade-${randomUUID().slice(0, 8)}`);
});

afterAll(async () => {
  await env?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('upgrading the workflow worker under running workflows', () => {
  it('a DriftMonitor in flight moves from build N to a patched build N+1 and takes the new path only after the patch point', async () => {
    const unguarded = process.env.FLYWHEEL_UPGRADE_UNGUARDED === '1';
    const nextBuild = makeBuild('build-n1', !unguarded);
    const connection = await NativeConnection.connect({ address: env.config.temporal.address });
    const { namespace } = env.config.temporal;
    const activities = createActivities(env.config, 'test-commit');
    const activityWorkers = await Promise.all([env.taskQueues.cpu, env.taskQueues.control].map((taskQueue) => Worker.create({ connection, namespace, taskQueue, activities })));
    const activityRuns = activityWorkers.map((w) => w.run());
    const input = (model: string): DriftMonitorInput => ({
      model,
      retraining: { dataset: 'iris' },
      pollSeconds: 0.3,
      settleSeconds: 0,
      pollsPerRun: 1000, // one run: the upgrade happens mid-run, not at a continue-as-new
      taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control },
    });
    const start = (model: string) => env.client.workflow.start('DriftMonitor', { taskQueue: env.taskQueues.workflows, workflowId: `drift-${model}`, args: [input(model)] });
    const started: string[] = [];
    try {
      // Build N: the current code.
      const workerN = await Worker.create({ connection, namespace, taskQueue: env.taskQueues.workflows, workflowsPath: WORKFLOWS_PATH });
      const runN = workerN.run();
      const a = await start(uniqueModelName('upgrade-a'));
      started.push(a.workflowId);
      // An unchanged long-lived loop in flight too: an OnlineSnapshot waiting on its interval.
      const online = await env.client.workflow.start('OnlineSnapshot', {
        taskQueue: env.taskQueues.workflows,
        workflowId: `online-snapshot-${uniqueModelName('upgrade')}`,
        args: [{ name: 'upgrade-online', model: 'upgrade', everySeconds: 3600, taskQueues: { cpu: env.taskQueues.cpu } }],
      });
      started.push(online.workflowId);
      expect(await online.query(onlineStatusQuery)).toMatchObject({ state: 'running', requests: 0 });
      await until('three polls on build N', () => a.fetchHistory(), (h) => activityIndexes(h, 'readOutcomes').length >= 3);
      const onN = (await a.query(driftStatusQuery)) as UpgradedStatus;
      expect(onN.state).toBe('watching');
      expect(onN.upgradedPolls).toBeUndefined();
      workerN.shutdown();
      await runN;
      const historyN = await a.fetchHistory();
      const pollsOnN = activityIndexes(historyN, 'readOutcomes').length;

      // The same change without patched() cannot replay what build N recorded.
      const unguardedBuild = unguarded ? nextBuild : makeBuild('build-n1-unguarded', false);
      await expect(Worker.runReplayHistory({ workflowsPath: unguardedBuild }, historyN, a.workflowId)).rejects.toBeInstanceOf(DeterminismViolationError);

      // Build N+1: the patched copy, on the same task queue.
      const workerN1 = await Worker.create({ connection, namespace, taskQueue: env.taskQueues.workflows, workflowsPath: nextBuild });
      const runN1 = workerN1.run();
      try {
        const b = await start(uniqueModelName('upgrade-b'));
        started.push(b.workflowId);
        const upgraded = (h: { upgradedPolls?: number }) => (h.upgradedPolls ?? 0) >= 2;
        const aStatus = await until('the monitor from build N to poll on build N+1', () => a.query(driftStatusQuery) as Promise<UpgradedStatus>, upgraded, 30_000);
        expect(aStatus).toMatchObject({ workflowId: a.workflowId, state: 'watching', samples: 0, detections: 0 });
        await until('the monitor started on build N+1 to poll', () => b.query(driftStatusQuery) as Promise<UpgradedStatus>, upgraded, 30_000);
        // Build N+1 has no cache of it: this query replays build N's history on the new code.
        expect(await online.query(onlineStatusQuery)).toMatchObject({ state: 'running', requests: 0, everySeconds: 3600 });
        await online.signal(onlineStopSignal, 'upgrade test done');
        expect((await online.result()) as OnlineSnapshotStatus).toMatchObject({ state: 'stopped', requests: 0, registered: 0 });
        expect(workflowTaskFailures(await online.fetchHistory())).toEqual([]);
        await a.signal(stopSignal, 'upgrade test done');
        await b.signal(stopSignal, 'upgrade test done');
        const [ra, rb] = (await Promise.all([a.result(), b.result()])) as [DriftMonitorResult & { upgradedPolls?: number }, DriftMonitorResult & { upgradedPolls?: number }];
        expect(ra).toMatchObject({ state: 'stopped', samples: 0, detections: 0, retrainingsStarted: 0 });
        expect(rb).toMatchObject({ state: 'stopped', samples: 0, detections: 0, retrainingsStarted: 0 });

        const ha = await a.fetchHistory();
        expect(workflowTaskFailures(ha)).toEqual([]);
        const pollsA = activityIndexes(ha, 'readOutcomes');
        const markersA = markerIndexes(ha);
        // One marker, recorded after every poll build N made (those replay on the old path), before the
        // next poll's timer; every poll after it took the new path.
        expect(markersA).toHaveLength(1);
        expect(markersA[0]).toBeGreaterThan(pollsA[pollsOnN - 1]!);
        const timers = (h: History, from: number, to: number) =>
          h.events!.slice(from, to).flatMap((e) => (e.timerStartedEventAttributes ? [Number(e.timerStartedEventAttributes.startToFireTimeout?.seconds ?? 0) * 1000 + (e.timerStartedEventAttributes.startToFireTimeout?.nanos ?? 0) / 1e6] : []));
        // Before the marker only the 300 ms poll interval (the old path); after it, a 1 ms timer per poll.
        expect(new Set(timers(ha, 0, markersA[0]))).toEqual(new Set([300]));
        expect(timers(ha, markersA[0]!, ha.events!.length)).toContain(1);
        expect(ra.upgradedPolls).toBe(pollsA.filter((i) => i > markersA[0]!).length + 1);
        expect(ra.upgradedPolls).toBeLessThan(pollsA.length);

        const hb = await b.fetchHistory();
        expect(workflowTaskFailures(hb)).toEqual([]);
        const pollsB = activityIndexes(hb, 'readOutcomes');
        expect(markerIndexes(hb)).toHaveLength(1);
        expect(markerIndexes(hb)[0]).toBeGreaterThan(pollsB[0]!);
        expect(markerIndexes(hb)[0]).toBeLessThan(pollsB[1]!);
        expect(rb.upgradedPolls).toBe(pollsB.length);

        // And the upgraded history replays against build N+1 (what the next worker restart will do).
        await expect(Worker.runReplayHistory({ workflowsPath: nextBuild }, ha, a.workflowId)).resolves.toBeUndefined();
      } finally {
        workerN1.shutdown();
        await runN1;
      }
    } finally {
      for (const id of started) await env.client.workflow.getHandle(id).terminate('upgrade test cleanup').catch(() => undefined);
      for (const w of activityWorkers) w.shutdown();
      await Promise.all(activityRuns);
      await connection.close();
    }
  }, 240_000);

  it('an A/B test that is looking and a canary paused at its first step carry on across the upgrade and end as they would have', async () => {
    const nextBuild = makeBuild('build-n1-ab', true);
    const connection = await NativeConnection.connect({ address: env.config.temporal.address });
    const { namespace } = env.config.temporal;
    const activities = createActivities(env.config, 'test-commit');
    const activityWorkers = await Promise.all([env.taskQueues.cpu, env.taskQueues.control].map((taskQueue) => Worker.create({ connection, namespace, taskQueue, activities })));
    const activityRuns = activityWorkers.map((w) => w.run());
    const abModel = uniqueModelName('upgrade-ab');
    const canaryModel = uniqueModelName('upgrade-paused');
    const taskQueues = { cpu: env.taskQueues.cpu, control: env.taskQueues.control };
    const loaded = await loadDataset('builtin:iris');
    if (!loaded.ok) throw new Error(loaded.error.message);
    const iris = loaded.value.dataset;
    const gateway = await createGateway(env.config, { port: 0, logger: false });
    const url = await gateway.listen();
    const apiKey = await testApiKey(env, 'upgrade');
    const started: string[] = [];
    let trafficDone = false;
    let traffic: Promise<void> = Promise.resolve();
    try {
      const workerN = await Worker.create({ connection, namespace, taskQueue: env.taskQueues.workflows, workflowsPath: WORKFLOWS_PATH });
      const runN = workerN.run();
      // Two models trained the same way (equally good versions): the A/B test splits one, the canary the other.
      for (const m of [abModel, canaryModel]) {
        for (let i = 1; i <= 2; i++) {
          await env.client.workflow.execute('TrainingPipeline', {
            taskQueue: env.taskQueues.workflows,
            workflowId: `train-${m}-v${i}`,
            args: [{ model: m, dataset: 'builtin:iris', family: 'softmax-regression', hyperparameters: { epochs: 100, learningRate: 0.5, seed: 1 }, taskQueues }],
            typedSearchAttributes: [{ key: MODEL_NAME, value: m }],
          });
        }
        await deployVersion(env.db, env.mlflow, { model: m, version: '1' });
      }
      traffic = (async () => {
        let seed = 1;
        while (!trafficDone) {
          await Promise.all([abModel, canaryModel].map((m) => replay({ url, apiKey, model: m, dataset: iris, rate: 40, durationMs: 1000, labelDelayMs: 50, units: 200, seed: seed++ })));
        }
      })();
      const abInput: ABTestInput = { model: abModel, versions: ['1', '2'], primaryMetric: 'accuracy', tau2: 0.01, minSamplePerArm: 30, maxDurationSeconds: 3600, checkIntervalSeconds: 1, taskQueues };
      const ab = await env.client.workflow.start('ABTest', { taskQueue: env.taskQueues.workflows, workflowId: `ab-${abModel}`, args: [abInput] });
      started.push(ab.workflowId);
      const canary = await env.client.workflow.start('CanaryRollout', {
        taskQueue: env.taskQueues.workflows,
        workflowId: `canary-${canaryModel}`,
        args: [{ model: canaryModel, candidateVersion: '2', steps: [{ weight: 30, pauseSeconds: 3600 }, { weight: 100, pauseSeconds: 0 }], analysis: { intervalSeconds: 1 }, taskQueues }],
      });
      started.push(canary.workflowId);
      await until('the A/B test to look on build N', () => ab.query(abStatusQuery), (s) => s.looks >= 3);
      await until('the canary to reach its first step', () => canary.query(rolloutStatusQuery), (s) => s.decisions.some((d) => d.action === 'step'));
      await canary.executeUpdate(pauseUpdate, { args: ['waiting for the weekend to end'] });
      expect((await canary.query(rolloutStatusQuery)).state).toBe('paused');
      const looksOnN = (await ab.query(abStatusQuery)).looks;
      workerN.shutdown();
      await runN;

      // Build N+1 takes over the same task queue.
      const workerN1 = await Worker.create({ connection, namespace, taskQueue: env.taskQueues.workflows, workflowsPath: nextBuild });
      const runN1 = workerN1.run();
      try {
        const abN1 = env.client.workflow.getHandle(`ab-${abModel}`);
        const canaryN1 = env.client.workflow.getHandle(`canary-${canaryModel}`);
        // Both answer on N+1 (a replay of build N's history), and the A/B test keeps looking there.
        await until('the A/B test to look on build N+1', () => abN1.query(abStatusQuery), (s) => s.looks >= looksOnN + 3);
        const paused = await canaryN1.query(rolloutStatusQuery);
        expect(paused.state).toBe('paused');
        expect(paused.decisions.map((d) => d.action).slice(0, 3)).toEqual(['deploy', 'step', 'pause']);
        expect((await getTrafficWeights(env.db, canaryModel)).weights).toMatchObject({ '1': 7_000, '2': 3_000 });

        await abN1.signal(abStopSignal, 'upgrade test done');
        const abResult = (await abN1.result()) as ABTestResult;
        expect(abResult.decision.kind).toBe('no-winner');
        expect(abResult.looks).toBeGreaterThanOrEqual(looksOnN + 3);
        expect((await abN1.query(abStatusQuery)).state).toBe('stopped');

        await canaryN1.executeUpdate(resumeUpdate, { args: [] });
        await canaryN1.executeUpdate(promoteUpdate, { args: ['the weekend is over'] });
        const canaryResult = (await canaryN1.result()) as RolloutResult;
        expect(canaryResult).toMatchObject({ outcome: 'promoted', stableVersion: '1', candidateVersion: '2' });
        expect((await getTrafficWeights(env.db, canaryModel)).weights).toMatchObject({ '2': 10_000 });
        const actions = (await canaryN1.query(rolloutStatusQuery)).decisions.map((d) => d.action);
        expect(actions.slice(0, 4)).toEqual(['deploy', 'step', 'pause', 'resume']);
        expect(actions).toContain('promote');

        for (const h of [abN1, canaryN1]) {
          const history = await h.fetchHistory();
          expect(workflowTaskFailures(history)).toEqual([]);
          // What the next worker restart will do: replay the whole of it on N+1.
          await expect(Worker.runReplayHistory({ workflowsPath: nextBuild }, history, h.workflowId)).resolves.toBeUndefined();
        }
      } finally {
        workerN1.shutdown();
        await runN1;
      }
    } finally {
      trafficDone = true;
      await traffic;
      await gateway.close();
      for (const id of started) await env.client.workflow.getHandle(id).terminate('upgrade test cleanup').catch(() => undefined);
      for (const w of activityWorkers) w.shutdown();
      await Promise.all(activityRuns);
      await connection.close();
    }
  }, 300_000);
});
