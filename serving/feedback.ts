/**
 * Feedback is written before it is acknowledged (a 201 promises it is stored). A repeat with the
 * same idempotency key returns the stored row (200); the same key with different content is a
 * conflict, since the client meant two different things by one key.
 */
import type pg from 'pg';
import type { FeedbackInput } from './validate';

export interface StoredFeedback {
  id: string;
  predictionId: string;
  kind: string;
  value: number | null;
  label: string | null;
  idempotencyKey: string | null;
  createdAt: string;
}

export type FeedbackResult = { status: 201 | 200; body: StoredFeedback } | { status: 409; message: string };

interface Row {
  id: string;
  prediction_id: string;
  kind: string;
  value: number | null;
  label: string | null;
  idempotency_key: string | null;
  created_at: Date;
}

const COLUMNS = 'id, prediction_id, kind, value, label, idempotency_key, created_at';

function view(r: Row): StoredFeedback {
  return {
    id: String(r.id),
    predictionId: r.prediction_id,
    kind: r.kind,
    value: r.value,
    label: r.label,
    idempotencyKey: r.idempotency_key,
    createdAt: r.created_at.toISOString(),
  };
}

export async function storeFeedback(db: pg.Pool, f: FeedbackInput): Promise<FeedbackResult> {
  const inserted = await db.query<Row>(
    `INSERT INTO feedback (prediction_id, kind, value, label, idempotency_key) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${COLUMNS}`,
    [f.predictionId, f.kind, f.value, f.label, f.idempotencyKey],
  );
  if (inserted.rows[0]) return { status: 201, body: view(inserted.rows[0]) };
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM feedback WHERE idempotency_key = $1`, [f.idempotencyKey]);
  const existing = rows[0];
  if (!existing) throw new Error('feedback insert conflicted but no row holds its idempotency key');
  const same = existing.prediction_id === f.predictionId && existing.kind === f.kind && existing.value === f.value && existing.label === f.label;
  if (!same) return { status: 409, message: `idempotencyKey: already used for different feedback (id ${existing.id})` };
  return { status: 200, body: view(existing) };
}
