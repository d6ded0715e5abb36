/**
 * The dead-letter table (db/migrations/0007_dead_letters.sql): rows a writer isolated because the
 * database refused them. The payload is JSON text and the error is escaped, so a dead letter can
 * always be stored, whatever made its row fail.
 */
import type pg from 'pg';
import { escapeUnstorable } from '../lib/text/storable';
import { isRowDataError, sqlstateOf, writeIsolating } from './isolate';

export type WriterName = 'predictions' | 'feedback' | 'online_predictions' | 'shadow_predictions';

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

export interface BufferedWrite<T> {
  /** Rows stored by this write. */
  written: number;
  /** Rows to put back and retry (a transient failure), in batch order. */
  retry: T[];
  /** Why there is something to retry. */
  error?: Error;
}

/** What a writer reports isolated and lost rows to (serving/writer-health.ts WriterMonitor). */
export interface DeadLetterSink {
  readonly writer: WriterName;
  deadLettered(n: number): void;
  dropped(n: number): void;
}

/**
 * One batch of a buffered writer (the prediction recorder, the online-prediction writer): written
 * with `insert`, refused rows isolated (serving/isolate.ts) into dead_letters, and what an outage
 * left unwritten handed back to retry. A dead letter that cannot be stored even as text is dropped
 * and counted, never retried forever.
 */
export async function writeBuffered<T>(
  db: pg.Pool,
  sink: DeadLetterSink,
  batch: readonly T[],
  insert: (rows: readonly T[]) => Promise<unknown>,
  payload: (row: T) => unknown = (row) => row,
): Promise<BufferedWrite<T>> {
  const outcomes = await writeIsolating(batch, async (rows) => {
    await insert(rows);
    return [] as undefined[];
  });
  let written = 0;
  let error: Error | undefined;
  const letters: DeadLetter[] = [];
  for (let i = 0; i < batch.length; i++) {
    const o = outcomes[i]!;
    if (o.kind === 'written') written++;
    else if (o.kind === 'rejected') letters.push({ payload: payload(batch[i]!), error: o.error });
    else error = o.error;
  }
  let retryRefused = false;
  if (letters.length > 0) {
    try {
      await storeDeadLetters(db, sink.writer, letters);
      sink.deadLettered(letters.length);
    } catch (err) {
      if (isRowDataError(err)) sink.dropped(letters.length);
      else {
        // PostgreSQL went away between the two writes: the refused rows are isolated again on retry.
        retryRefused = true;
        error = err as Error;
      }
    }
  }
  const retry = batch.filter((_, i) => outcomes[i]!.kind === 'unwritten' || (retryRefused && outcomes[i]!.kind === 'rejected'));
  return { written, retry, error };
}
