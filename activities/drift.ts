/**
 * Drift activities: a model's error stream read from what the gateway recorded (predictions) and
 * what users said (label feedback), and the drift events the monitor found.
 *
 * The cursor is a feedback id: labels arrive in any order relative to predictions, so a cursor on
 * prediction time would miss late labels. Rows are read only once older than a settle time, so a
 * label committed late behind a higher id (concurrent inserts) is not skipped by the cursor.
 */
import type { FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { decisionClients, decisionFeedbackSql } from '../datasets/decision-feedback';
import type { ErrorChange } from '../lib/retraining/error-monitor';
import { domainLog } from './domain-log';
import { domainMetrics } from './domain-metrics';
import { createdNearIdSql } from '../lib/data/id-time';
import { LABEL_SKEW } from '../lib/data/partitions';

export interface ReadOutcomesInput {
  model: string;
  /** Feedback id already consumed (decimal string: bigserial exceeds 2^53 in principle). */
  cursor: string;
  settleSeconds: number;
  limit: number;
}

export interface Outcomes {
  cursor: string;
  /** 1 where the served label was wrong, in prediction order. */
  errors: number[];
  /** The read stopped at its limit: more labels are waiting. */
  more: boolean;
  /** Served time of the first and last outcome read (ISO), for the status and the event rows. */
  from?: string;
  to?: string;
}

export interface DriftEventRecord {
  model: string;
  event: number;
  monitorWorkflowId: string;
  change: ErrorChange;
  retrainingWorkflowId?: string;
  note?: string;
}

/** How long a label may wait for its prediction's row before it is read without one (and skipped). */
const ORPHAN_WAIT = '30 seconds';

/** A retraining left "running" longer than this (a terminated run) no longer blocks new ones. */
const RUNNING_RETRAINING_HORIZON = '6 hours';

export function createDriftActivities(config: FlywheelConfig) {
  const pool = () => getPool(config.postgres.url);

  /**
   * Live accuracy for the alert rules: labelled outcomes per version, and beside them each version's
   * holdout accuracy from its training run (the baseline). Counted as the monitor reads them, once
   * per label: the cursor moves past what was counted.
   */
  async function emitAccuracy(model: string, rows: Array<{ wrong: boolean; version: string }>): Promise<void> {
    const byVersion = new Map<string, { correct: number; wrong: number }>();
    for (const r of rows) {
      const v = byVersion.get(r.version) ?? { correct: 0, wrong: 0 };
      if (r.wrong) v.wrong++;
      else v.correct++;
      byVersion.set(r.version, v);
    }
    if (byVersion.size === 0) return;
    for (const [version, n] of byVersion) domainMetrics.labelledOutcomes(model, version, n.correct, n.wrong);
    const { rows: baselines } = await pool().query<{ version: string; accuracy: number }>(
      `select distinct on (model_version) model_version as version, (metrics->>'accuracy')::float8 as accuracy
       from pipeline_runs where model = $1 and model_version = any($2) and status = 'completed' and metrics ? 'accuracy'
       order by model_version, finished_at desc nulls last`,
      [model, [...byVersion.keys()]],
    );
    for (const b of baselines) domainMetrics.baselineAccuracy(model, b.version, Number(b.accuracy));
  }
  return {
    /** Where a new monitor starts: after every label already given, numbering after the last event. */
    async openDriftMonitor(input: { model: string }): Promise<{ cursor: string; lastEvent: number }> {
      const { rows } = await pool().query<{ cursor: string | null; last_event: number | null }>(
        `select (select max(id)::text from feedback) as cursor, (select max(event) from drift_events where model = $1) as last_event`,
        [input.model],
      );
      return { cursor: rows[0]?.cursor ?? '0', lastEvent: Number(rows[0]?.last_event ?? 0) };
    },

    async readOutcomes(input: ReadOutcomesInput): Promise<Outcomes> {
      const { rows: bound } = await pool().query<{ upto: string | null; n: string }>(
        `select max(id)::text as upto, count(*) as n from (
           select id from feedback where kind = 'label' and id > $1 and created_at < now() - make_interval(secs => $2)
           order by id limit $3) b`,
        [input.cursor, input.settleSeconds, input.limit],
      );
      let upto = bound[0]?.upto;
      if (!upto) return { cursor: input.cursor, errors: [], more: false };
      let more = Number(bound[0]!.n) >= input.limit;
      // The gateway writes predictions in batches after answering, so a label can be stored before
      // its prediction: stop just before the first such label and read it next time. One whose
      // prediction never comes (a dropped batch) holds the cursor back for ORPHAN_WAIT at most.
      const { rows: orphan } = await pool().query<{ id: string }>(
        `select f.id::text as id from feedback f
         where f.kind = 'label' and f.id > $1 and f.id <= $2 and f.created_at > now() - interval '${ORPHAN_WAIT}'
           and not exists (select 1 from predictions p where p.id = f.prediction_id and ${createdNearIdSql('p.created_at', 'f.prediction_id')})
         order by f.id limit 1`,
        [input.cursor, upto],
      );
      if (orphan[0]) {
        upto = (BigInt(orphan[0].id) - 1n).toString();
        more = false;
        if (upto === input.cursor) return { cursor: input.cursor, errors: [], more };
      }
      // A prediction's first label only: a later correction is not a second observation. A label that
      // may not count in decisions (activities/decision-feedback.ts) is skipped; the cursor still passes it.
      const { rows } = await pool().query<{ wrong: boolean; served: Date; version: string }>(
        `select p.predicted_label is distinct from f.label as wrong, p.created_at as served, p.version
         from feedback f join predictions p on p.id = f.prediction_id and ${createdNearIdSql('p.created_at', 'f.prediction_id')}
         where f.kind = 'label' and f.id > $2 and f.id <= $3 and p.model = $1 and p.outcome = 'ok'
           and not exists (select 1 from feedback e where e.prediction_id = f.prediction_id and e.kind = 'label' and e.id < f.id and e.created_at >= p.created_at - interval '${LABEL_SKEW}')
           and ${decisionFeedbackSql('f', '$4')}
         order by p.created_at, p.id`,
        [input.model, input.cursor, upto, await decisionClients(pool(), input.model)],
      );
      await emitAccuracy(input.model, rows);
      return {
        cursor: upto,
        errors: rows.map((r) => (r.wrong ? 1 : 0)),
        more,
        from: rows[0]?.served.toISOString(),
        to: rows[rows.length - 1]?.served.toISOString(),
      };
    },

    /** The model's retraining still running, if any: a second drift must not stack another on it. */
    async runningRetraining(input: { model: string }): Promise<string | null> {
      const { rows } = await pool().query<{ workflow_id: string }>(
        `select workflow_id from retraining_runs where model = $1 and status = 'running' and started_at > now() - interval '${RUNNING_RETRAINING_HORIZON}'
         order by started_at desc limit 1`,
        [input.model],
      );
      return rows[0]?.workflow_id ?? null;
    },

    /** A retraining started after its event was recorded (it waited for labels): the event names it. Idempotent. */
    async noteDriftRetraining(r: { model: string; event: number; retrainingWorkflowId?: string; note: string }): Promise<void> {
      await pool().query(`update drift_events set retraining_workflow_id = coalesce($3, retraining_workflow_id), note = $4 where model = $1 and event = $2`, [r.model, r.event, r.retrainingWorkflowId ?? null, r.note]);
      domainLog('info', 'drift retraining started after new labels', { model: r.model, driftEvent: r.event, retrainingWorkflowId: r.retrainingWorkflowId, note: r.note });
    },

    /** Keyed by (model, event): a retried activity records the event once. */
    async recordDriftEvent(r: DriftEventRecord): Promise<void> {
      const c = r.change;
      const finite = (x: number) => (Number.isFinite(x) ? x : null);
      const inserted = await pool().query(
        `insert into drift_events (model, event, monitor_workflow_id, direction, sample, error_before, error_after, width_before, width_after, retraining_workflow_id, note)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (model, event) do nothing`,
        [r.model, r.event, r.monitorWorkflowId, c.direction, c.sample, finite(c.before), finite(c.after), c.widthBefore, c.widthAfter, r.retrainingWorkflowId ?? null, r.note ?? null],
      );
      // Once per event: a retry finds the row and inserts nothing.
      if (inserted.rowCount === 1) {
        domainMetrics.driftEvent(r.model);
        domainLog('warn', 'drift detected', { model: r.model, driftEvent: r.event, direction: c.direction, sample: c.sample, errorBefore: finite(c.before), errorAfter: finite(c.after), retrainingWorkflowId: r.retrainingWorkflowId });
      }
    },
  };
}
