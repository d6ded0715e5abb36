/**
 * OnlineSnapshot (`online-snapshot-<name>`): every interval, registers what an online model has
 * learnt as a new version of its base model (activities/online.ts), with the feedback window as
 * lineage. An interval with no new label registers nothing. A `snapshot` signal takes one at
 * once; `stop` ends the workflow (the online model keeps serving: `flywheel online stop` ends it).
 * Each request carries a key made of the workflow id and a counter that crosses continue-as-new,
 * so a retried activity never registers a second version for one request.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { createActivities } from '../activities/index';
import type { SnapshotResult } from '../activities/online';
import { MODEL_NAME, PIPELINE_STAGE } from '../config/search-attributes';
import { INVALID_INPUT, NON_RETRYABLE_TYPES } from '../lib/failure-types';

type Activities = ReturnType<typeof createActivities>;

export interface OnlineSnapshotInput {
  /** The online model's routing name. */
  name: string;
  /** Its base model (for the search attribute). */
  model: string;
  everySeconds: number;
  taskQueues: { cpu: string };
}

export interface OnlineSnapshotCarry {
  requests: number;
  registered: number;
  recent: SnapshotResult[];
}

export interface OnlineSnapshotStatus extends OnlineSnapshotCarry {
  workflowId: string;
  name: string;
  state: 'running' | 'stopped';
  everySeconds: number;
  last?: SnapshotResult;
}

export const onlineStatusQuery = wf.defineQuery<OnlineSnapshotStatus>('status');
export const stopSignal = wf.defineSignal<[string?]>('stop');
export const snapshotSignal = wf.defineSignal('snapshot');

const SNAPSHOTS_PER_RUN = 200;
const KEPT = 10;

export async function OnlineSnapshot(input: OnlineSnapshotInput, carried?: OnlineSnapshotCarry): Promise<OnlineSnapshotStatus> {
  if (!input?.name || !input.model || !(input.everySeconds >= 1) || !input.taskQueues?.cpu) {
    throw ApplicationFailure.create({ type: INVALID_INPUT, message: 'OnlineSnapshot needs name, model, everySeconds ≥ 1 and taskQueues.cpu', nonRetryable: true });
  }
  const info = wf.workflowInfo();
  const acts = wf.proxyActivities<Activities>({
    taskQueue: input.taskQueues.cpu,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1s', maximumInterval: '30s', backoffCoefficient: 2, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
  });
  wf.upsertSearchAttributes([{ key: MODEL_NAME, value: input.model }, { key: PIPELINE_STAGE, value: 'online-learning' }]);
  const carry: OnlineSnapshotCarry = carried ?? { requests: 0, registered: 0, recent: [] };
  let stopped = false;
  let now = false;
  const status = (): OnlineSnapshotStatus => ({ workflowId: info.workflowId, name: input.name, state: stopped ? 'stopped' : 'running', everySeconds: input.everySeconds, ...carry, last: carry.recent[carry.recent.length - 1] });
  wf.setHandler(onlineStatusQuery, status);
  wf.setHandler(stopSignal, () => void (stopped = true));
  wf.setHandler(snapshotSignal, () => void (now = true));

  for (let n = 0; ; n++) {
    if (n >= SNAPSHOTS_PER_RUN || wf.workflowInfo().continueAsNewSuggested) await wf.continueAsNew<typeof OnlineSnapshot>(input, carry);
    await wf.condition(() => stopped || now, input.everySeconds * 1000);
    if (stopped) return status();
    now = false;
    const result = await acts.snapshotOnlineModel({ name: input.name, requestKey: `${info.workflowId}:${++carry.requests}` });
    if (result.snapshotted && result.created) carry.registered++;
    carry.recent = [...carry.recent, result].slice(-KEPT);
    wf.setCurrentDetails(result.snapshotted ? `last snapshot: ${input.model} v${result.version} (${result.learned} labels)` : `last look: ${result.reason}`);
  }
}
