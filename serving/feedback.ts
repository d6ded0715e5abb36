/**
 * Writes a group of feedback items in one INSERT and says, per item, what became of it: created
 * (201), already stored under its idempotency key with the same content (200, the stored row), or
 * a conflict (409: the client meant two different things by one key). Nothing is reported stored
 * before the statement's commit returned, which is what lets the gateway acknowledge on it.
 */
import type pg from 'pg';
import { sameContent, type FeedbackItem } from '../lib/feedback/channels';
import { uuidv7TimeSql } from '../lib/data/id-time';

/** What the gateway decided about an item before storing it. */
export interface ScoredItem extends FeedbackItem {
  quality: number;
  qualityFlags: string[];
  sentiment: number | null;
  sentimentLabel: string | null;
  /** The authenticated client that sent it (serving/auth.ts); null with authentication off. */
  clientId?: string | null;
}

export interface StoredFeedback {
  id: string;
  predictionId: string;
  kind: string;
  value: number | null;
  label: string | null;
  event: string | null;
  comment: string | null;
  source: string | null;
  unitKey: string | null;
  idempotencyKey: string | null;
  quality: number;
  qualityFlags: string[];
  sentiment: number | null;
  sentimentLabel: string | null;
  createdAt: string;
}

/**
 * 201 created, 200 a repeat of a stored row, 409 an idempotency conflict; and from the committer
 * (serving/feedback-committer.ts), 422 refused by the database (dead-lettered) and 503 not stored
 * because of an outage (retry).
 */
export type ItemOutcome = { status: 201 | 200; row: StoredFeedback } | { status: 404 | 409 | 422 | 503; message: string };

interface Row {
  id: string;
  prediction_id: string;
  kind: string;
  value: number | null;
  label: string | null;
  event: string | null;
  comment: string | null;
  source: string | null;
  unit_key: string | null;
  idempotency_key: string | null;
  quality: number;
  quality_flags: string[];
  sentiment: number | null;
  sentiment_label: string | null;
  created_at: Date;
}

const COLUMNS = 'id, prediction_id, kind, value, label, event, comment, source, unit_key, idempotency_key, quality, quality_flags, sentiment, sentiment_label, created_at';

// One statement with fourteen array parameters whatever the group size, answering one row per
// item, in the items' order (ordinality), which is how outcomes are matched back to items.
//
// Idempotency (migration 0014): feedback is partitioned by created_at, so it cannot hold a unique
// key on idempotency_key alone; feedback_keys does. Each item gets its id first (nextval, in a
// materialised CTE), the keys are claimed in feedback_keys (the first item of a repeated key
// wins, a key already stored is skipped), and only unkeyed items and items whose key was claimed
// here go on. A concurrent statement claiming the same key waits for this one's commit and skips it.
//
// The first label (migration 0017): a label that goes on claims its prediction in first_labels
// (the first label item of a prediction in the group wins, a prediction already claimed is
// skipped), and is inserted only if it did: a label from another gateway at the same moment waits
// for this commit and is refused (409), whatever each gateway's guard had read. Keys are claimed
// before labels, so a label is only claimed with its row; a key claimed by a label that lost keeps
// no row, and a retry with it is answered the same 409 (the lookup below).
const INSERT = `WITH items AS (
  SELECT nextval('feedback_id_seq') AS id, p, k, v, l, e, c, s, u, ik, q, f, se, sl, ci, n
    FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::real[], $11::text[], $12::real[], $13::text[], $14::text[])
         WITH ORDINALITY AS t(p, k, v, l, e, c, s, u, ik, q, f, se, sl, ci, n)
), claimed AS (
  INSERT INTO feedback_keys (idempotency_key, feedback_id, created_at)
  SELECT DISTINCT ON (ik) ik, id, now() FROM items WHERE ik IS NOT NULL ORDER BY ik, n
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING feedback_id
), keyed AS (
  SELECT * FROM items WHERE ik IS NULL OR id IN (SELECT feedback_id FROM claimed)
), labelled AS (
  INSERT INTO first_labels (prediction_id, created_at, feedback_id, feedback_at)
  SELECT DISTINCT ON (p) p, coalesce(${uuidv7TimeSql('p')}, 'epoch'), id, now() FROM keyed WHERE k = 'label' ORDER BY p, n
  ON CONFLICT (prediction_id, created_at) DO NOTHING
  RETURNING feedback_id
), stored AS (
  INSERT INTO feedback (id, prediction_id, kind, value, label, event, comment, source, unit_key, idempotency_key, quality, quality_flags, sentiment, sentiment_label, client_id, created_at)
  SELECT id, p, k, v, l, e, c, s, u, ik, q, string_to_array(f, ','), se, sl, ci, now()
    FROM keyed
   WHERE k <> 'label' OR id IN (SELECT feedback_id FROM labelled)
   ORDER BY n
  RETURNING id, created_at
)
SELECT s.id, s.created_at, i.ik IS NOT NULL AND i.id NOT IN (SELECT feedback_id FROM claimed) AS key_taken
  FROM items i LEFT JOIN stored s ON s.id = i.id
 ORDER BY i.n`;

// A stored key's row: feedback's primary key is (id, created_at), both kept with the key. No row
// (f.id null): the key was claimed by a label that lost its prediction to an earlier one.
const BY_KEYS = `SELECT k.idempotency_key AS key, ${COLUMNS.split(', ').map((c) => `f.${c}`).join(', ')}
  FROM feedback_keys k LEFT JOIN feedback f ON f.id = k.feedback_id AND f.created_at = k.created_at
 WHERE k.idempotency_key = ANY($1::text[])`;

/** Per item, in order: its row's id and time when stored here, and whether its key was already taken. */
interface ItemResult {
  id: string | null;
  created_at: Date | null;
  key_taken: boolean;
}

// One INSERT is one transaction, so its rows share created_at (now()): format it once.
let lastTime = 0;
let lastIso = '';
function iso(d: Date): string {
  const t = d.getTime();
  if (t !== lastTime) {
    lastTime = t;
    lastIso = d.toISOString();
  }
  return lastIso;
}

/** A created row is what the item said plus its id and time: no need to read every column back. */
function created(it: ScoredItem, r: { id: string; created_at: Date }): StoredFeedback {
  return {
    id: String(r.id),
    predictionId: it.predictionId,
    kind: it.kind,
    value: it.value,
    label: it.label,
    event: it.event,
    comment: it.comment,
    source: it.source,
    unitKey: it.unitKey,
    idempotencyKey: it.idempotencyKey,
    quality: it.quality,
    qualityFlags: it.qualityFlags,
    sentiment: it.sentiment,
    sentimentLabel: it.sentimentLabel,
    createdAt: iso(r.created_at),
  };
}

function view(r: Row): StoredFeedback {
  return {
    id: String(r.id),
    predictionId: r.prediction_id,
    kind: r.kind,
    value: r.value,
    label: r.label,
    event: r.event,
    comment: r.comment,
    source: r.source,
    unitKey: r.unit_key,
    idempotencyKey: r.idempotency_key,
    quality: r.quality,
    qualityFlags: r.quality_flags,
    sentiment: r.sentiment,
    sentimentLabel: r.sentiment_label,
    createdAt: r.created_at.toISOString(),
  };
}

function columns(items: readonly ScoredItem[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 14 }, () => []);
  for (const it of items) {
    cols[0]!.push(it.predictionId);
    cols[1]!.push(it.kind);
    cols[2]!.push(it.value);
    cols[3]!.push(it.label);
    cols[4]!.push(it.event);
    cols[5]!.push(it.comment);
    cols[6]!.push(it.source);
    cols[7]!.push(it.unitKey);
    cols[8]!.push(it.idempotencyKey);
    cols[9]!.push(it.quality);
    cols[10]!.push(it.qualityFlags.join(','));
    cols[11]!.push(it.sentiment);
    cols[12]!.push(it.sentimentLabel);
    cols[13]!.push(it.clientId ?? null);
  }
  return cols;
}

export const LABEL_TAKEN = (predictionId: string) => `prediction ${predictionId} already has a label; the first label stands`;

/** One INSERT (autocommit: durable when it returns); throws when nothing can be said to be stored. */
export async function storeFeedbackGroup(db: pg.Pool, items: readonly ScoredItem[]): Promise<ItemOutcome[]> {
  const { rows } = await db.query<ItemResult>(INSERT, columns(items));
  if (rows.length !== items.length) throw new Error(`feedback INSERT answered ${rows.length} rows for ${items.length} items`);
  const outcomes: (ItemOutcome | undefined)[] = new Array(items.length);
  const lookups: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const r = rows[i]!;
    if (r.id !== null) outcomes[i] = { status: 201, row: created(it, { id: r.id, created_at: r.created_at! }) };
    // A key used before (stored, or by an earlier item of this group): a repeat or a conflict.
    else if (r.key_taken) lookups.push(i);
    // Not stored and its key (if any) was its own: a label whose prediction has one already.
    else outcomes[i] = { status: 409, message: LABEL_TAKEN(it.predictionId) };
  }
  if (lookups.length > 0) {
    const keys = lookups.map((i) => items[i]!.idempotencyKey!);
    const { rows: found } = await db.query<Row & { key: string }>(BY_KEYS, [keys]);
    const existing = new Map(found.map((r) => [r.key, r.id === null ? null : view(r)]));
    for (const i of lookups) {
      const it = items[i]!;
      const row = existing.get(it.idempotencyKey!);
      // No key: its partition was dropped past the retention after the key was read (a retry older than the retention).
      if (row === undefined) throw new Error('feedback insert conflicted but no row holds its idempotency key');
      if (row === null) {
        // The key's label lost its prediction to an earlier label; the retry loses the same way.
        outcomes[i] = it.kind === 'label' ? { status: 409, message: LABEL_TAKEN(it.predictionId) } : { status: 409, message: 'idempotencyKey: already used for different feedback' };
        continue;
      }
      outcomes[i] = sameContent(row as unknown as FeedbackItem, it)
        ? { status: 200, row }
        : { status: 409, message: `idempotencyKey: already used for different feedback (id ${row.id})` };
    }
  }
  return outcomes as ItemOutcome[];
}
