/**
 * CanaryRollout on the time-skipping test server: the real workflow, judge and step controller on
 * scripted traffic evidence. Rollback on a bad error rate, a pause held across hours of simulated
 * time and resumed to promotion, the evidence wait (maxEvidenceWaitSeconds, 2 h) ending in a
 * pause for a person and an abort from there, and a cancellation: each in well under a second or
 * a few of wall time.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { CanaryRolloutInput } from '../../lib/rollout/spec';
import { abortUpdate, pauseUpdate, resumeUpdate, rolloutStatusQuery, type CanaryRollout } from '../../workflows/canary-rollout';
import { HEALTHY, scriptedServing } from './helpers/scripted-serving';
import { hasTestServer, NO_TEST_SERVER, openTimeSkipping, type Queues, type TimeSkipping } from './helpers/time-skipping';

const MODEL = 'iris';
const STABLE = '3';
const CANDIDATE = '4';
const HOUR = 3_600_000;
const INTERVAL_S = 300;

if (!hasTestServer) console.warn(`skipping the time-skipping canary tests: ${NO_TEST_SERVER}`);

describe.skipIf(!hasTestServer)('CanaryRollout with simulated time', () => {
  let ts: TimeSkipping;
  // A server per test: a failing test leaves nothing behind that could hold the next one's clock.
  beforeEach(async () => {
    ts = await openTimeSkipping();
  });
  afterEach(async () => {
    await ts?.close();
  });

  const input = (queues: Queues, steps: CanaryRolloutInput['steps']): CanaryRolloutInput => ({
    model: MODEL,
    candidateVersion: CANDIDATE,
    // No stableVersion: the workflow takes the version serving the most traffic, as `flywheel canary` does.
    steps,
    analysis: { intervalSeconds: INTERVAL_S },
    taskQueues: { cpu: queues.cpu, control: queues.control },
  });
  const start = (queues: Queues, steps: CanaryRolloutInput['steps'], analysis: CanaryRolloutInput['analysis'] = {}) =>
    ts.env.client.workflow.start<typeof CanaryRollout>('CanaryRollout', { taskQueue: queues.workflows, workflowId: `canary-${MODEL}-${queues.workflows}`, args: [{ ...input(queues, steps), analysis: { intervalSeconds: INTERVAL_S, ...analysis } }] });
  const candidateWeights = (calls: Array<{ weights: Record<string, number> }>) => calls.map((c) => c.weights[CANDIDATE]);

  it('rolls a candidate with a bad error rate back at the first look: stable gets all traffic again, the candidate is rejected', async () => {
    const serving = scriptedServing({
      model: MODEL,
      weights: { [STABLE]: 10_000 },
      rps: 100,
      behaviour: { [STABLE]: HEALTHY, [CANDIDATE]: { ...HEALTHY, errorRate: 0.2 } },
    });
    await ts.withWorkers(serving.activities, async (queues) => {
      const handle = await start(queues, [{ weight: 10, pauseSeconds: 1800 }, { weight: 50, pauseSeconds: 1800 }, { weight: 100, pauseSeconds: 0 }]);
      const result = await handle.result();

      expect(result).toMatchObject({ outcome: 'rolled-back', stableVersion: STABLE, candidateVersion: CANDIDATE, analyses: 1 });
      expect(result.reason).toMatch(/^analysis failed at step 1 \(10%\): error rate 0\.2 .* worse than stable/);
      // The candidate's weight went to 10% and straight back to 0; the stable version has the rest.
      const sets = serving.log.of('setTrafficWeights');
      expect(sets.map((s) => s.weights)).toEqual([{ [CANDIDATE]: 1000, [STABLE]: 9000 }, { [CANDIDATE]: 0, [STABLE]: 10_000 }]);
      expect(serving.weights).toEqual({ [STABLE]: 10_000, [CANDIDATE]: 0 });
      expect(serving.log.of('rejectCandidate')).toEqual([{ model: MODEL, version: CANDIDATE, reason: result.reason, workflowId: handle.workflowId }]);
      expect(serving.log.of('promoteChampion')).toEqual([]);
      // Judged once, one analysis interval after the step began (simulated time).
      const at = serving.log.calls.filter((c) => c.name === 'setTrafficWeights').map((c) => c.at);
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(INTERVAL_S * 1000);
      expect(at[1]! - at[0]!).toBeLessThan(2 * INTERVAL_S * 1000);

      const status = await handle.query(rolloutStatusQuery);
      expect(status).toMatchObject({ state: 'rolled-back', step: 1, stableVersion: STABLE, judge: 'sequential', failures: 1, weights: { [STABLE]: 10_000, [CANDIDATE]: 0 } });
      expect(status.analyses.map((a) => a.verdict)).toEqual(['fail']);
      expect(status.decisions.map((d) => d.action)).toEqual(['deploy', 'step', 'rollback']);
    });
  });

  it('holds a paused rollout at its step across six simulated hours (looks go on), and a resume takes it on to promotion', async () => {
    const serving = scriptedServing({ model: MODEL, weights: { [STABLE]: 10_000 }, rps: 100, behaviour: { [STABLE]: HEALTHY, [CANDIDATE]: HEALTHY } });
    await ts.withWorkers(serving.activities, async (queues) => {
      const handle = await start(queues, [{ weight: 10, pauseSeconds: 1800 }, { weight: 50, pauseSeconds: 1800 }, { weight: 100, pauseSeconds: 0 }]);
      await serving.log.waitFor('setTrafficWeights', (i) => i.weights[CANDIDATE] === 1000);
      const paused = await handle.executeUpdate(pauseUpdate, { args: ['hold for the weekend'] });
      expect(paused.state).toBe('paused');

      const pausedAt = await ts.now();
      const looksBefore = serving.log.of('collectRolloutWindow').length;
      await ts.env.sleep(6 * HOUR);
      expect((await ts.now()) - pausedAt).toBeGreaterThanOrEqual(6 * HOUR);

      const held = await handle.query(rolloutStatusQuery);
      expect(held).toMatchObject({ state: 'paused', step: 1, weights: { [CANDIDATE]: 1000, [STABLE]: 9000 } });
      // Six hours of looks every 5 minutes, still judged (a regression could still roll back) …
      expect(serving.log.of('collectRolloutWindow').length - looksBefore).toBeGreaterThanOrEqual((6 * 3600) / INTERVAL_S - 1);
      // … and passing, yet the step does not advance while paused.
      expect(held.analyses.at(-1)!.verdict).toBe('pass');
      expect(candidateWeights(serving.log.of('setTrafficWeights'))).toEqual([1000]);
      expect(serving.log.of('promoteChampion')).toEqual([]);

      const resumed = await handle.executeUpdate(resumeUpdate);
      expect(resumed.state).toBe('progressing');
      // The workflow's own clock: a look in flight at the resume may advance the step before this test reads the server's.
      const resumedAt = Date.parse(resumed.decisions.find((d) => d.action === 'resume')!.at);
      const result = await handle.result();

      expect(result).toMatchObject({ outcome: 'promoted', stableVersion: STABLE, candidateVersion: CANDIDATE });
      expect(result.reason).toMatch(/^passed \d+ analyses over 3 steps$/);
      // The last step (100%, no pause) sets 100%, and promotion sets it again (idempotent).
      expect(candidateWeights(serving.log.of('setTrafficWeights'))).toEqual([1000, 5000, 10_000, 10_000]);
      const step2 = serving.log.calls.find((c) => c.name === 'setTrafficWeights' && c.input.weights[CANDIDATE] === 5000)!;
      expect(step2.at).toBeGreaterThanOrEqual(resumedAt);
      expect(serving.log.of('promoteChampion')).toEqual([{ model: MODEL, version: CANDIDATE, reason: result.reason, workflowId: handle.workflowId }]);
      expect(serving.log.of('rejectCandidate')).toEqual([]);
      const status = await handle.query(rolloutStatusQuery);
      expect(status.state).toBe('promoted');
      // The pause arrived while step 1's weight change was in flight: its decision may be recorded before or after that step's.
      const actions = status.decisions.map((d) => d.action);
      expect(actions.filter((a) => a !== 'pause')).toEqual(['deploy', 'step', 'resume', 'step', 'step', 'complete']);
      expect(actions.filter((a) => a === 'pause')).toHaveLength(1);
      expect(actions.indexOf('pause')).toBeLessThan(actions.indexOf('resume'));
    });
  });

  it('waits maxEvidenceWaitSeconds (2 h) at the gate for evidence that never comes, pauses for a person, and an abort gives stable its traffic back', async () => {
    // The candidate serves well, but its labels never arrive: accuracy can never be shown not to regress.
    const serving = scriptedServing({
      model: MODEL,
      weights: { [STABLE]: 10_000 },
      rps: 100,
      behaviour: { [STABLE]: HEALTHY, [CANDIDATE]: { ...HEALTHY, labelShare: 0 } },
    });
    await ts.withWorkers(serving.activities, async (queues) => {
      const pauseMs = 600_000;
      const handle = await start(queues, [{ weight: 10, pauseSeconds: 600 }, { weight: 50, pauseSeconds: 600 }, { weight: 100, pauseSeconds: 0 }]);
      await serving.log.waitFor('setTrafficWeights', (i) => i.weights[CANDIDATE] === 1000);
      // Step 1 is not the gate: inconclusive evidence advances it once its pause is over.
      await ts.env.sleep(HOUR);
      const gate = serving.log.calls.find((c) => c.name === 'setTrafficWeights' && c.input.weights[CANDIDATE] === 5000);
      expect(gate, 'the rollout reached the gate step').toBeDefined();
      const deadline = gate!.at + pauseMs + 7200_000;

      // One interval before the evidence wait ends: still waiting.
      await ts.env.sleep(deadline - INTERVAL_S * 1000 - (await ts.now()));
      const waiting = await handle.query(rolloutStatusQuery);
      expect(waiting).toMatchObject({ state: 'progressing', step: 2 });
      expect(waiting.analyses.at(-1)!.verdict).toBe('inconclusive');
      expect(waiting.analyses.at(-1)!.reason).toMatch(/accuracy/);

      // Past it: paused for a person, at the first look after the deadline.
      await ts.env.sleep(2 * INTERVAL_S * 1000);
      const paused = await handle.query(rolloutStatusQuery);
      expect(paused).toMatchObject({ state: 'paused', step: 2, weights: { [CANDIDATE]: 5000, [STABLE]: 5000 } });
      const pause = paused.decisions.find((d) => d.action === 'pause')!;
      expect(pause.reason).toMatch(/^step 2: no evidence of no regression 7200s after the pause .*; resume, promote or abort$/);
      expect(Date.parse(pause.at)).toBeGreaterThanOrEqual(deadline);
      expect(Date.parse(pause.at)).toBeLessThan(deadline + INTERVAL_S * 1000 + 60_000);
      expect(serving.log.of('promoteChampion')).toEqual([]);

      await handle.executeUpdate(abortUpdate, { args: ['labels never arrived for v4'] });
      const result = await handle.result();
      expect(result).toMatchObject({ outcome: 'rolled-back', reason: 'labels never arrived for v4' });
      expect(candidateWeights(serving.log.of('setTrafficWeights'))).toEqual([1000, 5000, 0]);
      expect(serving.weights).toEqual({ [STABLE]: 10_000, [CANDIDATE]: 0 });
      expect(serving.log.of('rejectCandidate')).toEqual([{ model: MODEL, version: CANDIDATE, reason: 'labels never arrived for v4', workflowId: handle.workflowId }]);
      expect((await handle.query(rolloutStatusQuery)).decisions.map((d) => d.action)).toEqual(['deploy', 'step', 'step', 'pause', 'rollback']);
    });
  });

  it('a cancelled rollout gives stable all traffic back and records the candidate as aborted', async () => {
    const serving = scriptedServing({ model: MODEL, weights: { [STABLE]: 10_000 }, rps: 100, behaviour: { [STABLE]: HEALTHY, [CANDIDATE]: HEALTHY } });
    await ts.withWorkers(serving.activities, async (queues) => {
      const handle = await start(queues, [{ weight: 25, pauseSeconds: 3600 }, { weight: 100, pauseSeconds: 0 }]);
      await serving.log.waitFor('setTrafficWeights', (i) => i.weights[CANDIDATE] === 2500);
      await ts.env.sleep(HOUR / 2);
      await handle.cancel();
      const err = await handle.result().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect(serving.weights).toEqual({ [STABLE]: 10_000, [CANDIDATE]: 0 });
      expect(serving.log.of('rejectCandidate')).toEqual([{ model: MODEL, version: CANDIDATE, reason: 'aborted: the rollout workflow was cancelled', workflowId: handle.workflowId }]);
      const status = await handle.query(rolloutStatusQuery);
      expect(status.state).toBe('cancelled');
      expect(status.decisions.at(-1)!.action).toBe('cancel');
    });
  });

  // The whole is alike (candidate 10% wrong labels as stable), but plan=pro (a fifth of requests)
  // gets 30% wrong from the candidate against stable's 10%: the rest's 5% hides it in the average.
  const SEGMENTED = {
    [STABLE]: HEALTHY,
    [CANDIDATE]: HEALTHY,
  };
  const PRO_WORSE = { 'plan=pro': { share: 0.2, behaviour: { [STABLE]: HEALTHY, [CANDIDATE]: { ...HEALTHY, wrongRate: 0.3 } } } };

  it('rolls back a candidate worse within a named segment while the whole holds, naming the segment', async () => {
    const serving = scriptedServing({ model: MODEL, weights: { [STABLE]: 10_000 }, rps: 20, behaviour: SEGMENTED, segments: PRO_WORSE });
    await ts.withWorkers(serving.activities, async (queues) => {
      const handle = await start(queues, [{ weight: 10, pauseSeconds: 1800 }, { weight: 50, pauseSeconds: 1800 }, { weight: 100, pauseSeconds: 0 }], { segmentGuardrails: [{ attribute: 'plan', value: 'pro' }] });
      const result = await handle.result();

      expect(result.outcome).toBe('rolled-back');
      expect(result.reason).toMatch(/^analysis failed at step \d \(\d+%\): segment plan=pro: accuracy: wrong-label rate 0\.3\d* \(\d+\/\d+\) vs stable 0\.(1|099)\d* \(\d+\/\d+\): worse than stable within the segment/);
      expect(serving.weights).toEqual({ [STABLE]: 10_000, [CANDIDATE]: 0 });
      expect(serving.log.of('rejectCandidate')).toEqual([{ model: MODEL, version: CANDIDATE, reason: result.reason, workflowId: handle.workflowId }]);
      expect(serving.log.of('promoteChampion')).toEqual([]);
      // Every look asked for the segment's counts, and no whole-traffic check failed.
      const looks = serving.log.of('collectRolloutWindow').slice(1);
      expect(looks.length).toBeGreaterThan(0);
      expect(looks.every((l) => l.segments?.[0]?.attribute === 'plan' && l.segments[0].value === 'pro')).toBe(true);
      const status = await handle.query(rolloutStatusQuery);
      const last = status.analyses.at(-1)!;
      expect(last.checks.filter((c) => !c.segment).map((c) => c.verdict)).not.toContain('fail');
      expect(last.checks.find((c) => c.segment === 'plan=pro' && c.metric === 'accuracy')!.verdict).toBe('fail');
      // The replay set's history of this shape (test/unit/replay.test.ts): FLYWHEEL_RECORD_HISTORY=1 rewrites it.
      if (process.env.FLYWHEEL_RECORD_HISTORY === '1') writeFileSync(new URL('../fixtures/canary-rollout-segment-rollback.history.json', import.meta.url), historyToJSON(await handle.fetchHistory()));
    });
  });

  it('without the guardrail the same candidate is promoted: the average hides the segment', async () => {
    const serving = scriptedServing({ model: MODEL, weights: { [STABLE]: 10_000 }, rps: 20, behaviour: SEGMENTED, segments: PRO_WORSE });
    await ts.withWorkers(serving.activities, async (queues) => {
      const handle = await start(queues, [{ weight: 10, pauseSeconds: 1800 }, { weight: 50, pauseSeconds: 1800 }, { weight: 100, pauseSeconds: 0 }]);
      const result = await handle.result();
      expect(result.outcome).toBe('promoted');
      expect(serving.log.of('collectRolloutWindow').every((l) => l.segments === undefined)).toBe(true);
    });
  });
});
