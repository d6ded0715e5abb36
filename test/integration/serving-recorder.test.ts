/**
 * The prediction recorder against real PostgreSQL: while its database is missing, recording
 * stays instant, failures are counted, the buffer stays bounded; once the database exists the
 * buffered rows are written, each exactly once.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, withDatabase } from '../../config/index';
import { migrate } from '../../db/migrate';
import { PredictionRecorder, type PredictionRow } from '../../serving/recorder';
import { uuidv7 } from '../../serving/uuid';

const config = loadConfig();
const dbName = `flywheel_recorder_${randomUUID().slice(0, 8)}`;
const url = withDatabase(config.postgres.url, dbName);
// The database is made, renamed and dropped with the admin login; the recorder writes as Flywheel's role.
const admin = new pg.Pool({ connectionString: config.postgres.adminUrl, max: 1 });
const owner = new URL(config.postgres.url).username || 'flywheel';

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

function rows(n: number): PredictionRow[] {
  return Array.from({ length: n }, (_, i) => ({
    id: uuidv7(),
    model: 'recorder-test',
    version: '1',
    unitKey: i % 2 ? `u-${i}` : null,
    latencyMs: 0.5,
    outcome: i % 10 === 0 ? 'error' : 'ok',
    predictedLabel: i % 10 === 0 ? null : 'a',
    createdAt: new Date(),
  }));
}

describe('PredictionRecorder on real PostgreSQL', () => {
  it('buffers through an outage without slowing callers, drops past its bound, then writes every kept row once', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => undefined);
    const counts = { recorded: 0, dropped: 0, failed: 0, batches: 0 };
    const recorder = new PredictionRecorder(pool, { flushMs: 50, flushRows: 100, maxRows: 1000 }, {
      recorded: (n) => ((counts.recorded += n), counts.batches++),
      dropped: (n) => (counts.dropped += n),
      failed: () => counts.failed++,
    });

    const batch = rows(1200);
    // Appending is all a request pays, database or not: record() is synchronous and nothing has
    // been written (or failed) by the time it returns.
    for (const r of batch) expect(recorder.record(r)).toBeUndefined();
    expect([counts.recorded, counts.failed]).toEqual([0, 0]);
    expect(recorder.size).toBeLessThanOrEqual(1000);

    // The batch in flight when the buffer filled fails and finds no room to go back: dropped too.
    await new Promise((r) => setTimeout(r, 500));
    expect(counts.failed).toBeGreaterThan(0);
    expect(recorder.size).toBe(1000);
    expect(counts.dropped).toBe(200);

    // The database comes back whole (created and migrated under another name, then renamed), as
    // after a real outage: a gateway never runs against a half-migrated schema (it migrates before
    // it serves), and the writer's retries must not race the migrations here either.
    const staging = `${dbName}_staging`;
    await admin.query(`DROP DATABASE IF EXISTS ${staging} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${staging} OWNER ${owner}`);
    await migrate(withDatabase(config.postgres.url, staging));
    await admin.query(`ALTER DATABASE ${staging} RENAME TO ${dbName}`);
    const deadline = Date.now() + 15_000;
    while (recorder.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(recorder.size).toBe(0);
    // All at once, so a failure says where the missing rows went (dropped, dead-lettered, or written twice).
    const { rows: letters } = await pool.query<{ sqlstate: string | null; error: string }>('SELECT sqlstate, error FROM dead_letters');
    expect({ ...counts, failed: undefined, deadLetters: letters }).toEqual({ recorded: 1000, dropped: 200, failed: undefined, batches: 10, deadLetters: [] });

    const { rows: stored } = await pool.query<{ id: string }>('SELECT id FROM predictions WHERE id = ANY($1)', [batch.map((r) => r.id)]);
    expect(stored.length).toBe(1000);

    // A batch retried after it had in fact committed (lost acknowledgement) adds nothing.
    const storedIds = new Set(stored.map((r) => r.id));
    for (const r of batch.filter((b) => storedIds.has(b.id)).slice(0, 100)) recorder.record(r);
    await recorder.close();
    const { rows: again } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM predictions');
    expect(again[0]!.n).toBe(1000);
    await pool.end();
  });
});
