/**
 * Group commit: requests that arrive while an INSERT is in flight wait in a queue, and the next
 * INSERT takes all of them, so under load one commit (one WAL flush) acknowledges many requests
 * and at low load a request waits for nothing but its own commit. Each request is answered only
 * once the statements holding its items have returned.
 *
 * An item the database refuses (a data or constraint error) must not fail the honest items that
 * share its INSERT: the group is bisected (serving/isolate.ts), the honest items are committed and
 * acknowledged, and the refused item alone is answered 422 with the database's reason and kept in
 * dead_letters. A failure for any other reason (connection lost, PostgreSQL down) stops writing:
 * what was not committed is answered "not stored, retry" (503), and a request none of whose items
 * was stored is rejected whole, as before, so the client retries it with its idempotency keys.
 *
 * One INSERT at a time also keeps feedback ids in commit order, which readers that follow the
 * table by id (the online learner's replay, the drift monitor's cursor) rely on; bisection writes
 * halves left to right, so that order holds for isolated groups too.
 */
import type pg from 'pg';
import { escapeUnstorable } from '../lib/text/storable';
import { storeDeadLetters, type DeadLetter } from './dead-letters';
import { storeFeedbackGroup, type ItemOutcome, type ScoredItem } from './feedback';
import { writeIsolating } from './isolate';
import { WriterMonitor, type MonitoredWriter } from './writer-health';

interface Pending {
  items: ScoredItem[];
  /** When it was submitted (epoch ms): how long the oldest request has waited. */
  at: number;
  resolve(outcomes: ItemOutcome[]): void;
  reject(err: Error): void;
}

export interface CommitterEvents {
  /** After each group, with what its statements stored (201, 200, 409), in id order. */
  committed(items: readonly ScoredItem[], outcomes: readonly ItemOutcome[], ms: number): void;
  failed(err: Error, items: number): void;
}

export const NOT_STORED = 'feedback could not be stored; retry';

export class FeedbackCommitter implements MonitoredWriter {
  private queue: Pending[] = [];
  private queued = 0;
  private running = false;
  private closed = false;
  private writingSince: number | undefined;
  private idle: (() => void) | undefined;

  constructor(
    private readonly db: pg.Pool,
    /** Items per INSERT; one request larger than this still goes whole. */
    private readonly maxItems: number,
    private readonly events: CommitterEvents,
    readonly monitor: WriterMonitor = new WriterMonitor('feedback', undefined),
  ) {}

  get backlog(): number {
    return this.queued;
  }

  oldestPendingAt(): number | undefined {
    return this.writingSince ?? this.queue[0]?.at;
  }

  submit(items: ScoredItem[]): Promise<ItemOutcome[]> {
    if (this.closed) return Promise.reject(new Error('feedback committer is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ items, at: Date.now(), resolve, reject });
      this.queued += items.length;
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const group = this.take();
      this.writingSince = group[0]!.at;
      try {
        await this.commit(group);
      } finally {
        this.writingSince = undefined;
      }
    }
    this.running = false;
    this.idle?.();
  }

  private async commit(group: Pending[]): Promise<void> {
    const items = group.length === 1 ? group[0]!.items : group.flatMap((p) => p.items);
    const t0 = performance.now();
    const results = await writeIsolating(items, (part) => storeFeedbackGroup(this.db, part));
    const ms = performance.now() - t0;
    const stored: ScoredItem[] = [];
    const storedOutcomes: ItemOutcome[] = [];
    const letters: DeadLetter[] = [];
    let transient: Error | undefined;
    let unwritten = 0;
    const outcomes = results.map((r, i): ItemOutcome => {
      if (r.kind === 'written') {
        stored.push(items[i]!);
        storedOutcomes.push(r.value);
        return r.value;
      }
      if (r.kind === 'rejected') {
        letters.push({ payload: items[i], error: r.error });
        return { status: 422, message: `could not be stored: ${escapeUnstorable(r.error.message)}` };
      }
      // Whether it committed is unknown (the connection may have died after COMMIT): the client
      // is told "not acknowledged" and retries, with its idempotency key.
      transient = r.error;
      unwritten++;
      return { status: 503, message: NOT_STORED };
    });
    if (letters.length > 0) {
      try {
        await storeDeadLetters(this.db, 'feedback', letters);
        this.monitor.deadLettered(letters.length);
      } catch {
        // The clients were told 422 either way; only the copy kept for operators is lost.
        this.monitor.dropped(letters.length);
      }
    }
    if (stored.length > 0) this.events.committed(stored, storedOutcomes, ms);
    if (transient) {
      this.monitor.failed(transient);
      this.events.failed(transient, unwritten);
    } else this.monitor.succeeded();
    let at = 0;
    for (const p of group) {
      const mine = outcomes.slice(at, at + p.items.length);
      at += p.items.length;
      // Nothing of it stored: the whole request is "not acknowledged", never a half answer.
      if (transient && mine.every((o) => o.status === 503)) p.reject(transient);
      else p.resolve(mine);
    }
  }

  private take(): Pending[] {
    const group: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0 && (group.length === 0 || n + this.queue[0]!.items.length <= this.maxItems)) {
      const p = this.queue.shift()!;
      group.push(p);
      n += p.items.length;
    }
    this.queued -= n;
    return group;
  }

  /** Refuses new requests and waits for the queued ones to be answered. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.running) return;
    await new Promise<void>((r) => (this.idle = r));
  }
}
