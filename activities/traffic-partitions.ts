/**
 * Upkeep of the traffic tables' daily partitions (migration 0014): creates the days ahead, drops
 * whole days past the retention (DROP TABLE: instant, no dead rows left behind) and prunes the
 * idempotency keys of the feedback it dropped. Run by the Reconciler (workflows/reconciler.ts), by
 * `flywheel up` once the migrations are applied, and by hand (`flywheel data retention --apply`).
 * What to do is decided by lib/data/partitions.ts; this file reads the catalogue and runs the DDL.
 *
 * Each DDL statement runs in its own short transaction with a lock timeout: creating or dropping a
 * partition takes a lock on the parent that writers queue behind, so it must never wait long; one
 * that times out is simply left for the next run.
 */
import type pg from 'pg';
import type { FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { planPartitions, retentionTable, TRAFFIC_TABLES, type ExistingPartition, type NewPartition, type TrafficTable } from '../lib/data/partitions';
import { domainLog } from './domain-log';
import { domainMetrics } from './domain-metrics';

const LOCK_TIMEOUT = '2s';
/** feedback_keys rows deleted per statement: short transactions, no long lock on the table. */
const KEY_BATCH = 10_000;

export interface PartitionInfo extends ExistingPartition {
  kind: 'daily' | 'legacy' | 'default';
}

export interface TablePartitions {
  table: TrafficTable;
  /** False when the table is not partitioned (migration 0014 not applied): nothing was done. */
  partitioned: boolean;
  retentionDays: number;
  partitions: PartitionInfo[];
}

export interface TableMaintenance {
  table: TrafficTable;
  partitioned: boolean;
  retentionDays: number;
  cutoff: string | null;
  created: string[];
  dropped: Array<{ name: string; rowEstimate: number }>;
  /** Planner estimate of the rows the dropped partitions held (unanalysed partitions count 0). */
  rowsDropped: number;
  /** Rows past the retention deleted from the default partition (rows no daily partition covered). */
  defaultRowsDeleted: number;
  /** Rows moved out of the default partition into a partition created for their day. */
  defaultRowsMoved: number;
  /** feedback only: idempotency keys deleted with the feedback past the retention. */
  keysDeleted?: number;
  /** DDL that could not take its lock in time, or failed: retried at the next run. */
  skipped: Array<{ name: string; reason: string }>;
  partitions: number;
}

export interface MaintenanceInput {
  /** Now, as ISO text (tests pass another day; default the clock). */
  now?: string;
  /** Only report what would be done. */
  dryRun?: boolean;
}

const q = (ident: string) => `"${ident.replace(/"/g, '""')}"`;
const lit = (d: Date) => `'${d.toISOString()}'`;

export async function listTrafficPartitions(db: pg.Pool, table: TrafficTable): Promise<{ partitioned: boolean; partitions: PartitionInfo[] }> {
  const { rows: kind } = await db.query<{ relkind: string }>('SELECT relkind FROM pg_class WHERE oid = to_regclass($1)', [table]);
  if (kind[0]?.relkind !== 'p') return { partitioned: false, partitions: [] };
  // The bounds are parsed by PostgreSQL itself: pg_get_expr prints them as timestamptz literals.
  const { rows } = await db.query<{ name: string; bound: string; from_at: Date | null; to_at: Date | null; reltuples: number }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound, c.reltuples::float8 AS reltuples,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz AS from_at,
            (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS to_at
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = to_regclass($1)
      ORDER BY to_at NULLS LAST`,
    [table],
  );
  return {
    partitioned: true,
    partitions: rows.map((r) => ({
      name: r.name,
      bounds: r.bound === 'DEFAULT' || r.to_at === null ? null : { from: r.from_at, to: r.to_at },
      rowEstimate: Number(r.reltuples),
      kind: r.bound === 'DEFAULT' ? 'default' : r.from_at === null ? 'legacy' : 'daily',
    })),
  };
}

/** One DDL statement in its own transaction, bounded by the lock timeout. */
async function ddl(db: pg.Pool, statements: string[]): Promise<void> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    for (const s of statements) await client.query(s);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Creates a day's partition. When the default partition already holds rows of that day (the
 * maintenance did not run in time), PostgreSQL refuses a plain CREATE … PARTITION OF (23514): the
 * rows are then moved into a new table that is attached in the same transaction.
 */
async function createPartition(db: pg.Pool, table: TrafficTable, p: NewPartition): Promise<number> {
  const range = `FOR VALUES FROM (${lit(p.from)}) TO (${lit(p.to)})`;
  try {
    await ddl(db, [`CREATE TABLE IF NOT EXISTS ${q(p.name)} PARTITION OF ${q(table)} ${range}`]);
    return 0;
  } catch (err) {
    if ((err as { code?: string }).code !== '23514') throw err;
  }
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
    await client.query(`CREATE TABLE ${q(p.name)} (LIKE ${q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)`);
    const moved = await client.query(
      `WITH moved AS (DELETE FROM ${q(`${table}_default`)} WHERE created_at >= ${lit(p.from)} AND created_at < ${lit(p.to)} RETURNING *)
       INSERT INTO ${q(p.name)} SELECT * FROM moved`,
    );
    await client.query(`ALTER TABLE ${q(table)} ATTACH PARTITION ${q(p.name)} ${range}`);
    await client.query('COMMIT');
    return moved.rowCount ?? 0;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Deletes feedback_keys older than the cutoff in short batches; returns how many. */
async function pruneFeedbackKeys(db: pg.Pool, cutoff: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const r = await db.query(
      `DELETE FROM feedback_keys WHERE idempotency_key = ANY(ARRAY(SELECT idempotency_key FROM feedback_keys WHERE created_at < $1 LIMIT ${KEY_BATCH}))`,
      [cutoff],
    );
    total += r.rowCount ?? 0;
    if ((r.rowCount ?? 0) < KEY_BATCH) return total;
  }
}

export async function maintainTable(db: pg.Pool, table: TrafficTable, opts: { now: Date; aheadDays: number; retentionDays: number; dryRun?: boolean }): Promise<TableMaintenance> {
  const { partitioned, partitions } = await listTrafficPartitions(db, table);
  const out: TableMaintenance = {
    table,
    partitioned,
    retentionDays: opts.retentionDays,
    cutoff: null,
    created: [],
    dropped: [],
    rowsDropped: 0,
    defaultRowsDeleted: 0,
    defaultRowsMoved: 0,
    skipped: [],
    partitions: partitions.length,
  };
  if (!partitioned) return out;
  const plan = planPartitions(table, partitions, opts);
  out.cutoff = plan.cutoff?.toISOString() ?? null;
  if (opts.dryRun) {
    out.created = plan.create.map((p) => p.name);
    out.dropped = plan.drop.map((p) => ({ name: p.name, rowEstimate: Math.max(0, p.rowEstimate ?? 0) }));
    out.rowsDropped = out.dropped.reduce((s, d) => s + d.rowEstimate, 0);
    return out;
  }
  for (const p of plan.create) {
    try {
      out.defaultRowsMoved += await createPartition(db, table, p);
      out.created.push(p.name);
    } catch (err) {
      out.skipped.push({ name: p.name, reason: (err as Error).message });
    }
  }
  if (plan.cutoff) {
    // Keys first: a key must never outlive its row (a retry would find the key and no row).
    if (table === 'feedback') out.keysDeleted = await pruneFeedbackKeys(db, plan.cutoff);
    for (const p of plan.drop) {
      try {
        await ddl(db, [`DROP TABLE IF EXISTS ${q(p.name)}`]);
        const rows = Math.max(0, p.rowEstimate ?? 0);
        out.dropped.push({ name: p.name, rowEstimate: rows });
        out.rowsDropped += rows;
      } catch (err) {
        out.skipped.push({ name: p.name, reason: (err as Error).message });
      }
    }
    if (partitions.some((p) => p.kind === 'default')) {
      const r = await db.query(`DELETE FROM ${q(`${table}_default`)} WHERE created_at < $1`, [plan.cutoff]);
      out.defaultRowsDeleted = r.rowCount ?? 0;
    }
  }
  out.partitions = partitions.length + out.created.length - out.dropped.length;
  return out;
}

export async function maintainTrafficPartitions(db: pg.Pool, traffic: FlywheelConfig['traffic'], input: MaintenanceInput = {}): Promise<TableMaintenance[]> {
  const now = input.now ? new Date(input.now) : new Date();
  const out: TableMaintenance[] = [];
  for (const table of TRAFFIC_TABLES) {
    out.push(await maintainTable(db, table, { now, aheadDays: traffic.aheadDays, retentionDays: traffic.retentionDays[retentionTable(table)], dryRun: input.dryRun }));
  }
  return out;
}

export async function describeTrafficPartitions(db: pg.Pool, traffic: FlywheelConfig['traffic']): Promise<TablePartitions[]> {
  const out: TablePartitions[] = [];
  for (const table of TRAFFIC_TABLES) {
    const { partitioned, partitions } = await listTrafficPartitions(db, table);
    out.push({ table, partitioned, retentionDays: traffic.retentionDays[retentionTable(table)], partitions });
  }
  return out;
}

export function createTrafficPartitionActivities(config: FlywheelConfig) {
  return {
    /** Partitions ahead and retention for the three traffic tables; logged and counted per table. */
    maintainTrafficPartitions: async (input: MaintenanceInput = {}): Promise<TableMaintenance[]> => {
      const result = await maintainTrafficPartitions(getPool(config.postgres.url), config.traffic, input);
      for (const t of result) {
        if (!t.partitioned) continue;
        domainLog(t.skipped.length ? 'warn' : 'info', 'traffic_partitions_maintained', {
          table: t.table,
          created: t.created,
          dropped: t.dropped.map((d) => d.name),
          rowsDropped: t.rowsDropped,
          defaultRowsDeleted: t.defaultRowsDeleted,
          defaultRowsMoved: t.defaultRowsMoved,
          keysDeleted: t.keysDeleted,
          retentionDays: t.retentionDays,
          skipped: t.skipped,
        });
        domainMetrics.trafficPartitions(t.table, t.partitions, t.rowsDropped + t.defaultRowsDeleted);
      }
      return result;
    },
  };
}
