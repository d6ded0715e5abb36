/**
 * The gateway's feedback routes, both acknowledged only once their items are committed:
 *
 *   POST /v1/feedback        { predictionId, kind, value?, label?, event?, comment?, source?,
 *                              unitKey?, idempotencyKey? }                                  201 | 200 (repeat) | 404 | 409 | 422
 *   POST /v1/feedback/batch  { items: [<the same item>, …] }                               200, a status per item
 *
 * Both routes take the same item (lib/feedback/channels.ts feedbackItemSchema, every channel), as
 * declared in their schemas (serving/schemas.ts). Each item is scored for quality and a comment for
 * sentiment before it is stored, and both are stored with it. PostgreSQL unreachable → 503, and
 * the client retries (with its idempotency key, so a retry never stores twice). A string the
 * database could not store is a 400 at the edge; an item the database still refuses is answered
 * 422 alone (per item in a batch) while the items committed with it are acknowledged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import pg from 'pg';
import type { FeedbackItem } from '../lib/feedback/channels';
import { DEFAULT_CLIENT_CONTRADICTION, QualityTracker, type ClientContradictionOptions, type QualityOptions } from '../lib/feedback/quality';
import { analyzeSentiment } from '../lib/sentiment/sentiment';
import { FeedbackCommitter, NOT_STORED } from './feedback-committer';
import type { FeedbackGuard } from './feedback-guard';
import { clientContradictionFlags, MineCache, OthersCache, type CountRow, type JudgedLabel, type Served } from './feedback-trust';
import { SingleFlight } from '../lib/async/single-flight';
import type { ItemOutcome, ScoredItem } from './feedback';
import { createFeedbackMetrics } from './feedback-metrics';
import type { GatewayMetrics } from './metrics';
import { type ZodTypeProvider } from './contract';
import { errors, feedbackBatchResponse, feedbackBatchSchema, feedbackItemSchema, storedFeedback } from './schemas';
import { WriterMonitor } from './writer-health';

export interface FeedbackRoutesOptions {
  databaseUrl: string;
  metrics: GatewayMetrics;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Items per INSERT. */
  maxGroupItems?: number;
  quality?: Partial<QualityOptions>;
  /** The per-batch client-contradiction check (serving/feedback-trust.ts); false turns it off. */
  clientContradiction?: Partial<ClientContradictionOptions> | false;
  /** How long the counts a check reads (the other clients' per model, a client's own) are reused (default 2 s); 0 reads them with every batch. */
  othersCacheMs?: number;
  /** What a prediction this gateway made recently was (the trust check reads the others). */
  servedHere?: (predictionId: string) => Served | undefined;
  /** Told of each committed group before its requests are answered (the online learner). */
  onCommitted?: (items: readonly ScoredItem[], outcomes: readonly ItemOutcome[]) => void;
  /** Classes of the model behind a prediction, when the gateway knows them (impossible labels). */
  classesOf?: (predictionId: string) => readonly string[] | undefined;
  /** Refuses feedback for predictions never made, impossible labels and second labels (serving/feedback-guard.ts). */
  guard?: FeedbackGuard;
}

export interface FeedbackService {
  committer: FeedbackCommitter;
  /** The name its PostgreSQL connections carry (tests find and terminate them by it). */
  applicationName: string;
  close(): Promise<void>;
}

/** Items waiting for a commit before new requests are turned away: memory stays bounded when PostgreSQL is slow. */
const MAX_BACKLOG_ITEMS = 200_000;

export function feedbackApplicationName(): string {
  return `flywheel-feedback:${process.pid}`;
}

export function registerFeedbackRoutes(app: FastifyInstance, opts: FeedbackRoutesOptions): FeedbackService {
  const applicationName = feedbackApplicationName();
  // Its own connections: a slow catalog reload or prediction batch never delays an acknowledgement.
  // Timeouts turn a hung database into 503s the client retries, rather than requests that never end.
  const db = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: 2,
    application_name: applicationName,
    connectionTimeoutMillis: 2_000,
    statement_timeout: 10_000,
    query_timeout: 15_000,
    // Short, indexed statements: JIT compilation (seconds, when a plan's estimate is high) never pays here.
    options: '-c jit=off',
  });
  db.on('error', () => undefined);
  // The trust checks read, and can be slow when PostgreSQL is busy: connections of their own, so a
  // commit never waits behind a check, and short limits, since a check that cannot answer soon is
  // skipped (items stored unflagged) rather than waited for.
  const checkDb = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: 2,
    application_name: `${applicationName}:checks`,
    connectionTimeoutMillis: 1_000,
    statement_timeout: 2_000,
    query_timeout: 3_000,
    options: '-c jit=off',
  });
  checkDb.on('error', () => undefined);
  const fm = createFeedbackMetrics(opts.metrics.registry);
  const tracker = new QualityTracker(opts.quality);
  const committer = new FeedbackCommitter(db, opts.maxGroupItems ?? 10_000, {
    committed(items, outcomes, ms) {
      fm.groups.inc();
      fm.groupItems.observe(items.length);
      fm.commitSeconds.observe(ms / 1000);
      for (let i = 0; i < items.length; i++) if (outcomes[i]!.status === 201) opts.metrics.feedback.inc({ kind: items[i]!.kind });
      try {
        opts.onCommitted?.(items, outcomes);
      } catch (err) {
        opts.log.error({ err: (err as Error).message }, 'feedback consumer failed; the feedback is stored');
      }
    },
    failed(err, n) {
      fm.failures.inc();
      opts.log.warn({ err: err.message, items: n }, 'storing feedback failed; requests answered 503');
    },
  }, new WriterMonitor('feedback', opts.metrics));

  const contradiction = opts.clientContradiction === false ? null : { ...DEFAULT_CLIENT_CONTRADICTION, ...opts.clientContradiction };
  // 0: read them with every batch (the predictions, then the counts), no caches.
  const othersCache = opts.othersCacheMs === 0 ? undefined : new OthersCache(opts.othersCacheMs);
  const mineCache = opts.othersCacheMs === 0 ? undefined : new MineCache(opts.othersCacheMs);
  const countReads = opts.othersCacheMs === 0 ? undefined : new SingleFlight<CountRow[]>();

  /** One bounded query per batch; a failed read flags nothing (the check down-weights, never refuses). */
  async function contradictions(items: FeedbackItem[], clientId: string | null, judged: (labels: JudgedLabel[]) => void): Promise<boolean[]> {
    if (contradiction === null || clientId === null || !items.some((it) => it.kind === 'label')) return [];
    try {
      return await clientContradictionFlags(checkDb, clientId, items, contradiction, { others: othersCache, mine: mineCache, reads: countReads, servedHere: opts.servedHere, judged });
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'client-contradiction check failed; items stored unflagged');
      return [];
    }
  }

  function score(items: FeedbackItem[], contradicting: readonly boolean[]): ScoredItem[] {
    const now = Date.now();
    return items.map((it, i) => {
      const q = tracker.score(it, now, { classes: opts.classesOf?.(it.predictionId), clientContradiction: contradicting[i] === true });
      let sentiment: number | null = null;
      let sentimentLabel: string | null = null;
      if (it.comment !== null) {
        const s = analyzeSentiment(it.comment);
        sentiment = Math.round(s.normalizedScore * 1000) / 1000;
        sentimentLabel = s.label;
      }
      return { ...it, quality: q.quality, qualityFlags: q.flags, sentiment, sentimentLabel };
    });
  }

  async function store(all: FeedbackItem[], reply: FastifyReply, clientId: string | null): Promise<ItemOutcome[] | undefined> {
    if (committer.backlog + all.length > MAX_BACKLOG_ITEMS) {
      fm.overloaded.inc();
      void reply.code(503).send({ error: 'feedback backlog is full; retry' });
      return undefined;
    }
    let refusals: (ItemOutcome | undefined)[] = [];
    if (opts.guard) {
      try {
        refusals = await opts.guard.check(all);
      } catch {
        void reply.code(503).send({ error: NOT_STORED });
        return undefined;
      }
    }
    const items = refusals.length > 0 ? all.filter((_, i) => refusals[i] === undefined) : all;
    const merge = (stored: ItemOutcome[]) => {
      if (refusals.length === 0) return stored;
      let j = 0;
      return all.map((_, i) => refusals[i] ?? stored[j++]!);
    };
    if (items.length === 0) return merge([]);
    let judged: JudgedLabel[] = [];
    const scored = score(items, await contradictions(items, clientId, (j) => (judged = j))).map((it) => ({ ...it, clientId }));
    try {
      const outcomes = await committer.submit(scored);
      // Counted in the client's cached counts only when newly stored (201), as the database counts it.
      // Not stored (refused, or to retry): not remembered either, as below.
      if (clientId !== null) mineCache?.judged(clientId, judged.filter((j) => outcomes[j.item]!.status === 201));
      // Not stored: refused (422, 503) or a conflict (409: its key was used for something else, or
      // its prediction's first label came through another gateway). The guard forgets what it
      // reserved for them, so it reads the label that stands the next time.
      const notStored = items.filter((_, i) => outcomes[i]!.status === 409 || outcomes[i]!.status >= 422);
      for (const it of notStored) tracker.forget(it);
      opts.guard?.release(notStored);
      return merge(outcomes);
    } catch {
      // Not acknowledged, so not remembered: the retry must not look like a duplicate of it.
      for (const it of items) tracker.forget(it);
      opts.guard?.release(items);
      void reply.code(503).send({ error: NOT_STORED });
      return undefined;
    }
  }

  const clientOf = (req: FastifyRequest) => (req.principal && req.principal.kind !== 'anonymous' ? req.principal.clientId : null);

  const api = app.withTypeProvider<ZodTypeProvider>();

  // Labels and signals drive decisions: only clients holding the feedback scope may send them.
  // One item, the same schema as an item of a batch (every channel: copy, event, comment, …).
  api.post(
    '/v1/feedback',
    {
      config: { auth: { scope: 'feedback' } },
      schema: {
        summary: 'One feedback item, acknowledged once committed: 201 stored, 200 a repeat (same idempotency key and content)',
        body: feedbackItemSchema,
        response: { 200: storedFeedback, 201: storedFeedback, ...errors([400, 404, 409, 422, 503], { body: true }) },
      },
    },
    async (req, reply) => {
      const outcomes = await store([req.body], reply, clientOf(req));
      if (!outcomes) return reply;
      const o = outcomes[0]!;
      // (The error statuses are declared through errors(), which the type provider cannot see.)
      if (!('row' in o)) return (reply as FastifyReply).code(o.status).send({ error: o.status === 422 ? `feedback ${o.message}` : o.message });
      return reply.code(o.status).send(v1Body(o.row));
    },
  );

  api.post(
    '/v1/feedback/batch',
    {
      config: { auth: { scope: 'feedback' } },
      schema: {
        summary: 'Up to 5000 feedback items, all valid or none stored; a status per item',
        body: feedbackBatchSchema,
        response: { 200: feedbackBatchResponse, ...errors([400, 503], { body: true }) },
      },
    },
    async (req, reply) => {
    const outcomes = await store(req.body.items, reply, clientOf(req));
    if (!outcomes) return reply;
    let stored = 0;
    let repeated = 0;
    let conflicts = 0;
    let rejected = 0;
    let notStored = 0;
    let unknown = 0;
    const items = outcomes.map((o) => {
      if (!('row' in o)) {
        if (o.status === 409) conflicts++;
        else if (o.status === 422) rejected++;
        else if (o.status === 404) unknown++;
        else notStored++;
        return { status: o.status, error: o.message };
      }
      if (o.status === 201) stored++;
      else repeated++;
      const r = o.row;
      return {
        status: o.status,
        id: r.id,
        quality: r.quality,
        ...(r.qualityFlags.length > 0 ? { qualityFlags: r.qualityFlags } : {}),
        ...(r.sentimentLabel !== null ? { sentiment: r.sentiment, sentimentLabel: r.sentimentLabel } : {}),
      };
    });
    // rejected (422: the database refused the item) and notStored (503: retry it) appear only when
    // they happened, so the common answer keeps its first shape.
    // unknown: items about predictions never made (404).
    return { stored, repeated, conflicts, ...(rejected > 0 ? { rejected } : {}), ...(unknown > 0 ? { unknown } : {}), ...(notStored > 0 ? { notStored } : {}), items };
  },
  );

  return {
    committer,
    applicationName,
    async close() {
      await committer.close();
      await Promise.all([db.end(), checkDb.end()]);
    },
  };
}

/** The stored item, as it was stored (quality and sentiment included). */
function v1Body(r: import('./feedback').StoredFeedback) {
  return {
    id: r.id,
    predictionId: r.predictionId,
    kind: r.kind,
    value: r.value,
    label: r.label,
    event: r.event,
    comment: r.comment,
    source: r.source,
    unitKey: r.unitKey,
    idempotencyKey: r.idempotencyKey,
    quality: r.quality,
    qualityFlags: r.qualityFlags,
    sentiment: r.sentiment,
    sentimentLabel: r.sentimentLabel,
    createdAt: r.createdAt,
  };
}
