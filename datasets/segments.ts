/**
 * Per-segment serving quality of a model (issue 15): for each value of one segment attribute the
 * callers sent, predictions, errors, labelled share and accuracy (the first label of each prediction),
 * and whether the segment falls behind the rest of the model's traffic by more than a margin with
 * anytime-valid evidence (lib/stats/segment-gap.ts), counted per time bucket in serving order.
 */
import type pg from 'pg';
import { segmentGap } from '../lib/stats/segment-gap';
import { LABEL_SKEW } from '../lib/data/partitions';

export interface SegmentRow {
  value: string;
  predictions: number;
  errors: number;
  labelled: number;
  wrong: number;
  accuracy: number | null;
  errorRate: number;
  labelCoverage: number;
  /** Evidence that this segment's error odds exceed (1 + margin)× the rest's; behind when ≥ 1/α. */
  e: number;
  behind: boolean;
}

export interface SegmentReport {
  model: string;
  attribute: string;
  since: string;
  margin: number;
  alpha: number;
  overall: { predictions: number; labelled: number; accuracy: number | null };
  segments: SegmentRow[];
}

// Counts per (segment value, time bucket); the value '' groups predictions without the attribute.
const SQL = `
SELECT coalesce(p.segment->>$2, '') AS value,
       floor(extract(epoch FROM p.created_at) / $4)::bigint AS bucket,
       count(*)::int AS predictions,
       count(*) FILTER (WHERE p.outcome = 'error')::int AS errors,
       count(l.label)::int AS labelled,
       count(*) FILTER (WHERE l.label IS NOT NULL AND l.label IS DISTINCT FROM p.predicted_label)::int AS wrong
FROM predictions p
LEFT JOIN LATERAL (SELECT f.label FROM feedback f WHERE f.prediction_id = p.id AND f.kind = 'label' AND f.created_at >= p.created_at - interval '${LABEL_SKEW}' ORDER BY f.created_at, f.id LIMIT 1) l ON true
WHERE p.model = $1 AND p.created_at >= $3
GROUP BY 1, 2`;

export async function segmentReport(db: pg.Pool, input: { model: string; attribute: string; since: Date; bucketSeconds: number; margin: number; alpha: number }): Promise<SegmentReport> {
  const { rows } = await db.query<{ value: string; bucket: string; predictions: number; errors: number; labelled: number; wrong: number }>(SQL, [input.model, input.attribute, input.since, input.bucketSeconds]);
  const byBucket = new Map<string, { labelled: number; wrong: number }>();
  for (const r of rows) {
    const t = byBucket.get(r.bucket) ?? { labelled: 0, wrong: 0 };
    t.labelled += r.labelled;
    t.wrong += r.wrong;
    byBucket.set(r.bucket, t);
  }
  const values = [...new Set(rows.map((r) => r.value))].filter((v) => v !== '').sort();
  const segments = values.map((value) => {
    const own = rows.filter((r) => r.value === value).sort((a, b) => Number(a.bucket) - Number(b.bucket));
    const sum = (k: 'predictions' | 'errors' | 'labelled' | 'wrong') => own.reduce((s, r) => s + r[k], 0);
    const [predictions, errors, labelled, wrong] = [sum('predictions'), sum('errors'), sum('labelled'), sum('wrong')];
    const gap = segmentGap(
      own.map((r) => {
        const t = byBucket.get(r.bucket)!;
        return { segmentWrong: r.wrong, segmentLabelled: r.labelled, restWrong: t.wrong - r.wrong, restLabelled: t.labelled - r.labelled };
      }),
      { margin: input.margin, alpha: input.alpha },
    );
    return { value, predictions, errors, labelled, wrong, accuracy: labelled ? 1 - wrong / labelled : null, errorRate: predictions ? errors / predictions : 0, labelCoverage: predictions ? labelled / predictions : 0, e: gap.e, behind: gap.behind };
  });
  const all = [...byBucket.values()].reduce((a, t) => ({ labelled: a.labelled + t.labelled, wrong: a.wrong + t.wrong }), { labelled: 0, wrong: 0 });
  return {
    model: input.model,
    attribute: input.attribute,
    since: input.since.toISOString(),
    margin: input.margin,
    alpha: input.alpha,
    overall: { predictions: rows.reduce((s, r) => s + r.predictions, 0), labelled: all.labelled, accuracy: all.labelled ? 1 - all.wrong / all.labelled : null },
    segments,
  };
}
