/**
 * The counts `clientBurstContradiction` (lib/feedback/quality.ts) judges a batch of labels by, read
 * in one bounded query per batch, and the verdict per item.
 *
 * For each label in the batch: its prediction's model, version and predicted label; the sending
 * client's own labels in the window (newest `maxRows`, index feedback_label_client_created); and
 * the other clients' labels for the newest `maxRows` predictions of each model version in the
 * batch made in the window (index predictions_model_version_created, then feedback_prediction), each
 * joined to the prediction it labels and counted per model, version and unit key. A version with
 * fewer than `minOtherLabels` such labels is judged against the model's other served versions
 * (`unitHistory`; the versions are the batch's and the model's active deployments). An item's unit is its unit key when it has one, else the whole model. The batch's
 * own labels count with the client's: a burst sent in one request is judged as a whole.
 *
 * The other clients' counts change slowly and cost the most to read: with an `OthersCache` they are
 * read once per model every `ttlMs` (the query runs without them, and once more with them only
 * when the batch names a model version the cache does not hold fresh), so a steady stream of
 * requests pays for the batch's predictions and the client's own labels.
 *
 * Only labels from an authenticated client are checked (with authentication off there is no
 * client to attribute a burst to). A failed read skips the check (the item is stored unflagged):
 * the check may down-weight, never refuse.
 */
import type pg from 'pg';
import { BoundedMap } from '../lib/feedback/bounded-map';
import type { FeedbackItem } from '../lib/feedback/channels';
import { clientBurstContradiction, DEFAULT_CLIENT_CONTRADICTION, unitHistory, type ClientContradictionOptions, type LabelCounts } from '../lib/feedback/quality';
import { LABEL_SKEW } from '../lib/data/partitions';

interface Row {
  part: number;
  i: number | null;
  model: string;
  version: string;
  unit_key: string | null;
  predicted_label: string | null;
  labels: string | null;
  contradicting: string | null;
}

const SQL = `
with batch as (
  select b.i, p.model, p.version, p.predicted_label
  from unnest($2::uuid[], $3::int[]) as b(pid, i) join predictions p on p.id = b.pid
),
versions as (
  select distinct model, version from batch
  union
  select d.model, d.version from deployments d where d.model in (select model from batch) and d.state = 'active'
),
mine as (
  select f.unit_key, f.label, p.model, p.version, p.predicted_label
  from (select prediction_id, unit_key, label from feedback
        where kind = 'label' and client_id = $1 and created_at >= now() - make_interval(secs => $4)
        order by created_at desc limit $5) f
  join predictions p on p.id = f.prediction_id
  where (p.model, p.version) in (select model, version from versions)
),
others as (
  select f.unit_key, f.label, p.model, p.version, p.predicted_label
  from (select * from versions where $6::boolean) v
  cross join lateral (select id, model, version, predicted_label, created_at from predictions
                      where model = v.model and version = v.version and created_at >= now() - make_interval(secs => $4)
                      order by created_at desc limit $5) p
  join feedback f on f.prediction_id = p.id and f.kind = 'label' and f.created_at >= p.created_at - interval '${LABEL_SKEW}'
  where f.client_id is distinct from $1
)
select 0 as part, i, model, version, null::text as unit_key, predicted_label, null::bigint as labels, null::bigint as contradicting from batch
union all
select 1, null, model, version, unit_key, null, count(*), count(*) filter (where label is distinct from predicted_label) from mine group by model, version, unit_key
union all
select 2, null, model, version, unit_key, null, count(*), count(*) filter (where label is distinct from predicted_label) from others group by model, version, unit_key`;

/** The other clients' counts per model (the versions read with them), kept `ttlMs`. */
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
  cache?: OthersCache,
): Promise<boolean[]> {
  const out = items.map(() => false);
  const labels = items.map((it, i) => ({ it, i })).filter(({ it }) => it.kind === 'label');
  if (clientId === null || labels.length === 0) return out;
  const args = (withOthers: boolean) => [clientId, labels.map((l) => l.it.predictionId), labels.map((l) => l.i), opts.windowMs / 1000, opts.maxRows, withOthers];
  let { rows } = await db.query<Row>(SQL, args(cache === undefined));
  if (cache) {
    const now = Date.now();
    const wanted = new Map<string, Set<string>>();
    for (const r of rows) if (r.part === 0) (wanted.get(r.model) ?? wanted.set(r.model, new Set()).get(r.model)!).add(r.version);
    const cached = cache.get(wanted, now);
    if (cached) rows = [...rows, ...cached];
    else {
      rows = (await db.query<Row>(SQL, args(true))).rows;
      cache.set(wanted, rows.filter((r) => r.part === 2), now);
    }
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
  const served = new Map<number, { model: string; version: string; predicted: string | null }>();
  for (const r of rows) {
    if (r.part === 0) {
      served.set(Number(r.i), { model: r.model, version: r.version, predicted: r.predicted_label });
      continue;
    }
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
  for (const { it, i } of labels) {
    const s = served.get(i);
    if (!s) continue;
    const wrong = it.label !== s.predicted ? 1 : 0;
    if (it.unitKey !== null) add(mine, key(s.model, s.version, it.unitKey), 1, wrong);
    add(mine, key(s.model, s.version, null), 1, wrong);
  }
  const none: LabelCounts = { labels: 0, contradicting: 0 };
  for (const { it, i } of labels) {
    const s = served.get(i);
    if (!s) continue;
    const k = key(s.model, s.version, it.unitKey);
    const history = unitHistory(others.get(k) ?? none, others.get(key(s.model, '*', it.unitKey)) ?? none, opts);
    out[i] = clientBurstContradiction(mine.get(k) ?? none, history, opts);
  }
  return out;
}
