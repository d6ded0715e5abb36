/**
 * DriftMonitor on the time-skipping test server, with scripted outcomes: a model served at 5 %
 * errors, then at 40 %. On production data the retraining must wait for `minNewLabels` outcomes
 * served after the rise and learn only what was served from then on (`production:…@<since>`); on a
 * configured dataset it starts at the rise, as before. The real workflow and ADWIN; the Retraining
 * child is stopped at its first activity (what it was asked to learn is all this test looks at).
 * Polls every 0.1 s of real time: the server skips time only while a client awaits a result.
 */
import { writeFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Outcomes } from '../../activities/drift';
import type { DriftMonitorInput } from '../../lib/retraining/spec';
import { driftStatusQuery, stopSignal, type DriftMonitor } from '../../workflows/drift-monitor';
import { CallLog, hasTestServer, NO_TEST_SERVER, openTimeSkipping, type Queues, type TimeSkipping } from './helpers/time-skipping';

const MODEL = 'churn';
const BATCH = 500;
const CALM_BATCHES = 6;

if (!hasTestServer) console.warn(`skipping the time-skipping drift monitor tests: ${NO_TEST_SERVER}`);

/** Batch k (0-based): 500 outcomes, every 20th wrong while calm, then 2 in 5; served up to second k. */
function scriptedOutcomes(log: CallLog) {
  let k = 0;
  return {
    async openDriftMonitor(input: { model: string }) {
      log.record('openDriftMonitor', input, Date.now());
      return { cursor: '0', lastEvent: 0 };
    },
    async readOutcomes(input: { cursor: string }): Promise<Outcomes> {
      const batch = k++;
      log.record('readOutcomes', { ...input, batch }, Date.now());
      const errors = Array.from({ length: BATCH }, (_, i) => (batch < CALM_BATCHES ? (i % 20 === 0 ? 1 : 0) : i % 5 < 2 ? 1 : 0));
      return { cursor: String((batch + 1) * BATCH), errors, more: false, to: servedUpTo(batch) };
    },
    async runningRetraining() {
      return null;
    },
    async recordDriftEvent(input: unknown) {
      log.record('recordDriftEvent', input, Date.now());
    },
    async noteDriftRetraining(input: unknown) {
      log.record('noteDriftRetraining', input, Date.now());
    },
    async recordRetraining(input: { status: string; dataset: string }) {
      log.record('recordRetraining', input, Date.now());
      if (input.status === 'running') throw ApplicationFailure.create({ type: 'Scripted', message: 'the test looks only at what the retraining was asked', nonRetryable: true });
    },
  };
}

const servedUpTo = (batch: number) => new Date(Date.UTC(2026, 11, 3, 9, 0, batch)).toISOString();

describe.skipIf(!hasTestServer)('DriftMonitor with simulated time', () => {
  let ts: TimeSkipping;
  beforeEach(async () => {
    ts = await openTimeSkipping();
  });
  afterEach(async () => {
    await ts?.close();
  });

  const start = (queues: Queues, dataset: string) =>
    ts.env.client.workflow.start<typeof DriftMonitor>('DriftMonitor', {
      taskQueue: queues.workflows,
      workflowId: `drift-${MODEL}-${queues.workflows}`,
      args: [{ model: MODEL, retraining: { dataset }, pollSeconds: 0.1, minNewLabels: 600, taskQueues: { cpu: queues.cpu, control: queues.control } } satisfies DriftMonitorInput],
    });

  it('on production data, retrains after 600 labels served since the rise, on those only', async () => {
    const log = new CallLog();
    await ts.withWorkers(scriptedOutcomes(log), async (queues) => {
      const handle = await start(queues, `production:${MODEL}:1h`);
      const event = (await log.waitFor('recordDriftEvent')).input;
      expect(event).toMatchObject({ event: 1, change: { direction: 'increase' }, note: expect.stringMatching(/starts after 600 labelled outcomes served after the change/) });
      expect(event.retrainingWorkflowId).toBeUndefined();
      const riseBatch = Math.floor((event.change.sample - 1) / BATCH);
      expect(riseBatch).toBe(CALM_BATCHES);

      const noted = (await log.waitFor('noteDriftRetraining')).input;
      expect(noted).toMatchObject({ event: 1, retrainingWorkflowId: expect.stringMatching(/^retrain-churn-drift-1/) });
      // Started once the labels after the rise reached 600: two batches of 500 after the rise's, not one.
      const readsBeforeStart = log.calls.findIndex((c) => c.name === 'noteDriftRetraining');
      const lastRead = log.calls.slice(0, readsBeforeStart).filter((c) => c.name === 'readOutcomes').pop()!.input.batch;
      expect(BATCH * (lastRead + 1) - event.change.sample).toBeGreaterThanOrEqual(600);
      expect(BATCH * lastRead - event.change.sample).toBeLessThan(600);
      const asked = (await log.waitFor('recordRetraining')).input;
      expect(asked.dataset).toBe(`production:${MODEL}:1h@${servedUpTo(riseBatch)}`);

      const status = await handle.query(driftStatusQuery);
      expect(status.waitingForLabels).toBeUndefined();
      expect(status.retrainingsStarted).toBe(1);
      await handle.signal(stopSignal, 'test done');
      await handle.result();
      // The replay set's history of this shape (test/unit/replay.test.ts): FLYWHEEL_RECORD_HISTORY=1 rewrites it.
      if (process.env.FLYWHEEL_RECORD_HISTORY === '1') writeFileSync(new URL('../fixtures/drift-monitor-waits.history.json', import.meta.url), historyToJSON(await handle.fetchHistory()));
    });
  }, 120_000);

  it('on a configured dataset, retrains at the rise', async () => {
    const log = new CallLog();
    await ts.withWorkers(scriptedOutcomes(log), async (queues) => {
      const handle = await start(queues, 'iris');
      const event = (await log.waitFor('recordDriftEvent')).input;
      expect(event).toMatchObject({ event: 1, retrainingWorkflowId: expect.stringMatching(/^retrain-churn-drift-1/), note: 'error rate rose: retraining started' });
      expect((await log.waitFor('recordRetraining')).input.dataset).toBe('iris');
      expect(log.of('noteDriftRetraining')).toEqual([]);
      await handle.signal(stopSignal, 'test done');
      await handle.result();
    });
  }, 120_000);
});
