/**
 * A/B test activity: cumulative per-version counts since the test started, read from what the
 * gateway recorded (predictions) and what users sent back (feedback). Raw sums only: the workflow
 * turns them into summaries, so no NaN ever crosses a JSON payload.
 */
import type { FlywheelConfig } from '../config/index';
import type { Pool } from 'pg';
import { getPool } from '../clients/db';
import { decisionClients, decisionFeedbackSql } from '../datasets/decision-feedback';
import type { PrimaryMetric } from '../lib/experiment/spec';
import { LABEL_SKEW } from '../lib/data/partitions';
import type { SegmentGuardrail } from '../lib/rollout/spec';
import type { SegmentCounts } from '../lib/experiment/segment-guardrails';

export interface ArmCounts {
  version: string;
  requests: number;
  /** Distinct unit keys served (requests without a key count as their own unit). */
  units: number;
  errors: number;
  p95LatencyMs: number | null;
  /** Primary metric observations: count, sum and sum of squares (a proportion's successes are its sum). */
  n: number;
  sum: number;
  sumSquares: number;
  /** With segment guardrails: the version's counts within each (same order), since the test began. */
  segments?: SegmentCounts[];
}

/**
 * Primary-metric observations per version as (n, sum, sum of squares), for predictions of `model`
 * made since `since`, among those `versionFilter` (SQL over p.version) keeps. Also the age in
 * seconds of the oldest one counted, so a caller can turn a count into a rate.
 */
function primarySql(metric: PrimaryMetric, versionFilter: string, since: string, clients: string): string {
  // Only feedback that may count in decisions (activities/decision-feedback.ts).
  const counts = decisionFeedbackSql('fb', clients);
  const sql: Record<PrimaryMetric, string> = {
    // One label per prediction (the first, as every decision counts it): correct = 1, wrong = 0. Driven from the test's
    // predictions (index on model, version, time), each one's first label looked up by prediction
    // id: the cost follows the test's traffic, not every label ever received.
    accuracy: `select p.version, count(*) as n, count(*) filter (where f.label = p.predicted_label) as sum, count(*) filter (where f.label = p.predicted_label) as sum_squares,
                      extract(epoch from now() - min(p.created_at)) as span_seconds
               from predictions p
               cross join lateral (select label from feedback fb where prediction_id = p.id and kind = 'label' and fb.created_at >= p.created_at - interval '${LABEL_SKEW}' and ${counts} order by id limit 1) f
               where p.model = $1 and ${versionFilter} and p.created_at >= ${since} and p.outcome = 'ok' group by p.version`,
    // Clicked predictions among served ones (each one's clicks looked up by prediction id, as above).
    // (The sum is named once and repeated outside: each mention of the lateral would probe again.)
    'click-rate': `select version, n, sum, sum as sum_squares, span_seconds from (
                     select p.version, count(*) as n, count(*) filter (where c.clicked) as sum, extract(epoch from now() - min(p.created_at)) as span_seconds
                     from predictions p
                     cross join lateral (select exists (select 1 from feedback fb where prediction_id = p.id and kind = 'click' and fb.created_at >= p.created_at - interval '${LABEL_SKEW}' and ${counts}) as clicked) c
                     where p.model = $1 and ${versionFilter} and p.created_at >= ${since} and p.outcome = 'ok' group by p.version) t`,
    rating: `select p.version, count(*) as n, coalesce(sum(fb.value), 0) as sum, coalesce(sum(fb.value * fb.value), 0) as sum_squares,
                    extract(epoch from now() - min(p.created_at)) as span_seconds
             from feedback fb join predictions p on p.id = fb.prediction_id
             where fb.kind = 'rating' and fb.created_at >= (${since})::timestamptz - interval '${LABEL_SKEW}' and ${counts} and p.model = $1 and ${versionFilter} and p.created_at >= ${since} group by p.version`,
  };
  return sql[metric];
}

export interface RecentObservations {
  version: string;
  n: number;
  sum: number;
  sumSquares: number;
  /** Seconds from the oldest observation counted to now (at most the window). */
  spanSeconds: number;
}

/**
 * What sizing an A/B test needs from the recent past: every version's primary-metric
 * observations of the last `windowSeconds` (the control's give the baseline; all of them together,
 * the rate the test will split). Read by the CLI before it starts a test, so a plain function of
 * a pool rather than an activity.
 */
export async function readRecentObservations(db: Pool, input: { model: string; primaryMetric: PrimaryMetric; windowSeconds: number }): Promise<RecentObservations[]> {
  const r = await db.query<{ version: string; n: string; sum: string; sum_squares: string; span_seconds: string | null }>(
    primarySql(input.primaryMetric, 'true', `now() - make_interval(secs => $2)`, '$3'),
    [input.model, input.windowSeconds, await decisionClients(db, input.model)],
  );
  return r.rows.map((row) => ({ version: row.version, n: Number(row.n), sum: Number(row.sum), sumSquares: Number(row.sum_squares), spanSeconds: Math.min(input.windowSeconds, Number(row.span_seconds ?? 0)) }));
}

export function createExperimentActivities(config: FlywheelConfig) {
  const pool = () => getPool(config.postgres.url);

  /**
   * Each version's counts within each guardrail's segment (`segment->>attribute = value`, bound
   * parameters) since the test began: requests, errors, labelled predictions (the label that may
   * count in decisions, looked up by prediction id as the accuracy query does) and wrong ones.
   */
  async function segmentCounts(model: string, versions: string[], since: Date, guards: SegmentGuardrail[]): Promise<Record<string, SegmentCounts[]>> {
    const out: Record<string, SegmentCounts[]> = Object.fromEntries(versions.map((v) => [v, guards.map(() => ({ requests: 0, errors: 0, labelled: 0, incorrect: 0 }))]));
    const { rows } = await pool().query<{ version: string; i: string; requests: string; errors: string; labelled: string; incorrect: string }>(
      `select p.version, g.i, count(*) as requests, count(*) filter (where p.outcome = 'error') as errors,
              count(f.label) as labelled, count(f.label) filter (where f.label is distinct from p.predicted_label) as incorrect
       from predictions p join unnest($4::text[], $5::text[]) with ordinality as g(attr, val, i) on p.segment->>g.attr = g.val
       left join lateral (select label from feedback fb where fb.prediction_id = p.id and fb.kind = 'label' and fb.created_at >= p.created_at - interval '${LABEL_SKEW}' and ${decisionFeedbackSql('fb', '$6')} order by fb.id asc limit 1) f on p.outcome = 'ok'
       where p.model = $1 and p.version = any($2) and p.created_at >= $3
       group by p.version, g.i`,
      [model, versions, since, guards.map((g) => g.attribute), guards.map((g) => g.value), await decisionClients(pool(), model)],
    );
    for (const r of rows) out[r.version]![Number(r.i) - 1] = { requests: Number(r.requests), errors: Number(r.errors), labelled: Number(r.labelled), incorrect: Number(r.incorrect) };
    return out;
  }
  return {
    async collectExperimentMetrics(input: { model: string; versions: string[]; sinceMs: number; primaryMetric: PrimaryMetric; segments?: SegmentGuardrail[] }): Promise<ArmCounts[]> {
      const since = new Date(input.sinceMs);
      const args = [input.model, input.versions, since];
      const traffic = await pool().query<{ version: string; requests: string; units: string; errors: string; p95: number | null }>(
        `select version, count(*) as requests, count(distinct unit_key) + count(*) filter (where unit_key is null) as units,
                count(*) filter (where outcome = 'error') as errors,
                percentile_cont(0.95) within group (order by latency_ms) filter (where outcome = 'ok') as p95
         from predictions where model = $1 and version = any($2) and created_at >= $3 group by version`,
        args,
      );
      const primary = await pool().query<{ version: string; n: string; sum: string; sum_squares: string }>(
        primarySql(input.primaryMetric, 'p.version = any($2)', '$3', '$4'),
        [...args, await decisionClients(pool(), input.model)],
      );
      const segments = input.segments?.length ? await segmentCounts(input.model, input.versions, since, input.segments) : undefined;
      return input.versions.map((version) => {
        const t = traffic.rows.find((r) => r.version === version);
        const p = primary.rows.find((r) => r.version === version);
        return {
          version,
          requests: Number(t?.requests ?? 0),
          units: Number(t?.units ?? 0),
          errors: Number(t?.errors ?? 0),
          p95LatencyMs: t?.p95 === null || t?.p95 === undefined ? null : Number(t.p95),
          n: Number(p?.n ?? 0),
          sum: Number(p?.sum ?? 0),
          sumSquares: Number(p?.sum_squares ?? 0),
          ...(segments ? { segments: segments[version] } : {}),
        };
      });
    },
  };
}
