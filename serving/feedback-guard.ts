/**
 * What the gateway checks before it stores feedback, so that feedback cannot be forged into a
 * decision (canary verdicts, A/B outcomes, drift, online learning):
 *
 *  - the prediction exists: made by this gateway (an in-memory index of recent prediction ids,
 *    filled before the prediction is answered, so feedback can never outrun it here), or found in
 *    the predictions table (made by another replica, or before a restart). A prediction made by
 *    another replica a moment ago may still sit in that replica's write buffer (flushed every
 *    FLYWHEEL_GATEWAY_FLUSH_MS): an id not found whose UUIDv7 time is within `graceMs` is held
 *    and looked up again (every 250 ms) until that time has passed. An id older than that, or from the
 *    future, is refused at once (404) — holding costs a forger at most `graceMs` of its own time.
 *  - a label is one of the classes of the model version that made the prediction (422), when that
 *    version is known here (loaded now, or an online model); otherwise it is stored unchecked.
 *  - first label wins: a second label for a prediction is refused (409), unless it is a retry of
 *    the first (same idempotency key: the committer answers it 200). Decisions count the first
 *    label only; refusing later ones keeps the table saying the same thing as the decisions, and
 *    tells the client rather than dropping its label silently. This check answers early and
 *    cheaply from what this gateway knows; what settles two gateways' labels for one prediction
 *    at the same moment is the writer's claim in first_labels (serving/feedback.ts).
 */
import type pg from 'pg';
import type { FeedbackItem } from '../lib/feedback/channels';
import { BoundedMap } from '../lib/feedback/bounded-map';
import { CoalescingLookup } from '../lib/async/coalescing-lookup';
import { groupByIdTime, idTimeBounds } from '../lib/data/id-time';
import { LABEL_SKEW } from '../lib/data/partitions';
import { uuidv7TimeOrNull } from '../lib/data/id-time';
import { graceFor } from '../lib/feedback/grace';
import { LABEL_TAKEN } from './feedback';

export type Refusal = { status: 404 | 409 | 422; message: string };

export interface FeedbackGuardOptions {
  /** Classes of a prediction this gateway made recently (registered or online), null when unknown. */
  recent(predictionId: string): readonly string[] | null | undefined;
  /** Classes of a model version, when it is loaded here. */
  classesOf(model: string, version: string): readonly string[] | undefined;
  graceMs: number;
}

export class FeedbackGuard {
  /** Predictions labelled (committed or being committed) → the label's idempotency key. */
  private readonly labelled = new BoundedMap<string, string | null>(200_000);

  // Both lookups run once per feedback request: coalesced, concurrent requests share statements
  // (lib/async/coalescing-lookup.ts), one statement per time group of their ids, each bounded by
  // its ids' own times (lib/data/id-time.ts): an old or forged id does not widen the others' read.
  private readonly predictions: CoalescingLookup<string, { model: string; version: string }>;
  private readonly firstLabels: CoalescingLookup<string, string | null>;

  constructor(
    private readonly db: pg.Pool,
    private readonly opts: FeedbackGuardOptions,
  ) {
    this.predictions = new CoalescingLookup<string, { model: string; version: string }>(
      (ids) =>
        byTimeGroup(ids, async (group) => {
          const { from, to } = idTimeBounds(group);
          const { rows } = await this.db.query<{ id: string; model: string; version: string }>(
            'SELECT id, model, version FROM predictions WHERE id = ANY($1::uuid[]) AND ($2::timestamptz IS NULL OR created_at BETWEEN $2 AND $3)',
            [group, from, to],
          );
          return rows.map((r) => [r.id, r] as const);
        }),
      2,
    );
    // A label is stored after its prediction (less the clocks' skew) and before now: as constants,
    // so the plan names the partitions of those days only.
    this.firstLabels = new CoalescingLookup(
      (ids) =>
        byTimeGroup(ids, async (group) => {
          const { rows } = await this.db.query<{ prediction_id: string; idempotency_key: string | null }>(
            `SELECT DISTINCT ON (prediction_id) prediction_id, idempotency_key FROM feedback
              WHERE kind = 'label' AND prediction_id = ANY($1::uuid[])
                AND ($2::timestamptz IS NULL OR created_at >= $2::timestamptz - interval '${LABEL_SKEW}') AND created_at <= $3::timestamptz + interval '${LABEL_SKEW}'
              ORDER BY prediction_id, id`,
            [group, idTimeBounds(group).from, new Date()],
          );
          return rows.map((r) => [r.prediction_id, r.idempotency_key] as const);
        }),
      2,
    );
  }

  /** Per item: undefined (may be stored) or why not. Reserves the first label of each prediction. */
  async check(items: readonly FeedbackItem[]): Promise<(Refusal | undefined)[]> {
    const known = new Map<string, readonly string[] | null>();
    const missing = new Set<string>();
    for (const it of items) {
      if (known.has(it.predictionId)) continue;
      const c = this.opts.recent(it.predictionId);
      if (c !== undefined) known.set(it.predictionId, c);
      else missing.add(it.predictionId);
    }
    if (missing.size > 0) await this.lookUp(missing, known);
    if (missing.size > 0) {
      const { held, until } = graceFor(missing, (id) => uuidv7TimeOrNull(id) ?? Number.NEGATIVE_INFINITY, Date.now(), this.opts.graceMs);
      for (const id of [...missing]) if (!held.includes(id)) missing.delete(id);
      // Looked up again every 250 ms until found or until the newest id's grace has passed.
      while (missing.size > 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, Math.min(250, until - Date.now())));
        for (const id of missing) {
          const c = this.opts.recent(id);
          if (c !== undefined) {
            known.set(id, c);
            missing.delete(id);
          }
        }
        if (missing.size > 0) await this.lookUp(missing, known);
      }
    }
    const labelIds = [...new Set(items.filter((it) => it.kind === 'label' && known.has(it.predictionId)).map((it) => it.predictionId))];
    const stored = await this.storedLabels(labelIds.filter((id) => !this.labelled.has(id)));
    const out: (Refusal | undefined)[] = [];
    for (const it of items) {
      const classes = known.get(it.predictionId);
      if (classes === undefined) {
        out.push({ status: 404, message: `predictionId: no prediction ${it.predictionId} was made` });
        continue;
      }
      if (it.kind !== 'label') {
        out.push(undefined);
        continue;
      }
      if (classes && !classes.includes(it.label!)) {
        out.push({ status: 422, message: `label: ${JSON.stringify(it.label)} is not one of the model's classes (${classes.join(', ')})` });
        continue;
      }
      const first = this.labelled.has(it.predictionId) ? this.labelled.get(it.predictionId) : stored.get(it.predictionId);
      if (first !== undefined && (first === null || first !== it.idempotencyKey)) {
        out.push({ status: 409, message: LABEL_TAKEN(it.predictionId) });
        continue;
      }
      this.labelled.set(it.predictionId, it.idempotencyKey);
      out.push(undefined);
    }
    return out;
  }

  /** A label reserved by check() that was not stored after all (refused, or to retry): free it. */
  release(items: readonly FeedbackItem[]): void {
    for (const it of items) if (it.kind === 'label' && this.labelled.get(it.predictionId) === it.idempotencyKey) this.labelled.delete(it.predictionId);
  }

  private async lookUp(missing: Set<string>, known: Map<string, readonly string[] | null>): Promise<void> {
    // Bounded by the ids' own times (lib/data/id-time.ts): the partitions of those days only.
    for (const [id, r] of await this.predictions.get([...missing])) {
      known.set(id, this.opts.classesOf(r.model, r.version) ?? null);
      missing.delete(id);
    }
  }

  private async storedLabels(ids: string[]): Promise<Map<string, string | null>> {
    const out = await this.firstLabels.get(ids);
    for (const [id, key] of out) this.labelled.set(id, key);
    return out;
  }
}

/** One statement per time group of the ids (lib/data/id-time.ts), their rows merged. */
async function byTimeGroup<V>(ids: string[], read: (group: string[]) => Promise<ReadonlyArray<readonly [string, V]>>): Promise<Map<string, V>> {
  const parts = await Promise.all(groupByIdTime(ids).map(read));
  return new Map(parts.flat());
}
