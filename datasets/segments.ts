/**
 * Per-segment serving quality of a model (issue 15): for each value of one segment attribute the
 * callers sent, predictions, errors, labelled share and accuracy (the first label of each prediction),
 * and whether the segment falls behind the rest of the model's traffic by more than a margin with
 * anytime-valid evidence (lib/stats/segment-gap.ts), counted per time bucket in serving order.
 */
import type pg from 'pg';
import { segmentQuality, type SegmentCounts, type SegmentRow } from '../lib/segments/quality';
import { LABEL_SKEW } from '../lib/data/partitions';
import { decisionClients, decisionFeedbackSql } from './decision-feedback';

export type { SegmentRow } from '../lib/segments/quality';

export interface SegmentReport {
  model: string;
  attribute: string;
  since: string;
  margin: number;
  alpha: number;
  overall: { predictions: number; labelled: number; wrong: number; accuracy: number | null };
  segments: SegmentRow[];
}

// Counts per (segment value, time bucket); the value '' groups predictions without the attribute.
// Labels: the first one that may count (datasets/decision-feedback.ts, $5 the model's client list), as
// the canary's segment guardrails read them: a client outside the list cannot make a segment look behind.
const SQL = `
SELECT coalesce(p.segment->>$2, '') AS value,
       floor(extract(epoch FROM p.created_at) / $4)::bigint AS bucket,
       count(*)::int AS predictions,
       count(*) FILTER (WHERE p.outcome = 'error')::int AS errors,
       count(l.label)::int AS labelled,
       count(*) FILTER (WHERE l.label IS NOT NULL AND l.label IS DISTINCT FROM p.predicted_label)::int AS wrong
FROM predictions p
LEFT JOIN LATERAL (SELECT f.label FROM feedback f WHERE f.prediction_id = p.id AND f.kind = 'label' AND f.created_at >= p.created_at - interval '${LABEL_SKEW}' AND ${decisionFeedbackSql('f', '$5')} ORDER BY f.created_at, f.id LIMIT 1) l ON true
WHERE p.model = $1 AND p.created_at >= $3
GROUP BY 1, 2`;

export async function segmentReport(db: pg.Pool, input: { model: string; attribute: string; since: Date; bucketSeconds: number; margin: number; alpha: number }): Promise<SegmentReport> {
  const clients = await decisionClients(db, input.model);
  const { rows } = await db.query<SegmentCounts>(SQL, [input.model, input.attribute, input.since, input.bucketSeconds, clients]);
  const q = segmentQuality(rows, { margin: input.margin, alpha: input.alpha });
  return {
    model: input.model,
    attribute: input.attribute,
    since: input.since.toISOString(),
    margin: input.margin,
    alpha: input.alpha,
    overall: q.overall,
    segments: q.segments,
  };
}

/**
 * The segment attributes callers sent with a model's newest predictions since `since` (at most
 * `sample` rows read, at most `max` names): bounded by the window, so only its daily partitions are read.
 */
export async function segmentAttributes(db: pg.Pool, input: { model: string; since: Date; sample?: number; max?: number }): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>(
    `SELECT DISTINCT jsonb_object_keys(segment) AS key
       FROM (SELECT segment FROM predictions WHERE model = $1 AND created_at >= $2 AND segment IS NOT NULL ORDER BY created_at DESC LIMIT $3) s
      ORDER BY 1 LIMIT $4`,
    [input.model, input.since, input.sample ?? 5000, input.max ?? 8],
  );
  return rows.map((r) => r.key);
}
