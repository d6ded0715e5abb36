/**
 * Daily time partitions of the traffic tables (predictions, feedback, online_predictions: migration
 * 0014_traffic_partitions.sql; shadow_predictions: 0016_shadow_partitions.sql; first_labels:
 * 0017_first_labels.sql): which partitions to create ahead and which to drop past a retention.
 * Pure: the maintenance (activities/traffic-partitions.ts) reads the partitions that exist and
 * carries out the plan made here.
 *
 * A table has three kinds of partition:
 *  - daily ones, `<table>_pYYYYMMDD`, covering [that UTC day 00:00, next day 00:00);
 *  - at most one `<table>_legacy`: the table as it was before the migration, covering everything
 *    before the first daily partition (lower bound MINVALUE);
 *  - `<table>_default`: catches a row whose time no partition covers (a gateway's clock far off,
 *    the maintenance not run for days), so nothing acknowledged is refused. Never dropped.
 */

export const TRAFFIC_TABLES = ['predictions', 'feedback', 'online_predictions', 'shadow_predictions', 'first_labels'] as const;
export type TrafficTable = (typeof TRAFFIC_TABLES)[number];

/** The tables with a retention of their own (configured per table). */
export type RetainedTable = Exclude<TrafficTable, 'first_labels'>;

/**
 * The table whose configured retention `table` follows: first_labels is partitioned by its
 * predictions' time and needed as long as they can be labelled, so it is kept as long as they are.
 */
export function retentionTable(table: TrafficTable): RetainedTable {
  return table === 'first_labels' ? 'predictions' : table;
}

const DAY_MS = 86_400_000;

export interface ExistingPartition {
  name: string;
  /** null: the default partition. */
  bounds: { from: Date | null; to: Date } | null;
  /** The planner's estimate (pg_class.reltuples); -1 when never analysed. */
  rowEstimate?: number;
}

export interface NewPartition {
  name: string;
  from: Date;
  to: Date;
}

export interface PartitionPlan {
  table: TrafficTable;
  create: NewPartition[];
  /** Partitions whose every row is older than the retention: their newest possible row is before `cutoff`. */
  drop: ExistingPartition[];
  /** Rows older than this are past the retention; null when the table is kept forever. */
  cutoff: Date | null;
}

export interface PlanOptions {
  now: Date;
  /** Days after today to have a partition for already (today always has one). */
  aheadDays: number;
  /** Whole days of history to keep before today; 0 keeps everything. */
  retentionDays: number;
}

/** 00:00 UTC of the day `d` falls in. */
export function utcDay(d: Date): Date {
  return new Date(Math.floor(d.getTime() / DAY_MS) * DAY_MS);
}

export function addDays(d: Date, days: number): Date {
  return new Date(d.getTime() + days * DAY_MS);
}

/** `predictions_p20261203` for the partition holding 2026-12-03 (UTC). */
export function partitionName(table: TrafficTable, day: Date): string {
  const iso = utcDay(day).toISOString();
  return `${table}_p${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}`;
}

export function dailyPartition(table: TrafficTable, day: Date): NewPartition {
  const from = utcDay(day);
  return { name: partitionName(table, from), from, to: addDays(from, 1) };
}

/** [from, to) ranges overlap; a null `from` is MINVALUE. */
function overlaps(a: { from: Date | null; to: Date }, b: { from: Date; to: Date }): boolean {
  return (a.from === null || a.from < b.to) && b.from < a.to;
}

/**
 * The first day of retained history: with a retention of N days, today and the N days before it
 * are kept, so a partition is dropped once its upper bound is at or before `today − N days`.
 */
export function retentionCutoff(now: Date, retentionDays: number): Date | null {
  if (retentionDays <= 0) return null;
  return addDays(utcDay(now), -retentionDays);
}

export function planPartitions(table: TrafficTable, existing: readonly ExistingPartition[], opts: PlanOptions): PartitionPlan {
  if (!Number.isInteger(opts.aheadDays) || opts.aheadDays < 0) throw new RangeError(`aheadDays must be a whole number ≥ 0, got ${opts.aheadDays}`);
  if (!Number.isInteger(opts.retentionDays) || opts.retentionDays < 0) throw new RangeError(`retentionDays must be a whole number ≥ 0, got ${opts.retentionDays}`);
  const ranged = existing.filter((p): p is ExistingPartition & { bounds: { from: Date | null; to: Date } } => p.bounds !== null);
  const today = utcDay(opts.now);
  const create: NewPartition[] = [];
  for (let i = 0; i <= opts.aheadDays; i++) {
    const p = dailyPartition(table, addDays(today, i));
    // A day covered (even in part: the legacy partition ends at a day boundary, but be safe) is left alone.
    if (!ranged.some((e) => overlaps(e.bounds, p))) create.push(p);
  }
  const cutoff = retentionCutoff(opts.now, opts.retentionDays);
  const drop = cutoff === null ? [] : ranged.filter((p) => p.bounds.to.getTime() <= cutoff.getTime());
  return { table, create, drop, cutoff };
}

/**
 * How much earlier than its prediction a piece of feedback can be stored: never, but the two times
 * come from two clocks (the gateway stamps predictions, PostgreSQL feedback), so an hour of skew is
 * allowed for. A lookup of a prediction's feedback bounded by `created_at >= p.created_at − this`
 * reads only the partitions from the prediction's day on, instead of probing every day kept.
 */
export const LABEL_SKEW = '1 hour';
