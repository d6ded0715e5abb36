import { describe, expect, it } from 'vitest';
import { isRowDataError, writeIsolating } from './isolate';

const pgError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

/** A write as PostgreSQL does it: all or nothing, refused when any row is bad. */
function allOrNothing(bad: (n: number) => boolean, log: number[][] = [], transientAfter = Infinity) {
  return async (rows: readonly number[]) => {
    log.push([...rows]);
    if (log.length > transientAfter) throw Object.assign(new Error('Connection terminated unexpectedly'), {});
    if (rows.some(bad)) throw pgError('22021');
    return rows.map((n) => n * 10);
  };
}

describe('isRowDataError', () => {
  it('is true for data, integrity and limit classes, false for outages and errors without SQLSTATE', () => {
    for (const c of ['22021', '22P02', '23505', '23514', '54000']) expect(isRowDataError(pgError(c))).toBe(true);
    for (const c of ['57P01', '08006', '3D000', '53300', '40001', '57014', 'XX000']) expect(isRowDataError(pgError(c))).toBe(false);
    expect(isRowDataError(new Error('Connection terminated'))).toBe(false);
    expect(isRowDataError(Object.assign(new Error('x'), { code: 'EPIPE' }))).toBe(false);
  });
});

describe('writeIsolating', () => {
  it('writes an honest batch in one statement', async () => {
    const log: number[][] = [];
    const out = await writeIsolating([1, 2, 3], allOrNothing(() => false, log));
    expect(log).toEqual([[1, 2, 3]]);
    expect(out).toEqual([10, 20, 30].map((value) => ({ kind: 'written', value })));
  });

  it('rejects only the bad rows and writes the rest, in order', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => i);
    const log: number[][] = [];
    const out = await writeIsolating(rows, allOrNothing((n) => n === 37 || n === 80, log));
    expect(out.filter((o) => o.kind === 'rejected').length).toBe(2);
    expect(out[37]!.kind).toBe('rejected');
    expect(out[80]!.kind).toBe('rejected');
    expect(out.filter((o) => o.kind === 'written').length).toBe(98);
    // Written statements come left to right: the stored order is the batch order.
    const written = log.filter((b) => !b.some((n) => n === 37 || n === 80)).flat();
    expect(written).toEqual(rows.filter((n) => n !== 37 && n !== 80));
    // 2k·log2(n) bisection statements, plus one confirming write per rejected row.
    expect(log.length).toBeLessThan(2 * 2 * Math.log2(100) + 2 + 2);
  });

  it('stops at a transient failure and hands back what is not written, nothing rejected', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => i);
    // Whole batch (data error), first half (written), then the connection drops.
    const out = await writeIsolating(rows, allOrNothing((n) => n === 6, [], 2));
    expect(out.slice(0, 4).every((o) => o.kind === 'written')).toBe(true);
    expect(out.slice(4).every((o) => o.kind === 'unwritten')).toBe(true);
  });

  it('hands back the whole batch when the first write fails for a transient reason', async () => {
    const out = await writeIsolating([1, 2], async () => {
      throw pgError('57P01');
    });
    expect(out.map((o) => o.kind)).toEqual(['unwritten', 'unwritten']);
  });

  it('does not dead-letter a row whose data error does not repeat when it is written alone again', async () => {
    // A server swapping a schema in can answer a data-class error for a moment: the batch, a half
    // and the row alone each fail once; the row's confirming write succeeds, so nothing is rejected.
    let failures = 3;
    const log: number[][] = [];
    const out = await writeIsolating([1, 2, 3, 4], async (rows) => {
      log.push([...rows]);
      if (failures-- > 0) throw pgError('23503');
      return rows.map((n) => n * 10);
    });
    expect(out.map((o) => o.kind)).toEqual(['written', 'written', 'written', 'written']);
    expect(log).toEqual([[1, 2, 3, 4], [1, 2], [1], [1], [2], [3, 4]]);
  });

  it('treats a transient error on the confirming write as an outage: nothing rejected', async () => {
    const errors = [pgError('22021'), pgError('22021'), pgError('22021'), pgError('57P03')];
    const out = await writeIsolating([1, 2, 3], async (rows) => {
      const e = errors.shift();
      if (e) throw e;
      return rows.map((n) => n * 10);
    });
    expect(out.map((o) => o.kind)).toEqual(['unwritten', 'unwritten', 'unwritten']);
  });
});
