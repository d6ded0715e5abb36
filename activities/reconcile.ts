/**
 * Reconciler activities: read every model's traffic weights (PostgreSQL) and the running workflows
 * that may own a split (Temporal visibility), find the splits no one owns (lib/reconcile/orphans),
 * and repair one by giving a single version all traffic. The functions take their clients and work
 * outside Temporal too: `flywheel doctor` calls them directly.
 */
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { FlywheelConfig } from '../config/index';
import { MODEL_NAME } from '../config/search-attributes';
import { getPool } from '../clients/db';
import { MlflowClient } from '../clients/mlflow';
import { connectTemporal } from '../clients/temporal';
import { workerIdentity } from '../clients/identity';
import { findOrphans, repairTarget, TRAFFIC_OWNER_TYPES, type ModelWeights, type OrphanFinding, type RunningWorkflow } from '../lib/reconcile/orphans';
import { setTrafficWeights } from './traffic';

export interface CheckTrafficInput {
  /** Only these models (default: every model with weights). */
  models?: string[];
  /** Weights changed this recently are left alone (default 60). */
  graceSeconds?: number;
}

export interface TrafficFinding extends OrphanFinding {
  /** The version a repair gives all traffic, and why. */
  target: string;
  targetReason: string;
}

export interface TrafficCheck {
  checkedAt: string;
  models: number;
  running: RunningWorkflow[];
  findings: TrafficFinding[];
}

export interface RepairInput {
  model: string;
  /** The revision the check saw: a repair of weights that changed since does nothing. */
  revision: number;
  version: string;
  reason: string;
}

export interface RepairResult {
  model: string;
  repaired: boolean;
  weights?: Record<string, number>;
  reason: string;
}

export async function readModelWeights(pool: pg.Pool | pg.PoolClient, models?: string[]): Promise<ModelWeights[]> {
  const { rows } = await pool.query<{ model: string; weights: Record<string, number>; revision: string | null; updated_ms: string }>(
    `SELECT w.model, jsonb_object_agg(w.version, w.weight) AS weights, r.revision, (extract(epoch from max(w.updated_at)) * 1000)::bigint AS updated_ms
       FROM traffic_weights w LEFT JOIN traffic_revisions r ON r.model = w.model
      WHERE $1::text[] IS NULL OR w.model = ANY($1::text[])
      GROUP BY w.model, r.revision`,
    [models ?? null],
  );
  return rows.map((r) => ({ model: r.model, weights: r.weights, revision: Number(r.revision ?? 0), updatedMs: Number(r.updated_ms) }));
}

export async function listTrafficOwners(client: Client): Promise<RunningWorkflow[]> {
  const query = `ExecutionStatus = 'Running' AND WorkflowType IN (${TRAFFIC_OWNER_TYPES.map((t) => `'${t}'`).join(', ')})`;
  const running: RunningWorkflow[] = [];
  for await (const w of client.workflow.list({ query })) {
    running.push({ workflowId: w.workflowId, workflowType: w.type, model: w.typedSearchAttributes.get(MODEL_NAME) });
  }
  return running;
}

export async function checkTraffic(deps: { pool: pg.Pool; temporal: Client; mlflow: MlflowClient }, input: CheckTrafficInput): Promise<TrafficCheck> {
  // Owners first: a workflow that starts between the two reads then shows as weights inside the grace period.
  const running = await listTrafficOwners(deps.temporal);
  const weights = await readModelWeights(deps.pool, input.models);
  const orphans = findOrphans({ weights, running, nowMs: Date.now(), graceMs: (input.graceSeconds ?? 60) * 1000 });
  const findings: TrafficFinding[] = [];
  for (const f of orphans) {
    const champion = await deps.mlflow.getVersionByAlias(f.model, 'champion').catch(() => undefined);
    const target = repairTarget(f, champion?.version);
    findings.push({ ...f, target: target.version, targetReason: target.reason });
  }
  return { checkedAt: new Date().toISOString(), models: weights.length, running, findings };
}

export async function repairOrphan(pool: pg.Pool, input: RepairInput): Promise<RepairResult> {
  const { rows } = await pool.query<{ revision: string }>('SELECT revision FROM traffic_revisions WHERE model = $1', [input.model]);
  const revision = Number(rows[0]?.revision ?? 0);
  if (revision !== input.revision) return { model: input.model, repaired: false, reason: `weights changed since the check (revision ${input.revision} → ${revision}): left alone` };
  const r = await setTrafficWeights(pool, { model: input.model, weights: { [input.version]: 10_000 } });
  return { model: input.model, repaired: true, weights: r.weights, reason: `v${input.version} takes all traffic: ${input.reason}` };
}

/** The reconciler activities, bound to one configuration; the Temporal client is opened once, when first needed. */
export function createReconcileActivities(config: FlywheelConfig) {
  const pool = () => getPool(config.postgres.url);
  const mlflow = new MlflowClient(config.mlflow);
  let temporal: Promise<Client> | undefined;
  const client = () => (temporal ??= connectTemporal(config, workerIdentity('reconciler')).then((c) => c.client));
  return {
    checkTrafficOwners: async (input: CheckTrafficInput) => checkTraffic({ pool: pool(), temporal: await client(), mlflow }, input),
    repairOrphanedTraffic: (input: RepairInput) => repairOrphan(pool(), input),
  };
}
