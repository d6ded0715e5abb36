/**
 * The counts `clientBurstContradiction` (lib/feedback/quality.ts) judges a batch of labels by, read
 * in bounded queries, and the verdict per item.
 *
 * For each label in the batch: its prediction's model, version and predicted label; the sending
 * client's own labels in the window (newest `maxRows`, index feedback_label_client_created); and
 * every client's labels, counted per client (the sender's own then left out), for the newest
 * `maxRows` predictions of each model version in the batch made in the window (index predictions_model_version_created, then feedback_prediction), each
 * joined to the prediction it labels and counted per model, version and unit key. A version with
 * fewer than `minOtherLabels` such labels is judged against the model's other served versions
 * (`unitHistory`; the versions are the batch's and the model's active deployments). An item's unit is its unit key when it has one, else the whole model. The batch's
 * own labels count with the client's: a burst sent in one request is judged as a whole.
 *
 * The counts change slowly and cost the most to read: with an `OthersCache` the other clients' are
 * read once per model every `ttlMs`, with a `MineCache` the client's own likewise (plus the labels
 * judged here since), in one query for whatever the caches miss. The batch's predictions come from
 * memory when this gateway made them (`servedHere`), else from one query bounded by the ids' times.
 * A steady stream of labels for this gateway's own predictions then costs no query at all: at a
 * thousand label requests a second, a query each (13 ms of planning over 39 daily partitions) was
 * what saturated PostgreSQL in issue 18's sustained-ingestion run.
 *
 * Only labels from an authenticated client are checked (with authentication off there is no
 * client to attribute a burst to). Every join to `predictions` by id is bounded by the time in the id
 * (lib/data/id-time.ts), so a check reads the partitions of the days it concerns, not every day kept.
 * A failed read skips the check (the item is stored unflagged):
 * the check may down-weight, never refuse.
 */
import type pg from 'pg';
import { SingleFlight } from '../lib/async/single-flight';
import { BoundedMap } from '../lib/feedback/bounded-map';
import type { FeedbackItem } from '../lib/feedback/channels';
import { clientBurstContradiction, DEFAULT_CLIENT_CONTRADICTION, unitHistory, type ClientContradictionOptions, type LabelCounts } from '../lib/feedback/quality';
import { createdNearIdSql, idTimeBounds } from '../lib/data/id-time';
import { LABEL_SKEW } from '../lib/data/partitions';
import { EXCLUDED_FROM_DECISIONS } from '../datasets/decision-feedback';

/** A count row: part 1 the client's own labels, part 2 every client's, per client (the caller leaves out its own). */
export interface CountRow {
  part: number;
  /** Part 2: the client that sent the labels (null: sent with authentication off). */
  client_id?: string | null;
  model: string;
  version: string;
  unit_key: string | null;
  labels: string | number;
  contradicting: string | number;
}

type Row = CountRow;

/** What a labelled prediction was: its model, version and predicted label (null: it failed). */
export interface Served {
  model: string;
  version: string;
  predicted: string | null;
}

// The batch's predictions not known in memory. Bounded by the ids' own times (lib/data/id-time.ts)
// as constants, so the plan names one or two partitions: planning a statement over every daily
// partition costs more than running it (13 ms against 1–2 ms with 39 partitions).
const BATCH_SQL = `
select b.i, p.model, p.version, p.predicted_label
from unnest($1::uuid[], $2::int[]) as b(pid, i) join predictions p on p.id = b.pid
where ($3::timestamptz is null or p.created_at between $3 and $4)`;

// The counts, for the batch's models: read once per TTL per client and per model when cached.
const COUNTS_SQL = `
with versions as (
  select model, version from unnest($2::text[], $3::text[]) as v(model, version)
  union
  select d.model, d.version from deployments d where d.model = any($2::text[]) and d.state = 'active'
),
mine as (
  select f.unit_key, f.label, p.model, p.version, p.predicted_label
  from (select prediction_id, unit_key, label from feedback
        where $7::boolean and kind = 'label' and client_id = $1 and created_at >= now() - make_interval(secs => $4)
        order by created_at desc limit $5) f
  -- Lateral: one index probe per label in the id's own partition. As a plain join the planner
  -- hashes instead, reading every partition of predictions whole (2 s at 2 M rows).
  cross join lateral (select model, version, predicted_label from predictions p
                      where p.id = f.prediction_id and ${createdNearIdSql('p.created_at', 'f.prediction_id')} limit 1) p
  where (p.model, p.version) in (select model, version from versions)
),
others as (
  select f.client_id, f.unit_key, f.label, p.model, p.version, p.predicted_label
  from (select * from versions where $6::boolean) v
  cross join lateral (select id, model, version, predicted_label, created_at from predictions
                      where model = v.model and version = v.version and created_at >= now() - make_interval(secs => $4)
                      order by created_at desc limit $5) p
  -- Lateral again, kept a subquery by "offset 0" (else it is flattened into the join it replaces):
  -- each prediction's labels by index, from its own day on, not every partition of feedback, whole.
  -- Every client's, counted per client: cached per model and shared by every client's checks, each
  -- of which leaves out its own rows (clientContradictionFlags). Labels flagged as a burst are not
  -- history: they do not vote, and counted here they would make a second key's burst look usual.
  cross join lateral (select unit_key, label, client_id from feedback f
                      where f.prediction_id = p.id and f.kind = 'label' and f.created_at >= p.created_at - interval '${LABEL_SKEW}'
                        and not ('${EXCLUDED_FROM_DECISIONS}' = any(f.quality_flags)) offset 0) f
)
select 1 as part, null::text as client_id, model, version, unit_key, count(*) as labels, count(*) filter (where label is distinct from predicted_label) as contradicting from mine group by model, version, unit_key
union all
select 2, client_id, model, version, unit_key, count(*), count(*) filter (where label is distinct from predicted_label) from others group by client_id, model, version, unit_key`;

type Wanted = Map<string, Set<string>>;
const covers = (read: Wanted, wanted: Wanted) => [...wanted].every(([model, versions]) => [...versions].every((v) => read.get(model)?.has(v)));

/**
 * A client's own counts (the versions read with them), kept `ttlMs`, plus the labels this gateway
 * judged for it since that read: a burst through one gateway is counted label by label, one spread
 * over several gateways within `ttlMs` of their reads. Reading the client's window (up to `maxRows`
 * labels, each joined to its prediction) with every request is what a label-heavy client cannot
 * afford: one request a millisecond each reading a thousand rows (issue 18's sustained ingestion).
 * The caller adds a judged label only once it is stored (201): a batch answered 503 and sent again,
 * a repeat or a conflict is not counted twice.
 */
export class MineCache {
  private readonly byClient = new BoundedMap<string, { at: number; read: Wanted; rows: Row[]; since: Map<string, Row> }>(10_000);
  constructor(readonly ttlMs = 2_000) {}
  /** The client's counts and those judged since, or undefined when stale or missing a wanted version. */
  get(clientId: string, wanted: Wanted, now: number): Row[] | undefined {
    const e = this.byClient.get(clientId);
    if (!e || now - e.at > this.ttlMs || !covers(e.read, wanted)) return undefined;
    return [...e.rows, ...e.since.values()];
  }
  set(clientId: string, read: Wanted, rows: Row[], now: number): void {
    this.byClient.set(clientId, { at: now, read, rows, since: new Map() });
  }
  /** Labels judged for the client after its counts were read. */
  judged(clientId: string, labels: ReadonlyArray<{ model: string; version: string; unitKey: string | null; wrong: boolean }>): void {
    const e = this.byClient.get(clientId);
    if (!e) return;
    for (const l of labels) {
      const k = JSON.stringify([l.model, l.version, l.unitKey]);
      const r = e.since.get(k) ?? { part: 1, model: l.model, version: l.version, unit_key: l.unitKey, labels: 0, contradicting: 0 };
      r.labels = Number(r.labels) + 1;
      r.contradicting = Number(r.contradicting) + (l.wrong ? 1 : 0);
      e.since.set(k, r);
    }
  }
}

/**
 * Every client's counts per model and client (the versions read with them), kept `ttlMs`. Not the
 * "other clients'" of whichever client's check read them: shared by every client's checks, those
 * would hold the next client's own labels as its history, and a forger whose labels dominate a
 * model would be judged against itself. Each check leaves out its own client's rows.
 */
export class OthersCache {
  private readonly byModel = new BoundedMap<string, { at: number; versions: Set<string>; rows: Row[] }>(10_000);
  constructor(readonly ttlMs = 2_000) {}
  /** The cached rows for these models' versions, or undefined when any is missing or stale. */
  get(wanted: Map<string, Set<string>>, now: number): Row[] | undefined {
    const out: Row[] = [];
    for (const [model, versions] of wanted) {
      const e = this.byModel.get(model);
      if (!e || now - e.at > this.ttlMs || [...versions].some((v) => !e.versions.has(v))) return undefined;
      out.push(...e.rows);
    }
    return out;
  }
  set(wanted: Map<string, Set<string>>, rows: Row[], now: number): void {
    for (const [model, versions] of wanted) this.byModel.set(model, { at: now, versions, rows: rows.filter((r) => r.model === model) });
  }
}

/** Per item: true when it belongs to a contradicting burst (only labels can be). */
export async function clientContradictionFlags(
  db: Pick<pg.Pool, 'query'>,
  clientId: string | null,
  items: readonly FeedbackItem[],
  opts: ClientContradictionOptions = DEFAULT_CLIENT_CONTRADICTION,
  caches: {
    others?: OthersCache;
    mine?: MineCache;
    /** Concurrent requests that miss the same counts share one read (and a failed read's backoff). */
    reads?: SingleFlight<Row[]>;
    servedHere?: (predictionId: string) => Served | undefined;
    /**
     * Told of the batch's judged labels. The check never adds them to `mine` itself: a label joins
     * the client's cached counts only once the caller has stored it (a batch answered 503 is
     * retried, and would otherwise count twice).
     */
    judged?: (labels: JudgedLabel[]) => void;
  } = {},
): Promise<boolean[]> {
  const out = items.map(() => false);
  const labels = items.map((it, i) => ({ it, i })).filter(({ it }) => it.kind === 'label');
  if (clientId === null || labels.length === 0) return out;

  // What each label's prediction was: this gateway's own recent answers from memory, the rest read.
  const served = new Map<number, Served>();
  const unknown: { it: FeedbackItem; i: number }[] = [];
  for (const l of labels) {
    const s = caches.servedHere?.(l.it.predictionId);
    if (s) served.set(l.i, s);
    else unknown.push(l);
  }
  if (unknown.length > 0) {
    const ids = unknown.map((l) => l.it.predictionId);
    const { from, to } = idTimeBounds(ids);
    const { rows } = await db.query<{ i: number; model: string; version: string; predicted_label: string | null }>(BATCH_SQL, [ids, unknown.map((l) => l.i), from, to]);
    for (const r of rows) served.set(Number(r.i), { model: r.model, version: r.version, predicted: r.predicted_label });
  }
  if (served.size === 0) return out;

  const wanted: Wanted = new Map();
  for (const s of served.values()) (wanted.get(s.model) ?? wanted.set(s.model, new Set()).get(s.model)!).add(s.version);
  const now = Date.now();
  const cachedOthers = caches.others?.get(wanted, now);
  const cachedMine = caches.mine?.get(clientId, wanted, now);
  let rows: Row[] = [...(cachedOthers ?? []), ...(cachedMine ?? [])];
  if (cachedOthers === undefined || cachedMine === undefined) {
    const pairs = [...wanted].flatMap(([model, versions]) => [...versions].map((v) => [model, v] as const)).sort();
    const withOthers = cachedOthers === undefined;
    const withMine = cachedMine === undefined;
    const read = async () => {
      const got = (await db.query<Row>(COUNTS_SQL, [clientId, pairs.map((p) => p[0]), pairs.map((p) => p[1]), opts.windowMs / 1000, opts.maxRows, withOthers, withMine])).rows;
      if (withOthers) caches.others?.set(wanted, got.filter((r) => r.part === 2), now);
      if (withMine) caches.mine?.set(clientId, wanted, got.filter((r) => r.part === 1), now);
      return got;
    };
    rows = [...rows, ...(await (caches.reads ? caches.reads.run(JSON.stringify([clientId, pairs, withOthers, withMine]), read) : read()))];
  }

  const key = (model: string, version: string, unit: string | null) => JSON.stringify([model, version, unit]);
  const mine = new Map<string, LabelCounts>();
  const others = new Map<string, LabelCounts>();
  const add = (m: Map<string, LabelCounts>, k: string, labels: number, contradicting: number) => {
    const c = m.get(k) ?? { labels: 0, contradicting: 0 };
    c.labels += labels;
    c.contradicting += contradicting;
    m.set(k, c);
  };
  for (const r of rows) {
    // The client's own labels are never its history.
    if (r.part === 2 && r.client_id === clientId) continue;
    const m = r.part === 1 ? mine : others;
    const n = Number(r.labels);
    const c = Number(r.contradicting);
    // Counted for its unit key, and for the model as a whole (the unit of items without a key).
    if (r.unit_key !== null) add(m, key(r.model, r.version, r.unit_key), n, c);
    add(m, key(r.model, r.version, null), n, c);
    // And for the model across its served versions (the history of a version that has too little).
    if (r.part === 2) {
      if (r.unit_key !== null) add(m, key(r.model, '*', r.unit_key), n, c);
      add(m, key(r.model, '*', null), n, c);
    }
  }
  // The batch's own labels join the client's counts before anything is judged.
  const judged: JudgedLabel[] = [];
  for (const { it, i } of labels) {
    const s = served.get(i);
    if (!s) continue;
    const wrong = it.label !== s.predicted;
    judged.push({ item: i, model: s.model, version: s.version, unitKey: it.unitKey, wrong });
    if (it.unitKey !== null) add(mine, key(s.model, s.version, it.unitKey), 1, wrong ? 1 : 0);
    add(mine, key(s.model, s.version, null), 1, wrong ? 1 : 0);
  }
  const none: LabelCounts = { labels: 0, contradicting: 0 };
  for (const { it, i } of labels) {
    const s = served.get(i);
    if (!s) continue;
    const k = key(s.model, s.version, it.unitKey);
    const history = unitHistory(others.get(k) ?? none, others.get(key(s.model, '*', it.unitKey)) ?? none, opts);
    out[i] = clientBurstContradiction(mine.get(k) ?? none, history, opts);
  }
  caches.judged?.(judged);
  return out;
}

/** A label the check judged: its item's index in the batch, and whether it contradicts the prediction. */
export interface JudgedLabel {
  item: number;
  model: string;
  version: string;
  unitKey: string | null;
  wrong: boolean;
}
