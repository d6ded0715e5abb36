/**
 * ABTest on the time-skipping test server: three days of hourly looks end "inconclusive" at the
 * maximum duration, a stop signal a simulated day in ends the test without a winner, a better arm
 * wins, and each end leaves the traffic where the decision puts it. The real workflow and
 * statistics (mSPRT, sequential SRM) on scripted, deterministic arm counts.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { ABTestInput } from '../../lib/experiment/spec';
import { abStatusQuery, stopSignal, type ABTest } from '../../workflows/ab-test';
import { HEALTHY, scriptedServing, type Behaviour } from './helpers/scripted-serving';
import { hasTestServer, NO_TEST_SERVER, openTimeSkipping, type Queues, type TimeSkipping } from './helpers/time-skipping';

const MODEL = 'penguins';
const CONTROL = '7';
const TREATMENT = '8';
const HOUR = 3_600_000;
const MAX_DURATION_S = 3 * 86_400;

if (!hasTestServer) console.warn(`skipping the time-skipping A/B tests: ${NO_TEST_SERVER}`);

describe.skipIf(!hasTestServer)('ABTest with simulated time', () => {
  let ts: TimeSkipping;
  // A server per test: a failing test leaves nothing behind that could hold the next one's clock.
  beforeEach(async () => {
    ts = await openTimeSkipping();
  });
  afterEach(async () => {
    await ts?.close();
  });

  const serving = (treatment: Behaviour) =>
    scriptedServing({ model: MODEL, weights: { [CONTROL]: 10_000, [TREATMENT]: 0 }, rps: 5, behaviour: { [CONTROL]: HEALTHY, [TREATMENT]: treatment } });
  const start = (queues: Queues, extra: Partial<ABTestInput> = {}) =>
    ts.env.client.workflow.start<typeof ABTest>('ABTest', {
      taskQueue: queues.workflows,
      workflowId: `ab-${MODEL}-${queues.workflows}`,
      args: [
        {
          model: MODEL,
          versions: [CONTROL, TREATMENT],
          primaryMetric: 'accuracy',
          tau2: 0.001,
          maxDurationSeconds: MAX_DURATION_S,
          checkIntervalSeconds: 3600,
          taskQueues: { cpu: queues.cpu, control: queues.control },
          ...extra,
        },
      ],
    });

  it('ends "inconclusive" at maxDurationSeconds (3 days of hourly looks) and gives the control all traffic back', async () => {
    const s = serving(HEALTHY);
    await ts.withWorkers(s.activities, async (queues) => {
      const handle = await start(queues);
      const result = await handle.result();

      expect(result.decision).toEqual({ kind: 'inconclusive', reason: expect.stringMatching(/^no significant difference after 259200s \(v7 n=\d+, v8 n=\d+\)$/) });
      expect(result.looks).toBe(MAX_DURATION_S / 3600);
      expect(s.log.of('deployVersion').map((d) => d.version)).toEqual([CONTROL, TREATMENT]);
      expect(s.log.of('setTrafficWeights').map((w) => w.weights)).toEqual([{ [CONTROL]: 5000, [TREATMENT]: 5000 }, { [CONTROL]: 10_000 }]);
      expect(s.weights).toEqual({ [CONTROL]: 10_000, [TREATMENT]: 0 });
      const looks = s.log.calls.filter((c) => c.name === 'collectExperimentMetrics').map((c) => c.at);
      expect(looks.at(-1)! - looks[0]!).toBeGreaterThanOrEqual(MAX_DURATION_S * 1000 - HOUR);
      const status = await handle.query(abStatusQuery);
      expect(status).toMatchObject({ state: 'concluded', looks: 72, decision: { kind: 'inconclusive' } });
      expect(status.elapsedSeconds).toBeGreaterThanOrEqual(MAX_DURATION_S);
      expect(status.latest!.srm!.mismatch).toBe(false);
    });
  });

  it('a stop signal a simulated day in ends the test at once without a winner; the control takes all traffic', async () => {
    const s = serving(HEALTHY);
    await ts.withWorkers(s.activities, async (queues) => {
      const handle = await start(queues);
      await s.log.waitFor('setTrafficWeights');
      await ts.env.sleep(24 * HOUR + HOUR / 2);
      const running = await handle.query(abStatusQuery);
      expect(running).toMatchObject({ state: 'running', looks: 24 });
      expect(running.latest!.decision.kind).toBe('continue');

      await handle.signal(stopSignal, 'launch freeze');
      const result = await handle.result();
      expect(result.decision).toEqual({ kind: 'no-winner', reason: 'stopped: launch freeze' });
      // The stop wakes the test at once: one more look, not a full interval later.
      expect(result.looks).toBe(25);
      expect(s.weights).toEqual({ [CONTROL]: 10_000, [TREATMENT]: 0 });
      const status = await handle.query(abStatusQuery);
      expect(status.state).toBe('stopped');
    });
  });

  it('a clearly better arm wins before the maximum duration and takes all traffic', async () => {
    const s = serving({ ...HEALTHY, wrongRate: 0.05 });
    await ts.withWorkers(s.activities, async (queues) => {
      const handle = await start(queues);
      const result = await handle.result();
      expect(result.decision).toMatchObject({ kind: 'winner', version: TREATMENT });
      expect(result.looks).toBeLessThan(MAX_DURATION_S / 3600);
      expect(s.log.of('setTrafficWeights').map((w) => w.weights).at(-1)).toEqual({ [TREATMENT]: 10_000 });
      expect(s.weights).toEqual({ [CONTROL]: 0, [TREATMENT]: 10_000 });
      expect((await handle.query(abStatusQuery)).state).toBe('concluded');
    });
  });

  it('halts when the arm is worse than the control within a named segment while its average holds (the control takes all traffic)', async () => {
    // Both arms 10 % wrong overall; in plan=pro (a fifth of requests) the treatment is 30 % wrong.
    const s = scriptedServing({
      model: MODEL,
      weights: { [CONTROL]: 10_000, [TREATMENT]: 0 },
      rps: 5,
      behaviour: { [CONTROL]: HEALTHY, [TREATMENT]: HEALTHY },
      segments: { 'plan=pro': { share: 0.2, behaviour: { [CONTROL]: HEALTHY, [TREATMENT]: { ...HEALTHY, wrongRate: 0.3 } } } },
    });
    await ts.withWorkers(s.activities, async (queues) => {
      const handle = await start(queues, { guardrails: { segments: [{ attribute: 'plan', value: 'pro' }] } });
      const result = await handle.result();
      expect(result.decision).toMatchObject({ kind: 'guardrail', version: TREATMENT });
      expect(result.decision.reason).toMatch(/^guardrail: v8 is worse than control v7 within segment plan=pro: wrong-label rate 0\.3\d* \(\d+\/\d+\) vs 0\.(1|099)\d* /);
      expect(result.looks).toBeLessThan(MAX_DURATION_S / 3600);
      expect(s.log.of('collectExperimentMetrics').every((c) => c.segments?.[0]?.value === 'pro')).toBe(true);
      expect(s.weights).toEqual({ [CONTROL]: 10_000, [TREATMENT]: 0 });
      const status = await handle.query(abStatusQuery);
      expect(status.state).toBe('halted');
      expect(status.latest!.decision.kind).toBe('guardrail');
      // The replay set's history of this shape (test/unit/replay.test.ts): FLYWHEEL_RECORD_HISTORY=1 rewrites it.
      if (process.env.FLYWHEEL_RECORD_HISTORY === '1') writeFileSync(new URL('../fixtures/ab-test-segment-guardrail.history.json', import.meta.url), historyToJSON(await handle.fetchHistory()));
    });
  });

  it('without the segment guardrail the same arm is not halted: the average hides the segment', async () => {
    const s = scriptedServing({
      model: MODEL,
      weights: { [CONTROL]: 10_000, [TREATMENT]: 0 },
      rps: 5,
      behaviour: { [CONTROL]: HEALTHY, [TREATMENT]: HEALTHY },
      segments: { 'plan=pro': { share: 0.2, behaviour: { [CONTROL]: HEALTHY, [TREATMENT]: { ...HEALTHY, wrongRate: 0.3 } } } },
    });
    await ts.withWorkers(s.activities, async (queues) => {
      const handle = await start(queues, { maxDurationSeconds: 86_400 });
      const result = await handle.result();
      expect(result.decision.kind).toBe('inconclusive');
      expect(s.log.of('collectExperimentMetrics').every((c) => c.segments === undefined)).toBe(true);
    });
  });
});
