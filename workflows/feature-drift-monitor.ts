/**
 * FeatureDriftMonitor (`feature-drift-<model>`): every poll, one check of the model's newest served
 * features against the serving champion's training data (activity checkFeatureDrift: PSI and KS
 * per feature). A check that flags a feature is a feature drift event — recorded by the activity,
 * shown in the status query and the Temporal UI — and, when the monitor was given a retraining,
 * answered by one Retraining child (`retrain-<model>-feature-drift-<event>`, abandoned so it
 * outlives the monitor), before any label has arrived. After an event the next check judges only
 * rows served after that event's window, so one shift is one event, not one per poll.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { createActivities } from '../activities/index';
import type { FeatureDriftSummary } from '../activities/feature-drift';
import { MODEL_NAME, PIPELINE_STAGE } from '../config/search-attributes';
import { INVALID_INPUT, NON_RETRYABLE_TYPES } from '../lib/failure-types';
import { checkFeatureDriftMonitor, featureDriftRetrainingId, type FeatureDriftMonitorInput } from '../lib/retraining/feature-drift-spec';
import type { RetrainingInput } from '../lib/retraining/spec';
import { proxyControlActivities } from './control-activities';

type Activities = ReturnType<typeof createActivities>;

export interface FeatureDriftEventSummary {
  eventId: string;
  windowEnd: string | null;
  features: FeatureDriftSummary['moved'];
  retrainingWorkflowId?: string;
  note: string;
}

export interface FeatureDriftCarry {
  checks: number;
  /** Rows served up to here were judged in an event already. */
  newerThan?: string;
  recentEvents: FeatureDriftEventSummary[];
  retrainingsStarted: number;
}

export interface FeatureDriftMonitorStatus {
  workflowId: string;
  model: string;
  state: 'watching' | 'stopped';
  checks: number;
  lastCheck?: FeatureDriftSummary & { at: string };
  recentEvents: FeatureDriftEventSummary[];
  retrainingsStarted: number;
}

export const featureDriftStatusQuery = wf.defineQuery<FeatureDriftMonitorStatus>('status');
export const stopFeatureDriftSignal = wf.defineSignal<[string?]>('stop');

const EVENTS_KEPT = 10;

export async function FeatureDriftMonitor(input: FeatureDriftMonitorInput, carried?: FeatureDriftCarry): Promise<FeatureDriftMonitorStatus> {
  const info = wf.workflowInfo();
  let stopped = false;
  wf.setHandler(stopFeatureDriftSignal, () => void (stopped = true));
  const checked = checkFeatureDriftMonitor(input);
  if (!checked.ok) throw ApplicationFailure.create({ type: INVALID_INPUT, message: checked.message, nonRetryable: true });
  const cfg = checked.value;
  const acts = proxyControlActivities<Activities>(cfg.taskQueues, {
    // Reads of a window of rows and the champion's training data: quick, on the control queue.
    startToCloseTimeout: '60 seconds',
    retry: { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
  });
  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: cfg.model }, { key: PIPELINE_STAGE, value: 'feature-drift-watch' }]);

  const carry: FeatureDriftCarry = carried ?? { checks: 0, recentEvents: [], retrainingsStarted: 0 };
  let lastCheck: FeatureDriftMonitorStatus['lastCheck'];
  const status = (): FeatureDriftMonitorStatus => ({
    workflowId: info.workflowId,
    model: cfg.model,
    state: stopped ? 'stopped' : 'watching',
    checks: carry.checks,
    lastCheck,
    recentEvents: carry.recentEvents,
    retrainingsStarted: carry.retrainingsStarted,
  });
  wf.setHandler(featureDriftStatusQuery, status);

  const startRetraining = async (eventId: string): Promise<{ workflowId?: string; note: string }> => {
    if (!cfg.retraining) return { note: 'features moved; no retraining configured' };
    const running = await acts.runningRetraining({ model: cfg.model });
    if (running) return { note: `features moved; retraining ${running} is still running, so none was added` };
    const workflowId = featureDriftRetrainingId(cfg.model, eventId);
    const args: RetrainingInput = { ...cfg.retraining, model: cfg.model, trigger: { kind: 'drift', monitorId: info.workflowId, event: Number(eventId) }, taskQueues: cfg.taskQueues };
    try {
      await wf.startChild('Retraining', {
        workflowId,
        taskQueue: info.taskQueue,
        args: [args],
        parentClosePolicy: 'ABANDON',
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [{ key: MODEL_NAME, value: cfg.model }],
        staticSummary: `Retrain ${cfg.model} after feature drift event ${eventId}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return { workflowId, note: `features moved; ${workflowId} had already been started for this event` };
    }
    await acts.noteFeatureDriftRetraining({ eventId, retrainingWorkflowId: workflowId });
    carry.retrainingsStarted++;
    return { workflowId, note: 'features moved: retraining started' };
  };

  for (let polls = 0; !stopped; polls++) {
    if (polls >= cfg.pollsPerRun || wf.workflowInfo().continueAsNewSuggested) await wf.continueAsNew<typeof FeatureDriftMonitor>(input, carry);
    const r = await acts.checkFeatureDrift({
      model: cfg.model,
      windowRows: cfg.windowRows,
      options: { psiThreshold: cfg.psiThreshold, ksAlpha: cfg.ksAlpha, minSample: cfg.minSample },
      source: info.workflowId,
      ...(carry.newerThan ? { newerThan: carry.newerThan } : {}),
    });
    carry.checks++;
    lastCheck = { ...r, at: new Date().toISOString() };
    if (r.eventId) {
      const started = await startRetraining(r.eventId);
      const summary: FeatureDriftEventSummary = { eventId: r.eventId, windowEnd: r.windowEnd, features: r.moved, retrainingWorkflowId: started.workflowId, note: started.note };
      carry.recentEvents = [...carry.recentEvents, summary].slice(-EVENTS_KEPT);
      if (r.windowEnd) carry.newerThan = r.windowEnd;
      wf.setCurrentDetails(`**${cfg.model}** feature drift event ${r.eventId}: ${r.moved.map((m) => `${m.name} PSI ${m.psi.toFixed(2)}`).join(', ')}; ${started.note}`);
    }
    await wf.condition(() => stopped, cfg.pollSeconds * 1000);
  }
  wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'feature-drift-stopped' }]);
  return { ...status(), state: 'stopped' };
}
