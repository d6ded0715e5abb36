/**
 * Migrations 0014 and 0016 (traffic tables, then shadow_predictions, partitioned by day) and the
 * partition upkeep, on real PostgreSQL: a database that holds traffic from before each migration is
 * upgraded in place with every row kept and readable; new rows land in their day's partition; a row of an unexpected time is caught by the
 * default partition, not refused; retention drops the old partitions and only those; an idempotent
 * feedback retry is still stored exactly once, concurrently and across the upgrade.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index';
import { migrate, MIGRATIONS_DIR } from '../../db/migrate';
import { createScratchDatabase, dropDatabase } from '../../scripts/stack/postgres';
import { maintainTrafficPartitions } from '../../activities/traffic-partitions';
import { PredictionRecorder, type PredictionRow } from '../../serving/recorder';
import { storeFeedbackGroup, type ScoredItem } from '../../serving/feedback';
import { shadowWriter, type ShadowRow } from '../../serving/shadow';
import { WriterMonitor } from '../../serving/writer-health';
import { addDays, partitionName, utcDay } from '../../lib/data/partitions';
import { createdNearIdSql, uuidv7TimeSql } from '../../lib/data/id-time';
import { uuidv7 } from '../../serving/uuid';

const config = loadConfig();
const dbName = `flywheel_partitions_${randomUUID().slice(0, 8)}`;
let db: pg.Pool;
let dbUrl: string;
const today = utcDay(new Date());
const day = (n: number) => addDays(today, n);
const HOUR = 3_600_000;

/** The rows seeded before the migration, per table. */
const SEEDED = 240;

async function where(table: string, id: string): Promise<string> {
  const { rows } = await db.query<{ part: string }>(`SELECT tableoid::regclass::text AS part FROM ${table} WHERE id = $1`, [id]);
  expect(rows, `${table} row ${id}`).toHaveLength(1);
  return rows[0]!.part;
}

function prediction(createdAt: Date): PredictionRow {
  return { id: randomUUID(), model: 'part-test', version: '1', unitKey: null, latencyMs: 1, outcome: 'ok', predictedLabel: 'a', createdAt };
}

function label(predictionId: string, key: string | null, value = 'a'): ScoredItem {
  return { predictionId, kind: 'label', value: null, label: value, event: null, comment: null, source: 'part-test', unitKey: null, idempotencyKey: key, quality: 1, qualityFlags: [], sentiment: null, sentimentLabel: null };
}

async function record(rows: PredictionRow[]): Promise<void> {
  const failures: Error[] = [];
  const recorder = new PredictionRecorder(db, { flushMs: 10_000, flushRows: 1000, maxRows: 10_000 }, { recorded: () => undefined, dropped: () => undefined, failed: (e) => failures.push(e) });
  for (const r of rows) recorder.record(r);
  await recorder.close();
  expect(failures).toEqual([]);
}

beforeAll(async () => {
  const url = await createScratchDatabase(config, dbName);
  dbUrl = url;
  // The schema as it was before 0014, from the same files.
  const before = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-migrations-'));
  for (const f of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f < '0014')) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(before, f));
  expect(await migrate(url, before)).toContain('0013_online_leases');
  fs.rmSync(before, { recursive: true, force: true });
  db = new pg.Pool({ connectionString: url, max: 12 });
  // Ten days of traffic, one row an hour, with a label (half of them keyed) and an online prediction each.
  await db.query(
    `INSERT INTO predictions (id, model, version, latency_ms, outcome, predicted_label, created_at, features)
     SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'part-test', '1', 1, 'ok', 'a', now() - i * interval '1 hour', '{1,2}'
       FROM generate_series(1, $1) i`,
    [SEEDED],
  );
  await db.query(
    `INSERT INTO feedback (prediction_id, kind, label, idempotency_key, source, created_at)
     SELECT id, 'label', 'a', CASE WHEN row_number() OVER (ORDER BY id) % 2 = 0 THEN 'old-' || id END, 'part-test', created_at + interval '1 minute' FROM predictions`,
  );
  await db.query(`INSERT INTO online_predictions (id, model, generation, features, predicted_label, created_at) SELECT id, 'o', 1, '{1,2}', 'a', created_at FROM predictions`);
  // 0014 first, then 0015 (shadow_predictions, not partitioned yet), nothing from before.
  const upTo0015 = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-migrations-'));
  for (const f of fs.readdirSync(MIGRATIONS_DIR).filter((f) => f < '0016')) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(upTo0015, f));
  const applied = await migrate(url, upTo0015);
  fs.rmSync(upTo0015, { recursive: true, force: true });
  expect(applied).toEqual(['0014_traffic_partitions', '0015_shadow']);
  // A shadow answer for every seeded prediction, at its time, before 0016.
  await db.query(
    `INSERT INTO shadow_predictions (prediction_id, model, version, predicted_label, latency_ms, outcome, created_at) SELECT id, 'part-test', '2', 'b', 1, 'ok', created_at FROM predictions`,
  );
  // Then 0016 and whatever came after it.
  const rest = await migrate(url);
  expect(rest[0]).toBe('0016_shadow_partitions');
}, 120_000);

afterAll(async () => {
  await db?.end();
  await dropDatabase(config, dbName);
});

describe('migration 0014 on a database with traffic', () => {
  it('turns the four tables into partitioned tables and keeps every row, in the legacy partition', async () => {
    for (const table of ['predictions', 'feedback', 'online_predictions', 'shadow_predictions']) {
      const kind = await db.query<{ relkind: string }>('SELECT relkind FROM pg_class WHERE oid = $1::regclass', [table]);
      expect(kind.rows[0]!.relkind, table).toBe('p');
      const { rows } = await db.query<{ part: string; n: number }>(`SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM ${table} GROUP BY 1`);
      expect(rows, table).toEqual([{ part: `${table}_legacy`, n: SEEDED }]);
    }
    // Readable as before: the snapshot's join of predictions with their labels.
    const joined = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM predictions p JOIN feedback f ON f.prediction_id = p.id AND f.kind = 'label'
        WHERE p.model = 'part-test' AND p.created_at >= now() - interval '11 days'`,
    );
    expect(joined.rows[0]!.n).toBe(SEEDED);
    // The shadow comparison's join, and the shadow table's key and window index on the parent.
    const shadowed = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM shadow_predictions s JOIN predictions p ON p.id = s.prediction_id WHERE s.model = 'part-test' AND s.version = '2' AND s.created_at >= now() - interval '11 days'`,
    );
    expect(shadowed.rows[0]!.n).toBe(SEEDED);
    const indexes = await db.query<{ def: string }>(`SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'shadow_predictions'::regclass ORDER BY 1`);
    expect(indexes.rows.map((r) => r.def.replace(/^.* USING btree /, ''))).toEqual(['(model, version, created_at)', '(prediction_id, version, created_at)']);
    const keys = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback_keys');
    expect(keys.rows[0]!.n).toBe(SEEDED / 2);
  });

  it('is idempotent: running its SQL again changes nothing', async () => {
    const count = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = ANY('{predictions,feedback,online_predictions,shadow_predictions}'::regclass[])`)).rows[0]!.n;
    const before = await count();
    expect(before).toBe(4 * (2 + 7)); // legacy + default + seven days ahead, per table
    for (const file of ['0014_traffic_partitions.sql', '0015_shadow.sql', '0016_shadow_partitions.sql']) await db.query(fs.readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'));
    expect(await count()).toBe(before);
  });

  it("puts new rows in their day's partition, older ones in the legacy partition, and catches rows of any other time in the default one", async () => {
    const tomorrow = prediction(new Date(day(1).getTime() + 5 * HOUR));
    const past = prediction(new Date('2001-01-01T00:00:00Z'));
    const future = prediction(new Date('2100-01-01T00:00:00Z'));
    await record([tomorrow, past, future]);
    // A retried batch carries the same (id, created_at): stored once.
    await record([tomorrow]);
    expect(await where('predictions', tomorrow.id)).toBe(partitionName('predictions', day(1)));
    // The legacy partition covers everything before its end (MINVALUE): a clock far behind lands there.
    expect(await where('predictions', past.id)).toBe('predictions_legacy');
    expect(await where('predictions', future.id)).toBe('predictions_default');
  });

  it("finds a prediction by its id in that id's day only, and an id without a time anywhere", async () => {
    const at = new Date(day(1).getTime() + 7 * HOUR + 123);
    const row = { ...prediction(at), id: uuidv7(at.getTime()) };
    await record([row]);
    const [{ t }] = (await db.query<{ t: Date }>(`SELECT ${uuidv7TimeSql('$1::uuid')} AS t`, [row.id])).rows as [{ t: Date }];
    expect(t.getTime()).toBe(at.getTime());
    // What a lookup by id reads: with the bound from the id, one partition (the others pruned, or never run).
    const scanned = async (id: string) => {
      const { rows } = await db.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT id FROM predictions p WHERE p.id = $1 AND ${createdNearIdSql('p.created_at', '$1::uuid')}`,
        [id],
      );
      return rows.map((r) => r['QUERY PLAN']).filter((l) => / on predictions_\w+/.test(l) && !l.includes('never executed')).map((l) => / on (predictions_\w+)/.exec(l)![1]);
    };
    expect(await scanned(row.id)).toEqual([partitionName('predictions', day(1))]);
    expect((await db.query('SELECT 1 FROM predictions p WHERE p.id = $1 AND ' + createdNearIdSql('p.created_at', '$1::uuid'), [row.id])).rowCount).toBe(1);
    // A seeded row's id is a UUIDv4: no time, so no bound, and it is still found (in the legacy partition).
    const legacyId = '00000000-0000-4000-8000-000000000001';
    expect(await scanned(legacyId)).toContain('predictions_legacy');
    expect((await db.query('SELECT 1 FROM predictions p WHERE p.id = $1 AND ' + createdNearIdSql('p.created_at', '$1::uuid'), [legacyId])).rowCount).toBe(1);
  });

  it("puts new shadow answers in their day's partition, and a retried batch stores nothing twice", async () => {
    const shadow = (p: PredictionRow): ShadowRow => ({ predictionId: p.id, model: p.model, version: '2', predictedLabel: 'b', latencyMs: 1, outcome: 'ok', createdAt: p.createdAt });
    const rows = [prediction(new Date(day(1).getTime() + 5 * HOUR)), prediction(new Date('2001-01-01T00:00:00Z')), prediction(new Date('2100-01-01T00:00:00Z'))].map(shadow);
    for (const batch of [rows, rows]) {
      const failures: Error[] = [];
      const writer = shadowWriter(db, { flushMs: 10_000, flushRows: 1000, maxRows: 10_000 }, { recorded: () => undefined, dropped: () => undefined, failed: (e) => failures.push(e) }, new WriterMonitor('shadow_predictions', undefined));
      for (const r of batch) writer.record(r);
      await writer.close();
      expect(failures).toEqual([]);
    }
    const { rows: stored } = await db.query<{ part: string }>(`SELECT tableoid::regclass::text AS part FROM shadow_predictions WHERE prediction_id = ANY($1::uuid[]) ORDER BY created_at`, [rows.map((r) => r.predictionId)]);
    expect(stored.map((r) => r.part)).toEqual(['shadow_predictions_legacy', partitionName('shadow_predictions', day(1)), 'shadow_predictions_default']);
  });

  it('stores an idempotent feedback retry exactly once, also when retried concurrently and across the upgrade', async () => {
    const p = randomUUID();
    const key = `retry-${p}`;
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => storeFeedbackGroup(db, [label(p, key)])));
    const statuses = outcomes.map((o) => o[0]!.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const ids = new Set(outcomes.map((o) => (o[0] as { row: { id: string } }).row.id));
    expect(ids.size).toBe(1);
    const stored = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback WHERE idempotency_key = $1', [key]);
    expect(stored.rows[0]!.n).toBe(1);
    // The same key for something else is a conflict, and stores nothing.
    const [conflict] = await storeFeedbackGroup(db, [label(p, key, 'b')]);
    expect(conflict!.status).toBe(409);
    // A key stored before the migration (its row in the legacy partition) still answers its retry.
    const { rows: old } = await db.query<{ prediction_id: string; idempotency_key: string; id: string }>(
      `SELECT prediction_id::text, idempotency_key, id::text FROM feedback WHERE idempotency_key IS NOT NULL AND tableoid = 'feedback_legacy'::regclass LIMIT 1`,
    );
    const [again] = await storeFeedbackGroup(db, [label(old[0]!.prediction_id, old[0]!.idempotency_key)]);
    expect(again).toMatchObject({ status: 200, row: { id: old[0]!.id } });
    const total = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback WHERE idempotency_key = $1', [old[0]!.idempotency_key]);
    expect(total.rows[0]!.n).toBe(1);
    // Several keys and unkeyed items in one group keep the items' order.
    const [q1, q2, q3] = [randomUUID(), randomUUID(), randomUUID()];
    const group = [label(q1, null), label(q2, `g1-${p}`), label(q2, `g1-${p}`), label(q3, null, 'c')];
    const res = await storeFeedbackGroup(db, group);
    expect(res.map((r) => r.status)).toEqual([201, 201, 200, 201]);
  });

  it('lets exactly one label stand per prediction when two gateways store different labels for it at once', async () => {
    // A second gateway: its own connections, no guard in front (each gateway's guard reads "no label yet").
    const other = new pg.Pool({ connectionString: dbUrl, max: 4 });
    try {
      // Predictions of tomorrow (a daily partition) and one UUIDv4 (no time: claimed at the epoch).
      const ids = [...Array.from({ length: 20 }, (_, i) => uuidv7(day(1).getTime() + HOUR + i)), randomUUID()];
      const keyOf = (gateway: string, i: number, p: string) => (i % 2 === 1 ? `${gateway}-${p}` : null);
      const results = await Promise.all(
        ids.map((p, i) => Promise.all([storeFeedbackGroup(db, [label(p, keyOf('a', i, p), 'a')]), storeFeedbackGroup(other, [label(p, keyOf('b', i, p), 'b')])])),
      );
      const winners = results.map(([[a], [b]]) => {
        expect([a!.status, b!.status].sort()).toEqual([201, 409]);
        const lost = a!.status === 409 ? a! : b!;
        expect(lost).toMatchObject({ message: expect.stringMatching(/already has a label; the first label stands/) });
        return a!.status === 201 ? 'a' : 'b';
      });
      // One label per prediction in the table, the winner's, and the claim names its row.
      const { rows } = await db.query<{ p: string; labels: string[]; claimed: string; part: string }>(
        `SELECT f.prediction_id::text AS p, array_agg(f.label) AS labels, min(c.label) AS claimed, min(l.tableoid::regclass::text) AS part
           FROM feedback f JOIN first_labels l ON l.prediction_id = f.prediction_id
           JOIN feedback c ON c.id = l.feedback_id AND c.created_at = l.feedback_at
          WHERE f.prediction_id = ANY($1::uuid[]) GROUP BY 1`,
        [ids],
      );
      const byId = new Map(rows.map((r) => [r.p, r]));
      ids.forEach((p, i) => {
        expect(byId.get(p), p).toMatchObject({ labels: [winners[i]], claimed: winners[i] });
        // In the partition of the prediction's own day (a UUIDv4 has no time: the epoch's, legacy).
        expect(byId.get(p)!.part).toBe(i < 20 ? partitionName('first_labels', day(1)) : 'first_labels_legacy');
      });
      // Retries: the winner's is a repeat (200); the loser's key was spent on a label that lost (409 again).
      for (let i = 1; i < 20; i += 2) {
        const p = ids[i]!;
        const w = winners[i]!;
        const l = w === 'a' ? 'b' : 'a';
        const [again] = await storeFeedbackGroup(db, [label(p, keyOf(w, i, p), w)]);
        expect(again!.status).toBe(200);
        const [lostAgain] = await storeFeedbackGroup(other, [label(p, keyOf(l, i, p), l)]);
        expect(lostAgain).toMatchObject({ status: 409, message: expect.stringMatching(/first label stands/) });
      }
      // Other kinds of feedback are not limited to one per prediction.
      const more = await storeFeedbackGroup(other, [{ ...label(ids[0]!, null), kind: 'rating', label: null, value: 4 }, { ...label(ids[0]!, null), kind: 'rating', label: null, value: 5 }]);
      expect(more.map((o) => o.status)).toEqual([201, 201]);
    } finally {
      await other.end();
    }
  });

  it('moves rows out of the default partition when their day gets a partition', async () => {
    const later = prediction(new Date(day(20).getTime() + HOUR));
    await record([later]);
    expect(await where('predictions', later.id)).toBe('predictions_default');
    const [predictions] = await maintainTrafficPartitions(db, { retentionDays: { predictions: 0, feedback: 0, online_predictions: 0, shadow_predictions: 0 }, aheadDays: 1 }, { now: day(20).toISOString() });
    expect(predictions!.created).toEqual([partitionName('predictions', day(20)), partitionName('predictions', day(21))]);
    expect(predictions!.defaultRowsMoved).toBe(1);
    expect(predictions!.dropped).toEqual([]);
    expect(await where('predictions', later.id)).toBe(partitionName('predictions', day(20)));
  });

  it('drops the partitions past the retention and only those, with their idempotency keys', async () => {
    const kept = prediction(new Date(day(3).getTime() + HOUR));
    await record([kept]);
    const keyOnKeptDay = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback_keys');
    // Five days from now with three days kept: the legacy partition (ends tomorrow) and tomorrow's go;
    // from the day after tomorrow on, everything stays.
    const result = await maintainTrafficPartitions(db, { retentionDays: { predictions: 3, feedback: 3, online_predictions: 3, shadow_predictions: 3 }, aheadDays: 2 }, { now: day(5).toISOString() });
    for (const t of result) {
      expect(t.cutoff, t.table).toBe(day(2).toISOString());
      expect(t.dropped.map((d) => d.name).sort(), t.table).toEqual([`${t.table}_legacy`, partitionName(t.table, day(1))].sort());
      expect(t.skipped, t.table).toEqual([]);
    }
    const parts = await db.query<{ name: string }>(`SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'predictions'::regclass`);
    expect(parts.rows.map((r) => r.name).sort()).toEqual([...[2, 3, 4, 5, 6, 7, 20, 21].map((n) => partitionName('predictions', day(n))), 'predictions_default'].sort());
    // The rows of kept days and the default partition's future row stay; the one from 2001 went with the legacy partition.
    expect(await where('predictions', kept.id)).toBe(partitionName('predictions', day(3)));
    const defaultRows = async () => (await db.query<{ created_at: Date }>('SELECT created_at FROM predictions_default ORDER BY created_at')).rows.map((r) => r.created_at.toISOString());
    expect(await defaultRows()).toEqual(['2100-01-01T00:00:00.000Z']);
    // With the legacy partition gone, a row from a clock far behind lands in the default partition,
    // and the next run deletes it there as past the retention.
    const past = prediction(new Date('2001-01-01T00:00:00Z'));
    await record([past]);
    expect(await where('predictions', past.id)).toBe('predictions_default');
    const [again] = await maintainTrafficPartitions(db, { retentionDays: { predictions: 3, feedback: 3, online_predictions: 3, shadow_predictions: 3 }, aheadDays: 2 }, { now: day(5).toISOString() });
    expect(again).toMatchObject({ table: 'predictions', created: [], dropped: [], defaultRowsDeleted: 1 });
    expect(await defaultRows()).toEqual(['2100-01-01T00:00:00.000Z']);
    // Every feedback row so far was stored today, so in the legacy partition (it ends tomorrow):
    // all of them are gone, and so are all their keys.
    const keys = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback_keys');
    expect(keyOnKeptDay.rows[0]!.n).toBeGreaterThan(0);
    expect(keys.rows[0]!.n).toBe(0);
    expect(result.find((t) => t.table === 'feedback')!.keysDeleted).toBe(keyOnKeptDay.rows[0]!.n);
    const left = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback');
    expect(left.rows[0]!.n).toBe(0);
  });
});
