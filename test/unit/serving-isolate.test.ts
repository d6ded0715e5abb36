import { describe, expect, it } from 'vitest';
import { writeIsolating } from '../../serving/isolate';

function pgError(code: string, message = `sqlstate ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/** A table that refuses rows containing 'bad' (22021, like a NUL byte) and records what it stored. */
function table(opts: { failNext?: Error[] } = {}) {
  const stored: string[] = [];
  const statements: string[][] = [];
  const failNext = [...(opts.failNext ?? [])];
  async function write(rows: readonly string[]): Promise<string[]> {
    statements.push([...rows]);
    const once = failNext.shift();
    if (once) throw once;
    if (rows.some((r) => r.includes('bad'))) throw pgError('22021');
    stored.push(...rows);
    return rows.map((r) => r.toUpperCase());
  }
  return { stored, statements, write };
}

describe('writeIsolating', () => {
  it('writes an honest batch in one statement', async () => {
    const t = table();
    const out = await writeIsolating(['a', 'b', 'c'], t.write);
    expect(out.map((o) => o.kind)).toEqual(['written', 'written', 'written']);
    expect(out.map((o) => (o.kind === 'written' ? o.value : undefined))).toEqual(['A', 'B', 'C']);
    expect(t.statements).toHaveLength(1);
  });

  it('rejects only the rows the database refuses, keeping the others in order', async () => {
    const t = table();
    const rows = ['a', 'bad1', 'c', 'd', 'e', 'bad2', 'g'];
    const out = await writeIsolating(rows, t.write);
    expect(out.map((o) => o.kind)).toEqual(['written', 'rejected', 'written', 'written', 'written', 'rejected', 'written']);
    expect(t.stored).toEqual(['a', 'c', 'd', 'e', 'g']);
  });

  it('hands back every unwritten row on an error that is not about the data', async () => {
    const t = table({ failNext: [pgError('57P01')] });
    const out = await writeIsolating(['a', 'b'], t.write);
    expect(out.map((o) => o.kind)).toEqual(['unwritten', 'unwritten']);
    expect(t.stored).toEqual([]);
  });

  it('stops at the first transient error met while bisecting: later rows are retried, not rejected', async () => {
    const t = table({ failNext: [pgError('22021'), pgError('08006')] });
    const out = await writeIsolating(['a', 'b', 'c', 'd'], t.write);
    expect(out.map((o) => o.kind)).toEqual(['unwritten', 'unwritten', 'unwritten', 'unwritten']);
  });

  it('does not dead-letter a row whose data error does not repeat when it is written alone again', async () => {
    // A server swapping its schema in can answer a data-class error for a moment: the whole batch,
    // then each half, then the row alone fail once each; the row's second try succeeds.
    const t = table({ failNext: [pgError('23503'), pgError('23503'), pgError('23503')] });
    const out = await writeIsolating(['a', 'b', 'c', 'd'], t.write);
    expect(out.map((o) => o.kind)).toEqual(['written', 'written', 'written', 'written']);
    expect(t.stored.sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('treats a transient error on the confirming write as an outage', async () => {
    const t = table({ failNext: [pgError('22021'), pgError('22021'), pgError('22021'), pgError('57P03')] });
    const out = await writeIsolating(['a', 'b', 'c'], t.write);
    expect(out[0]).toMatchObject({ kind: 'unwritten' });
    expect(out.every((o) => o.kind === 'unwritten')).toBe(true);
  });
});
