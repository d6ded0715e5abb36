/**
 * DriftMonitor (`drift-<model>`): watches a model's error stream — labelled feedback joined with
 * what was served, in prediction order — with ADWIN held in the workflow itself (pure and
 * deterministic, rebuilt by replay), polling an activity for outcomes after a feedback-id cursor.
 * A rise in the error rate is a drift event: recorded in `drift_events` and answered by one
 * Retraining child, `retrain-<model>-drift-<n>`, abandoned so it outlives a continue-as-new. A fall
 * (a better model took the traffic) is recorded and left alone. Cursor and ADWIN snapshot cross
 * continue-as-new, so the monitor can run for years on a bounded history.
 *
 * A retraining on production data does not start at the rise: it waits for `minNewLabels` labelled
 * outcomes served after it, then learns only those (`production:<model>:<window>@<since>`). Taken at
 * the moment of detection, the window holds mostly the old concept; its challenger is no better,
 * and the monitor, having reset, sees no further rise: the loop stalled for good
 * (bench/decisions/concept-recovery.ts).
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { createActivities } from '../activities/index';
import { MODEL_NAME, PIPELINE_STAGE } from '../config/search-attributes';
import { INVALID_INPUT, NON_RETRYABLE_TYPES } from '../lib/failure-types';
import { proxyControlActivities } from './control-activities';
import { ErrorMonitor, type ErrorChange, type ErrorMonitorState } from '../lib/retraining/error-monitor';
import { checkDriftMonitor, driftRetrainingId, type DriftMonitorInput, type RetrainingInput } from '../lib/retraining/spec';
import { productionSince } from '../lib/data/reference';

type Activities = ReturnType<typeof createActivities>;

export interface DriftEventSummary extends ErrorChange {
  event: number;
  /** Served time of the last outcome of the batch it was found in. */
  seenUpTo?: string;
  retrainingWorkflowId?: string;
  note: string;
}

export interface DriftMonitorCarry {
  cursor: string;
  monitor: ErrorMonitorState;
  lastEvent: number;
  recentEvents: DriftEventSummary[];
  retrainingsStarted: number;
  /** A rise whose production retraining waits for labels served after it. */
  waiting?: WaitingRetraining;
}

export interface WaitingRetraining {
  event: number;
  /** The outcome (1-based, in the whole stream) that revealed the rise. */
  sample: number;
  /** Served time of the newest outcome read when it was found: the retraining learns from here on. */
  since: string;
}

export interface DriftMonitorStatus {
  workflowId: string;
  model: string;
  state: 'watching' | 'stopped';
  /** Labelled outcomes consumed since the monitor was first started. */
  samples: number;
  /** ADWIN's window and its error-rate estimate. */
  width: number;
  estimation: number;
  detections: number;
  retrainingsStarted: number;
  cursor: string;
  lastEvent?: DriftEventSummary;
  recentEvents: DriftEventSummary[];
  lastPollAt?: string;
  /** A production retraining waiting for labels served after its rise. */
  waitingForLabels?: { event: number; since: string; labelsSeen: number; labelsNeeded: number };
}

export type DriftMonitorResult = Omit<DriftMonitorStatus, 'state'> & { state: 'stopped' };

export const driftStatusQuery = wf.defineQuery<DriftMonitorStatus>('status');
export const stopSignal = wf.defineSignal<[string?]>('stop');

const EVENTS_KEPT = 10;
const WAIT_FOR_NEW_LABELS = 'drift-retraining-waits-for-labels-after-the-rise';

export async function DriftMonitor(input: DriftMonitorInput, carried?: DriftMonitorCarry): Promise<DriftMonitorResult> {
  const info = wf.workflowInfo();
  let stopped = false;
  wf.setHandler(stopSignal, () => void (stopped = true));

  const checked = checkDriftMonitor(input);
  if (!checked.ok) throw ApplicationFailure.create({ type: INVALID_INPUT, message: checked.message, nonRetryable: true });
  const cfg = checked.value;
  const acts = proxyControlActivities<Activities>(cfg.taskQueues, {
    // Control queue: every poll here is a read or one row, and must not wait behind training.
    // Reads of a few thousand rows: a short timeout lets a crashed worker's poll retry soon.
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
  });
  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: cfg.model }, { key: PIPELINE_STAGE, value: 'drift-watch' }]);

  let carry: DriftMonitorCarry;
  if (carried) carry = carried;
  else {
    const opened = await acts.openDriftMonitor({ model: cfg.model });
    carry = { cursor: opened.cursor, monitor: ErrorMonitor.create(cfg.delta).toJSON(), lastEvent: opened.lastEvent, recentEvents: [], retrainingsStarted: 0 };
  }
  const monitor = ErrorMonitor.fromJSON(carry.monitor);
  let lastPollAt: string | undefined;
  const status = (): DriftMonitorStatus => ({
    workflowId: info.workflowId,
    model: cfg.model,
    state: stopped ? 'stopped' : 'watching',
    samples: monitor.samples,
    width: monitor.width,
    estimation: monitor.estimation,
    detections: monitor.detections,
    retrainingsStarted: carry.retrainingsStarted,
    cursor: carry.cursor,
    lastEvent: carry.recentEvents[carry.recentEvents.length - 1],
    recentEvents: carry.recentEvents,
    lastPollAt,
    ...(carry.waiting
      ? { waitingForLabels: { event: carry.waiting.event, since: carry.waiting.since, labelsSeen: monitor.samples - carry.waiting.sample, labelsNeeded: cfg.minNewLabels } }
      : {}),
  });
  wf.setHandler(driftStatusQuery, status);

  const startRetraining = async (event: number, dataset = cfg.retraining.dataset): Promise<{ workflowId?: string; note: string }> => {
    const running = await acts.runningRetraining({ model: cfg.model });
    if (running) return { note: `error rate rose; retraining ${running} is still running, so none was added` };
    const workflowId = driftRetrainingId(cfg.model, event);
    const args: RetrainingInput = { ...cfg.retraining, dataset, model: cfg.model, trigger: { kind: 'drift', monitorId: info.workflowId, event }, taskQueues: cfg.taskQueues };
    try {
      await wf.startChild('Retraining', {
        workflowId,
        taskQueue: info.taskQueue,
        args: [args],
        parentClosePolicy: 'ABANDON',
        // Never a second run under this id, even after the first closed: one retraining per event.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [{ key: MODEL_NAME, value: cfg.model }],
        staticSummary: `Retrain ${cfg.model} after drift event ${event}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return { workflowId, note: `error rate rose; ${workflowId} had already been started for this event` };
    }
    carry.retrainingsStarted++;
    return { workflowId, note: 'error rate rose: retraining started' };
  };

  const learnsProduction = cfg.retraining.dataset.startsWith('production:');
  const waitForLabels = (event: number, sample: number, servedUpTo: string | undefined): { note: string } => {
    if (carry.waiting) return { note: `error rate rose; the retraining for event ${carry.waiting.event} is already waiting for new labels` };
    carry.waiting = { event, sample, since: servedUpTo ?? new Date().toISOString() };
    return { note: `error rate rose: a retraining starts after ${cfg.minNewLabels} labelled outcomes served after the change, and learns only those` };
  };
  const startWaitingRetraining = async (w: WaitingRetraining): Promise<void> => {
    const started = await startRetraining(w.event, productionSince(cfg.retraining.dataset, w.since, []));
    carry.waiting = undefined;
    await acts.noteDriftRetraining({ model: cfg.model, event: w.event, retrainingWorkflowId: started.workflowId, note: started.note });
    carry.recentEvents = carry.recentEvents.map((e) => (e.event === w.event ? { ...e, retrainingWorkflowId: started.workflowId, note: started.note } : e));
    wf.setCurrentDetails(`**${cfg.model}** drift event ${w.event}: ${monitor.samples - w.sample} labelled outcomes since the rise; ${started.note}`);
  };

  for (let polls = 0; !stopped; polls++) {
    if (polls >= cfg.pollsPerRun || wf.workflowInfo().continueAsNewSuggested) {
      carry.monitor = monitor.toJSON();
      await wf.continueAsNew<typeof DriftMonitor>(input, carry);
    }
    const outcomes = await acts.readOutcomes({ model: cfg.model, cursor: carry.cursor, settleSeconds: cfg.settleSeconds, limit: cfg.batchSize });
    lastPollAt = new Date().toISOString();
    carry.cursor = outcomes.cursor;
    for (const change of monitor.feed(outcomes.errors)) {
      const event = ++carry.lastEvent;
      const rise = change.direction === 'increase';
      const started: { workflowId?: string; note: string } = !rise
        ? { note: 'error rate fell: no retraining' }
        : learnsProduction && cfg.minNewLabels > 0 && wf.patched(WAIT_FOR_NEW_LABELS)
          ? waitForLabels(event, change.sample, outcomes.to)
          : await startRetraining(event);
      const summary: DriftEventSummary = { ...change, event, seenUpTo: outcomes.to, retrainingWorkflowId: started.workflowId, note: started.note };
      await acts.recordDriftEvent({ model: cfg.model, event, monitorWorkflowId: info.workflowId, change, retrainingWorkflowId: started.workflowId, note: started.note });
      carry.recentEvents = [...carry.recentEvents, summary].slice(-EVENTS_KEPT);
      wf.setCurrentDetails(`**${cfg.model}** drift event ${event} at sample ${change.sample}: error ${change.before.toFixed(3)} → ${change.after.toFixed(3)}; ${started.note}`);
    }
    if (carry.waiting && monitor.samples - carry.waiting.sample >= cfg.minNewLabels) await startWaitingRetraining(carry.waiting);
    // A full batch means more is waiting: read on at once instead of sleeping.
    if (!outcomes.more) await wf.condition(() => stopped, cfg.pollSeconds * 1000);
  }
  wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'drift-stopped' }]);
  return { ...status(), state: 'stopped' };
}
