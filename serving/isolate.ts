/**
 * Isolating the rows that fail a batched write. A batch INSERT is all or nothing, so one row the
 * database refuses (a NUL byte, a violated constraint) would fail every honest row with it, and a
 * writer that retries the batch would retry it forever. On an error caused by the data, the batch
 * is bisected: halves that succeed are written, and a single row that still fails is rejected
 * with its error (the caller dead-letters it). An error of any other kind (connection lost,
 * PostgreSQL down or restarting, a timeout) says nothing about the rows: writing stops there and
 * the rows not yet written are handed back, to be retried whole, so nothing is lost or rejected
 * for an outage. Halves are written left to right, so written rows keep their batch order.
 *
 * A row is rejected only when it fails alone twice with a data error: a server coming back from an
 * outage (a database recreated, a schema being swapped in) can answer a data-class error for a
 * moment that has nothing to do with the row, and a dead letter is a row the writer gives up on.
 */

/**
 * SQLSTATE classes where the statement failed because of a value it was given: 22 data exception
 * (NUL byte 22021, out of range, bad input syntax), 23 integrity constraint violation, 54 program
 * limit exceeded (an index row too large). Everything else, and errors with no SQLSTATE (a socket
 * closed), is treated as transient.
 */
const ROW_DATA_CLASSES = new Set(['22', '23', '54']);

export function sqlstateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isRowDataError(err: unknown): boolean {
  const code = sqlstateOf(err);
  return code !== undefined && ROW_DATA_CLASSES.has(code.slice(0, 2));
}

export type RowOutcome<R> =
  | { kind: 'written'; value: R }
  /** The database refused this row alone: dead-letter it, never retry it. */
  | { kind: 'rejected'; error: Error }
  /** Not written because of a transient failure: retry it. */
  | { kind: 'unwritten'; error: Error };

/**
 * Writes `rows` with `write` (one statement, all or nothing, answering one value per row), bisecting
 * on row data errors. The first attempt is the whole batch, so an honest batch costs one statement;
 * k bad rows in n cost about 2k·log2(n) + k more.
 */
export async function writeIsolating<T, R>(rows: readonly T[], write: (rows: readonly T[]) => Promise<readonly R[]>): Promise<RowOutcome<R>[]> {
  const out: RowOutcome<R>[] = new Array(rows.length);
  let transient: Error | undefined;
  async function go(lo: number, hi: number): Promise<void> {
    if (transient) {
      for (let i = lo; i < hi; i++) out[i] = { kind: 'unwritten', error: transient };
      return;
    }
    try {
      const values = await write(lo === 0 && hi === rows.length ? rows : rows.slice(lo, hi));
      for (let i = lo; i < hi; i++) out[i] = { kind: 'written', value: values[i - lo]! };
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (!isRowDataError(error)) {
        transient = error;
        for (let i = lo; i < hi; i++) out[i] = { kind: 'unwritten', error };
      } else if (hi - lo === 1) {
        out[lo] = await confirmRejected(rows[lo]!, error);
      } else {
        const mid = lo + Math.ceil((hi - lo) / 2);
        await go(lo, mid);
        await go(mid, hi);
      }
    }
  }
  async function confirmRejected(row: T, first: Error): Promise<RowOutcome<R>> {
    try {
      const [value] = await write([row]);
      return { kind: 'written', value: value! };
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      if (isRowDataError(error)) return { kind: 'rejected', error: first };
      transient = error;
      return { kind: 'unwritten', error };
    }
  }
  if (rows.length > 0) await go(0, rows.length);
  return out;
}
