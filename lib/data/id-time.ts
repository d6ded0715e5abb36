/**
 * Where a traffic row lives, read from its id. Prediction ids (predictions, online_predictions) are
 * UUIDv7 made from the same instant as the row's `created_at` (serving/app.ts, online-routes.ts),
 * and those tables are partitioned by `created_at`: a lookup by id alone probes the primary-key
 * index of every daily partition kept — a cost that grows with retention, not with the rows
 * wanted (issue 18's sustained-ingestion run: the feedback trust check saturated PostgreSQL that
 * way). Bounding `created_at` by the id's own time lets PostgreSQL prune to the one partition
 * (two around midnight): at plan time for ids passed as parameters (`idTimeBounds`), at run time
 * for ids read from another table (`createdNearIdSql`, a per-row bound on the inner side of a
 * nested loop).
 *
 * Ids that are not UUIDv7 (rows from before time-ordered ids, or made by hand) carry no time:
 * they get no bound, so they are still found, at the old cost.
 */

/** How far a row's `created_at` may be from its id's time: the same clock made both, so any slack
 * only has to cover rounding; an hour costs nothing (partitions are days) and forgives a writer that
 * stamps the two a moment apart. */
export const ID_TIME_SLACK_MS = 3_600_000;
const SLACK_SQL = '1 hour';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** The millisecond time a UUIDv7 carries; null for any other id. */
export function uuidv7TimeOrNull(id: string): number | null {
  if (!V7.test(id)) return null;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/**
 * `created_at` bounds covering every id's row, for `created_at between $from and $to` beside an
 * `id = any(...)`; `{ from: null, to: null }` (no bound: pass them as SQL nulls and write the
 * condition as `($from::timestamptz is null or created_at >= $from)`) when any id is not a UUIDv7
 * or there are none.
 */
export function idTimeBounds(ids: Iterable<string>): { from: Date | null; to: Date | null } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const id of ids) {
    const t = uuidv7TimeOrNull(id);
    if (t === null) return { from: null, to: null };
    lo = Math.min(lo, t);
    hi = Math.max(hi, t);
  }
  if (lo === Infinity) return { from: null, to: null };
  return { from: new Date(lo - ID_TIME_SLACK_MS), to: new Date(hi + ID_TIME_SLACK_MS) };
}

/**
 * The ids in groups whose own time bounds (idTimeBounds of each group) cover only their days: ids
 * sorted by time, a new group wherever two neighbours are further apart than twice the slack (so
 * the groups' bounds never overlap), and ids that are not UUIDv7 in a group of their own (read
 * unbounded). One statement per group keeps a lookup that coalesces many clients' ids from being
 * widened by one old or forged id to every partition in between: that id gets its own day.
 */
export function groupByIdTime(ids: Iterable<string>): string[][] {
  const timed: Array<[number, string]> = [];
  const untimed: string[] = [];
  for (const id of ids) {
    const t = uuidv7TimeOrNull(id);
    if (t === null) untimed.push(id);
    else timed.push([t, id]);
  }
  timed.sort((a, b) => a[0] - b[0]);
  const groups: string[][] = [];
  let last = -Infinity;
  for (const [t, id] of timed) {
    if (t - last > 2 * ID_TIME_SLACK_MS || groups.length === 0) groups.push([]);
    groups[groups.length - 1]!.push(id);
    last = t;
  }
  if (untimed.length > 0) groups.push(untimed);
  return groups;
}

/** SQL: the timestamptz a UUIDv7 column or expression carries, or null for any other uuid. */
export function uuidv7TimeSql(id: string): string {
  return `(case when substr(${id}::text, 15, 1) = '7' then to_timestamp(('x' || substr(${id}::text, 1, 8) || substr(${id}::text, 10, 4))::bit(48)::bigint / 1000.0) end)`;
}

/**
 * SQL condition: `created` (a partitioned table's `created_at`) is within the slack of the time in
 * `id` (a uuid from another table, or a parameter), or unbounded when the id is not a UUIDv7. On the
 * inner side of a join it lets the executor skip every partition but the id's own.
 */
export function createdNearIdSql(created: string, id: string): string {
  const t = uuidv7TimeSql(id);
  return `${created} between coalesce(${t} - interval '${SLACK_SQL}', '-infinity') and coalesce(${t} + interval '${SLACK_SQL}', 'infinity')`;
}
