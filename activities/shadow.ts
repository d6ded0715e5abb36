/**
 * Shadows in PostgreSQL (db/migrations/0015_shadow.sql): start and stop one (the gateways learn of
 * it on NOTIFY flywheel_traffic), and read what it answered beside the serving version, paired with
 * the served predictions and their first labels, for lib/shadow's comparison and judge. Used by the
 * CLI and by the canary's shadow step alike.
 */
import type pg from 'pg';
import { z } from 'zod';
import { check, type Checked } from '../lib/schema/issues';
import { createdNearIdSql } from '../lib/data/id-time';
import { compareShadow, type ShadowComparison, type ShadowPair } from '../lib/shadow/compare';
import type { ShadowSpec, ShadowWindow } from '../lib/shadow/judge';
import { decisionClients, decisionFeedbackSql } from '../datasets/decision-feedback';
import { invalidInput } from './errors';
import { inTransaction, lockModel } from './traffic';

export const shadowStartInput = z.strictObject({
  model: z.string().min(1),
  version: z.string().regex(/^[1-9]\d{0,9}$/, { error: 'must be a registered version number such as 1 or 12' }),
  share: z.number().gt(0, { error: 'must be above 0 % and at most 100 %' }).max(1, { error: 'must be above 0 % and at most 100 %' }),
  /** Who starts it (clients/audit.ts localActor, or the rollout's workflow id). */
  actor: z.string().min(1),
});
export type ShadowStartInput = z.output<typeof shadowStartInput>;

export function checkShadowStart(input: unknown): Checked<ShadowStartInput> {
  return check(shadowStartInput, input);
}

export interface ShadowDeployment {
  id: string;
  model: string;
  version: string;
  share: number;
  startedAt: Date;
  startedBy: string;
  stoppedAt: Date | null;
  stoppedBy: string | null;
  stopReason: string | null;
}

interface Row {
  id: string;
  model: string;
  version: string;
  share: number;
  started_at: Date;
  started_by: string;
  stopped_at: Date | null;
  stopped_by: string | null;
  stop_reason: string | null;
}

const ofRow = (r: Row): ShadowDeployment => ({
  id: String(r.id),
  model: r.model,
  version: r.version,
  share: Number(r.share),
  startedAt: r.started_at,
  startedBy: r.started_by,
  stoppedAt: r.stopped_at,
  stoppedBy: r.stopped_by,
  stopReason: r.stop_reason,
});

/**
 * Starts a shadow of an active deployment that is not already serving all the model's traffic.
 * Idempotent: the same version already shadowed at the same share is returned as it is (a retried
 * activity starts nothing twice); another shadow running for the model is refused.
 */
export async function startShadow(db: pg.Pool, input: ShadowStartInput): Promise<{ shadow: ShadowDeployment; created: boolean }> {
  const { model, version, share, actor } = input;
  return inTransaction(db, async (client) => {
    await lockModel(client, model);
    const { rows: dep } = await client.query<{ state: string; weight: number | null }>(
      'SELECT d.state, w.weight FROM deployments d LEFT JOIN traffic_weights w ON w.model = d.model AND w.version = d.version WHERE d.model = $1 AND d.version = $2',
      [model, version],
    );
    if (dep.length === 0) throw invalidInput(`model ${model} version ${version} is not deployed: deploy it first (flywheel deploy ${model} ${version}); it gets no traffic`);
    if (dep[0]!.state !== 'active') throw invalidInput(`model ${model} version ${version} is ${dep[0]!.state}: only an active deployment can be shadowed`);
    if ((dep[0]!.weight ?? 0) >= 10_000) throw invalidInput(`model ${model} version ${version} already serves all traffic: there is nothing to compare it with`);
    const { rows: running } = await client.query<Row>('SELECT * FROM shadow_deployments WHERE model = $1 AND stopped_at IS NULL', [model]);
    const current = running[0];
    if (current) {
      if (current.version === version && Number(current.share) === share) return { shadow: ofRow(current), created: false };
      throw invalidInput(`model ${model} already has a shadow running (v${current.version} at ${Number(current.share) * 100}% since ${current.started_at.toISOString()}): stop it first (flywheel shadow stop ${model})`);
    }
    const { rows } = await client.query<Row>('INSERT INTO shadow_deployments (model, version, share, started_by) VALUES ($1, $2, $3, $4) RETURNING *', [model, version, share, actor]);
    return { shadow: ofRow(rows[0]!), created: true };
  });
}

/** Stops the model's running shadow (when `version` is given, only if it is that version's); none running: undefined. */
export async function stopShadow(db: pg.Pool, input: { model: string; actor: string; reason: string; version?: string }): Promise<ShadowDeployment | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE shadow_deployments SET stopped_at = now(), stopped_by = $2, stop_reason = $3
      WHERE model = $1 AND stopped_at IS NULL AND ($4::text IS NULL OR version = $4) RETURNING *`,
    [input.model, input.actor, input.reason, input.version ?? null],
  );
  return rows[0] ? ofRow(rows[0]) : undefined;
}

/** The running shadow, else the last one. */
export async function latestShadow(db: pg.Pool, model: string): Promise<ShadowDeployment | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM shadow_deployments WHERE model = $1 ORDER BY (stopped_at IS NULL) DESC, started_at DESC, id DESC LIMIT 1', [model]);
  return rows[0] ? ofRow(rows[0]) : undefined;
}

/** A request's first label that may count in decisions (activities/decision-feedback.ts), as the canary counts it. */
const FIRST_LABEL = (pred: string, clients: string) => `(select f.label from feedback f where f.prediction_id = ${pred} and f.kind = 'label'
      and not exists (select 1 from feedback e where e.prediction_id = f.prediction_id and e.kind = 'label' and e.id < f.id)
      and ${decisionFeedbackSql('f', clients)})`;

/**
 * The shadow's answers since it started (until it stopped), each with the served prediction it
 * shadowed and that prediction's first label, in the order they were served; the newest `limit`.
 */
export async function shadowPairs(db: pg.Pool, s: ShadowDeployment, limit = 200_000): Promise<ShadowPair[]> {
  const clients = await decisionClients(db, s.model);
  const { rows } = await db.query<{ served: string | null; shadow: string | null; served_ok: boolean; shadow_ok: boolean; served_ms: number; shadow_ms: number; truth: string | null }>(
    `select * from (
       select p.predicted_label as served, s.predicted_label as shadow, p.outcome = 'ok' as served_ok, s.outcome = 'ok' as shadow_ok,
              p.latency_ms as served_ms, s.latency_ms as shadow_ms, ${FIRST_LABEL('p.id', '$5')} as truth, s.created_at, s.prediction_id
         from shadow_predictions s join predictions p on p.id = s.prediction_id and ${createdNearIdSql('p.created_at', 's.prediction_id')}
        where s.model = $1 and s.version = $2 and s.created_at >= $3 and ($4::timestamptz is null or s.created_at <= $4)
        order by s.created_at desc, s.prediction_id desc limit $6) newest
     order by created_at, prediction_id`,
    [s.model, s.version, s.startedAt, s.stoppedAt, clients, limit],
  );
  return rows.map((r) => ({
    served: r.served_ok ? r.served : null,
    shadow: r.shadow_ok ? r.shadow : null,
    truth: r.truth,
    servedLatencyMs: Number(r.served_ms),
    shadowLatencyMs: Number(r.shadow_ms),
  }));
}

export async function shadowReport(db: pg.Pool, model: string, spec: ShadowSpec): Promise<{ deployment: ShadowDeployment; comparison: ShadowComparison } | undefined> {
  const deployment = await latestShadow(db, model);
  if (!deployment) return undefined;
  return { deployment, comparison: compareShadow(await shadowPairs(db, deployment), spec) };
}

/**
 * One look of the canary's shadow step: discordant requests shadowed in [fromMs, toMs) (errors),
 * and discordant labels that arrived in [fromMs, toMs) for requests shadowed since `sinceMs` —
 * each request counted once, in the window its first label arrived in, as the canary counts labels.
 */
export async function collectShadowWindow(db: pg.Pool, input: { model: string; version: string; fromMs: number; toMs: number; sinceMs: number }): Promise<ShadowWindow> {
  const from = new Date(input.fromMs);
  const to = new Date(input.toMs);
  const errors = await db.query<{ shadow_only: string; served_only: string }>(
    `select count(*) filter (where s.outcome = 'error' and p.outcome = 'ok') as shadow_only, count(*) filter (where p.outcome = 'error' and s.outcome = 'ok') as served_only
       from shadow_predictions s join predictions p on p.id = s.prediction_id and ${createdNearIdSql('p.created_at', 's.prediction_id')}
      where s.model = $1 and s.version = $2 and s.created_at >= $3 and s.created_at < $4`,
    [input.model, input.version, from, to],
  );
  const clients = await decisionClients(db, input.model);
  const labels = await db.query<{ shadow_only: string; served_only: string }>(
    `select count(*) filter (where s.predicted_label is distinct from f.label and p.predicted_label = f.label) as shadow_only,
            count(*) filter (where p.predicted_label is distinct from f.label and s.predicted_label = f.label) as served_only
       from feedback f join predictions p on p.id = f.prediction_id and ${createdNearIdSql('p.created_at', 'f.prediction_id')} join shadow_predictions s on s.prediction_id = p.id and s.version = $2
      where f.kind = 'label' and f.created_at >= $3 and f.created_at < $4
        and p.model = $1 and p.outcome = 'ok' and s.outcome = 'ok' and s.created_at >= $5
        and not exists (select 1 from feedback e where e.prediction_id = f.prediction_id and e.kind = 'label' and e.id < f.id)
        and ${decisionFeedbackSql('f', '$6')}`,
    [input.model, input.version, from, to, new Date(input.sinceMs), clients],
  );
  return {
    shadowOnlyErrors: Number(errors.rows[0]!.shadow_only),
    servedOnlyErrors: Number(errors.rows[0]!.served_only),
    shadowOnlyWrong: Number(labels.rows[0]!.shadow_only),
    servedOnlyWrong: Number(labels.rows[0]!.served_only),
  };
}
