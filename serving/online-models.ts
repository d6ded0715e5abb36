/**
 * Online models inside the gateway: each is an OnlineSoftmaxRegression warm-started from a
 * registered version (activities/online.ts writes its first state), answering predictions from
 * memory and learning from each committed `label` feedback on one of its own predictions before
 * that feedback's request is answered, so the next prediction already reflects it.
 *
 * PostgreSQL holds the state: a checkpoint every second (only by the generation it was loaded
 * from, so a restart from another version is never overwritten) with the highest feedback id
 * learnt. On load the learner replays labelled feedback past that id, in id order (commit order),
 * so a crashed gateway resumes the model it had, not the one it last checkpointed.
 *
 * Several gateways may serve the same online models; exactly one learns and checkpoints each: the
 * holder of its lease in online_models (renewed at every poll, `leaseMs` long). The leader learns
 * the labels it commits itself at once, and those other gateways committed from the table (the
 * labels past its watermark, and any committed in the last `lateWindowMs` — a transaction that
 * took a lower id can commit after a higher one — skipping what it learnt already). The others
 * serve the leader's latest checkpoint and learn nothing. When a leader dies its lease runs out and
 * another gateway takes it: it loads the checkpoint and replays the labels past it, so no label is
 * lost; a leader that finds its lease taken (its checkpoint fenced off) goes back to following.
 */
import type pg from 'pg';
import { BoundedMap } from '../lib/feedback/bounded-map';
import { createdNearIdSql, idTimeBounds } from '../lib/data/id-time';
import { OnlineSoftmaxRegression, type SoftmaxRegressionSnapshot } from '../lib/online/softmax-regression';
import type { ItemOutcome, ScoredItem } from './feedback';

export interface OnlineEntry {
  name: string;
  baseModel: string;
  baseVersion: string;
  generation: number;
  learner: OnlineSoftmaxRegression;
  classes: string[];
  learned: number;
  learnedFrom: number | null;
  learnedThrough: number;
  skipped: number;
  dirty: boolean;
  /** This gateway holds the model's lease: it learns and checkpoints. */
  leader: boolean;
  /** Feedback ids learnt lately → when: checkpointed, so a successor's look back skips them. */
  recent: Map<number, number>;
}

export interface Remembered {
  name: string;
  generation: number;
  x: Float64Array;
}

/** A row of online_models, as the gateway and the snapshot activity read it. */
export interface OnlineModelRow {
  name: string;
  base_model: string;
  base_version: string;
  generation: string;
  state: SoftmaxRegressionSnapshot;
  learned: string;
  learned_from: string | null;
  learned_through: string;
  /** Only the gateway reads it (activities select the columns they need). */
  learnt_recent?: string[];
}

export interface OnlineModelsOptions {
  /** Labels with a lower quality score are stored but not learnt from. */
  minQuality: number;
  /** Predictions remembered in memory for learning without a database read. */
  rememberRows: number;
  /** Who this gateway is, in the lease (host, pid and a random part: unique per process). */
  holder: string;
  /** How long a lease lasts unrenewed: how soon another gateway takes over from a dead leader. */
  leaseMs?: number;
  /** How far back the leader looks for labels committed out of id order by other gateways. */
  lateWindowMs?: number;
}

const DEFAULT_LEASE_MS = 5_000;
const DEFAULT_LATE_WINDOW_MS = 30_000;

export class OnlineModels {
  private readonly entries = new Map<string, OnlineEntry>();
  private readonly recent: BoundedMap<string, Remembered>;
  /** Feedback ids learnt lately, so the leader's catch-up never learns a label twice. */
  private readonly learntIds = new BoundedMap<number, true>(200_000);

  constructor(
    private readonly db: pg.Pool,
    private readonly opts: OnlineModelsOptions,
    private readonly log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
  ) {
    this.recent = new BoundedMap(opts.rememberRows);
  }

  get(name: string): OnlineEntry | undefined {
    return this.entries.get(name);
  }

  list(): OnlineEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  remember(id: string, r: Remembered): void {
    this.recent.set(id, r);
  }

  classesOf(predictionId: string): readonly string[] | undefined {
    const r = this.recent.get(predictionId);
    return r ? this.entries.get(r.name)?.classes : undefined;
  }

  /** Called with each committed feedback group, in commit order, before its requests are answered. */
  learn(items: readonly ScoredItem[], outcomes: readonly ItemOutcome[]): void {
    if (![...this.entries.values()].some((e) => e.leader)) return;
    const misses: Array<{ id: number; predictionId: string; label: string; quality: number }> = [];
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      const o = outcomes[i]!;
      if (it.kind !== 'label' || o.status !== 201) continue;
      const id = Number(o.row.id);
      const r = this.recent.get(it.predictionId);
      if (r) this.learnOne(r, id, it.label!, it.quality);
      else misses.push({ id, predictionId: it.predictionId, label: it.label!, quality: it.quality });
    }
    if (misses.length > 0) void this.learnFromStored(misses);
  }

  private learnOne(r: Remembered, feedbackId: number, label: string, quality: number): void {
    const e = this.entries.get(r.name);
    if (e && e.leader && e.generation === r.generation) this.learnInto(e, r.x, feedbackId, label, quality);
  }

  private learnInto(e: OnlineEntry, x: Float64Array, feedbackId: number, label: string, quality: number): void {
    if (this.learntIds.has(feedbackId)) return;
    this.learntIds.set(feedbackId, true);
    e.recent.set(feedbackId, Date.now());
    const y = e.classes.indexOf(label);
    if (y < 0 || quality < this.opts.minQuality) {
      e.skipped++;
      return;
    }
    e.learner.learnOne(x, y);
    e.learned++;
    e.learnedFrom ??= feedbackId;
    if (feedbackId > e.learnedThrough) e.learnedThrough = feedbackId;
    e.dirty = true;
  }

  /** Labels for predictions no longer in memory (older, or made before a restart). */
  private async learnFromStored(misses: Array<{ id: number; predictionId: string; label: string; quality: number }>): Promise<void> {
    const ids = misses.map((m) => m.predictionId);
    const { from, to } = idTimeBounds(ids);
    try {
      const { rows } = await this.db.query<{ id: string; model: string; generation: string; features: number[] }>(
        'SELECT id, model, generation, features FROM online_predictions WHERE id = ANY($1::uuid[]) AND ($2::timestamptz IS NULL OR created_at BETWEEN $2 AND $3)',
        [ids, from, to],
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const m of misses) {
        const r = byId.get(m.predictionId);
        if (r) this.learnOne({ name: r.model, generation: Number(r.generation), x: Float64Array.from(r.features) }, m.id, m.label, m.quality);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'online learner could not read stored predictions; those labels wait for the next replay');
    }
  }

  /**
   * Called on start and on each poll: takes or renews the leases it can, loads new generations,
   * follows the leader's checkpoints where it does not lead, catches up on other gateways' labels
   * where it does, and drops stopped models.
   */
  async sync(): Promise<void> {
    const leaseMs = this.opts.leaseMs ?? DEFAULT_LEASE_MS;
    const { rows: led } = await this.db.query<{ name: string }>(
      `UPDATE online_models SET leader = $1, lease_until = now() + $2 * interval '1 millisecond'
        WHERE active AND (leader IS NULL OR leader = $1 OR lease_until < now()) RETURNING name`,
      [this.opts.holder, leaseMs],
    );
    const leading = new Set(led.map((r) => r.name));
    const { rows } = await this.db.query<OnlineModelRow>(
      'SELECT name, base_model, base_version, generation, state, learned, learned_from, learned_through, learnt_recent FROM online_models WHERE active',
    );
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.name);
      const leader = leading.has(row.name);
      const current = this.entries.get(row.name);
      const sameGeneration = current !== undefined && current.generation === Number(row.generation);
      if (sameGeneration && current.leader && leader) {
        await this.catchUp(current);
        continue;
      }
      // A follower serves the leader's latest checkpoint; it reloads only when the checkpoint moved.
      if (sameGeneration && !current.leader && !leader && current.learnedThrough === Number(row.learned_through) && current.learned === Number(row.learned)) continue;
      const entry = this.fromRow(row, leader);
      if (leader) await this.replay(entry);
      this.entries.set(row.name, entry);
      if (!sameGeneration || current?.leader !== leader) {
        this.log.info(
          { model: row.name, base: `${row.base_model}@${row.base_version}`, generation: entry.generation, learned: entry.learned, role: leader ? 'leader' : 'follower' },
          leader ? 'online model loaded: this gateway learns it' : 'online model loaded: following its leader',
        );
      }
    }
    for (const name of [...this.entries.keys()]) if (!seen.has(name)) this.entries.delete(name);
  }

  /** Gives up this gateway's leases (a clean shutdown), so another takes over at its next poll. */
  async release(): Promise<void> {
    await this.db.query('UPDATE online_models SET leader = NULL, lease_until = NULL WHERE leader = $1', [this.opts.holder]);
  }

  private fromRow(row: OnlineModelRow, leader: boolean): OnlineEntry {
    const learner = OnlineSoftmaxRegression.fromJSON(row.state);
    const entry: OnlineEntry = {
      name: row.name,
      baseModel: row.base_model,
      baseVersion: row.base_version,
      generation: Number(row.generation),
      learner,
      classes: learner.classes ?? Array.from({ length: learner.nClasses }, (_, c) => String(c)),
      learned: Number(row.learned),
      learnedFrom: row.learned_from === null ? null : Number(row.learned_from),
      learnedThrough: Number(row.learned_through),
      skipped: 0,
      dirty: false,
      leader,
      recent: new Map(),
    };
    // What the previous leader learnt lately is in this state already: never learnt again.
    const now = Date.now();
    for (const id of row.learnt_recent ?? []) {
      this.learntIds.set(Number(id), true);
      entry.recent.set(Number(id), now);
    }
    return entry;
  }

  /** A new leader: every label past the checkpoint, in id order (commit order within one gateway). */
  private async replay(e: OnlineEntry): Promise<void> {
    const n = await this.learnStored(e, false);
    if (n > 0) this.log.info({ model: e.name, replayed: n }, 'online model replayed labels past its checkpoint');
  }

  /** The leader, at each poll: labels other gateways committed (past the watermark, or lately). */
  private async catchUp(e: OnlineEntry): Promise<void> {
    await this.learnStored(e, true);
  }

  private async learnStored(e: OnlineEntry, late: boolean): Promise<number> {
    const { rows } = await this.db.query<{ id: string; label: string; quality: number; features: number[] }>(
      `SELECT f.id, f.label, f.quality, p.features FROM feedback f JOIN online_predictions p ON p.id = f.prediction_id AND ${createdNearIdSql('p.created_at', 'f.prediction_id')}
        WHERE p.model = $1 AND p.generation = $2 AND f.kind = 'label'
          AND (f.id > $3 OR ($4 AND f.created_at > now() - $5 * interval '1 millisecond'))
        ORDER BY f.id`,
      [e.name, e.generation, e.learnedThrough, late, this.opts.lateWindowMs ?? DEFAULT_LATE_WINDOW_MS],
    );
    let n = 0;
    for (const f of rows) {
      if (this.learntIds.has(Number(f.id))) continue;
      this.learnInto(e, Float64Array.from(f.features), Number(f.id), f.label, f.quality);
      n++;
    }
    return n;
  }

  /** Writes the state of models that learnt since the last checkpoint. */
  async checkpoint(): Promise<void> {
    for (const e of this.entries.values()) {
      if (!e.dirty || !e.leader) continue;
      e.dirty = false;
      // Twice the late window: what a successor's look back can still find.
      const horizon = Date.now() - 2 * (this.opts.lateWindowMs ?? DEFAULT_LATE_WINDOW_MS);
      for (const [id, at] of e.recent) if (at < horizon) e.recent.delete(id);
      try {
        // Fenced by the lease: a leader that lost it (paused past its lease) writes nothing.
        const res = await this.db.query(
          `UPDATE online_models SET state = $3, learned = $4, learned_from = $5, learned_through = $6, learnt_recent = $8, updated_at = now()
            WHERE name = $1 AND generation = $2 AND active AND leader = $7`,
          [e.name, e.generation, JSON.stringify(e.learner.toJSON()), e.learned, e.learnedFrom, e.learnedThrough, this.opts.holder, [...e.recent.keys()]],
        );
        // Restarted, stopped or taken over meanwhile: the next sync loads what the table says now.
        if (res.rowCount === 0) this.entries.delete(e.name);
      } catch (err) {
        e.dirty = true;
        this.log.warn({ model: e.name, err: (err as Error).message }, 'online checkpoint failed; retrying');
      }
    }
  }
}
