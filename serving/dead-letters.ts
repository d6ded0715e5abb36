/**
 * The dead-letter table (db/migrations/0007_dead_letters.sql): rows a writer isolated because the
 * database refused them. The payload is JSON text and the error is escaped, so a dead letter can
 * always be stored, whatever made its row fail.
 */
import type pg from 'pg';
import { escapeUnstorable } from '../lib/text/storable';
import { sqlstateOf } from './isolate';

export type WriterName = 'predictions' | 'feedback' | 'online_predictions';

export interface DeadLetter {
  payload: unknown;
  error: Error;
}

const INSERT = `INSERT INTO dead_letters (writer, payload, error, sqlstate)
SELECT $1, p, e, s FROM unnest($2::text[], $3::text[], $4::text[]) AS t(p, e, s)`;

/** One INSERT for all of them; throws (like any write) when PostgreSQL cannot take it. */
export async function storeDeadLetters(db: pg.Pool, writer: WriterName, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await db.query(INSERT, [
    writer,
    // JSON.stringify writes NUL and lone surrogates as \u escapes: the text is always storable.
    letters.map((l) => JSON.stringify(l.payload)),
    letters.map((l) => escapeUnstorable(l.error.message)),
    letters.map((l) => sqlstateOf(l.error) ?? null),
  ]);
}
