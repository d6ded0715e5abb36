/**
 * Reconciler: a terminated workflow cannot clean up after itself, so this one finds the traffic
 * splits no running canary rollout or A/B test owns (activities/reconcile.ts) and repairs them,
 * giving the registry's champion (or, without one serving, the version with the most traffic) all
 * traffic, with a decision and its reason per model; with `repair: false` it only reports. Short
 * and stateless: run it on demand or from a Temporal Schedule (`flywheel doctor --schedule`).
 * It is also where the traffic tables' periodic upkeep runs: daily partitions created ahead and
 * dropped past the retention (activities/traffic-partitions.ts). That upkeep runs with `repair: false`
 * too: it follows its own settings (FLYWHEEL_TRAFFIC_RETENTION_DAYS…), not the traffic repair policy.
 */
import * as wf from '@temporalio/workflow';
import type { createActivities } from '../activities/index';
import type { TrafficFinding } from '../activities/reconcile';
import type { TableMaintenance } from '../activities/traffic-partitions';
import { PIPELINE_STAGE } from '../config/search-attributes';
import { NON_RETRYABLE_TYPES } from '../lib/failure-types';
import type { ActivityTaskQueues } from '../lib/task-queues';
import { proxyControlActivities } from './control-activities';

type Activities = ReturnType<typeof createActivities>;

export interface ReconcilerInput {
  /** Repair what it finds (default) or only report it. */
  repair?: boolean;
  /** Only these models (default: all). */
  models?: string[];
  /** Weights changed this recently are left alone: their workflow may not be visible yet (default 60). */
  graceSeconds?: number;
  taskQueues: ActivityTaskQueues;
}

export interface ReconcilerDecision {
  at: string;
  model: string;
  action: 'repair' | 'report' | 'skip';
  reason: string;
}

export interface ReconcilerStatus {
  state: 'checking' | 'repairing' | 'done';
  repair: boolean;
  modelsChecked?: number;
  findings: TrafficFinding[];
  decisions: ReconcilerDecision[];
  /** The traffic tables' partition upkeep (absent in runs started before it existed). */
  partitions?: TableMaintenance[];
}

export interface ReconcilerResult {
  modelsChecked: number;
  findings: TrafficFinding[];
  decisions: ReconcilerDecision[];
  repaired: number;
  partitions?: TableMaintenance[];
}

export const reconcilerStatusQuery = wf.defineQuery<ReconcilerStatus>('status');

export async function Reconciler(input: ReconcilerInput): Promise<ReconcilerResult> {
  const repair = input.repair ?? true;
  const status: ReconcilerStatus = { state: 'checking', repair, findings: [], decisions: [] };
  wf.setHandler(reconcilerStatusQuery, () => status);
  wf.upsertSearchAttributes([{ key: PIPELINE_STAGE, value: 'reconcile' }]);
  const retry = { initialInterval: '1s', maximumInterval: '20s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES };
  const acts = proxyControlActivities<Activities>(input.taskQueues, { startToCloseTimeout: '1 minute', retry });

  const check = await acts.checkTrafficOwners({ models: input.models, graceSeconds: input.graceSeconds });
  status.modelsChecked = check.models;
  status.findings = check.findings;
  const decide = (model: string, action: ReconcilerDecision['action'], reason: string) => status.decisions.push({ at: new Date().toISOString(), model, action, reason });
  let repaired = 0;
  status.state = repair ? 'repairing' : 'done';
  for (const f of check.findings) {
    if (!repair) {
      decide(f.model, 'report', `${f.reason}; a repair would give v${f.target} all traffic (${f.targetReason})`);
      continue;
    }
    const r = await acts.repairOrphanedTraffic({ model: f.model, revision: f.revision, version: f.target, reason: f.targetReason });
    if (r.repaired) repaired++;
    decide(f.model, r.repaired ? 'repair' : 'skip', `${f.reason}: ${r.reason}`);
  }
  let upkeep = '';
  if (wf.patched('traffic-partitions')) {
    // DDL under a short lock timeout per statement, but pruning a large idempotency-key backlog may take a while.
    const upkeepActs = proxyControlActivities<Activities>(input.taskQueues, { startToCloseTimeout: '10 minutes', retry });
    status.partitions = await upkeepActs.maintainTrafficPartitions({});
    const created = status.partitions.reduce((n, t) => n + t.created.length, 0);
    const dropped = status.partitions.reduce((n, t) => n + t.dropped.length, 0);
    upkeep = `; traffic partitions: ${created} created, ${dropped} dropped`;
  }
  status.state = 'done';
  wf.setCurrentDetails(`${check.findings.length} unowned split(s) in ${check.models} models${repair ? `, ${repaired} repaired` : ''}${upkeep}`);
  return { modelsChecked: check.models, findings: check.findings, decisions: status.decisions, repaired, ...(status.partitions ? { partitions: status.partitions } : {}) };
}
