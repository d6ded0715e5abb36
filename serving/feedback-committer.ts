/**
 * Group commit: requests that arrive while an INSERT is in flight wait in a queue, and the next
 * INSERT takes all of them, so under load one commit (one WAL flush) acknowledges many requests
 * and at low load a request waits for nothing but its own commit. Each request is answered only
 * once the statement holding its items has returned, and a request's items always share one
 * statement: either all of them are stored or none is, so a 503 never hides a half-stored batch.
 *
 * One INSERT at a time also keeps feedback ids in commit order, which readers that follow the
 * table by id (the online learner's replay, the drift monitor's cursor) rely on.
 */
import type pg from 'pg';
import { storeFeedbackGroup, type ItemOutcome, type ScoredItem } from './feedback';

interface Pending {
  items: ScoredItem[];
  resolve(outcomes: ItemOutcome[]): void;
  reject(err: Error): void;
}

export interface CommitterEvents {
  /** After each commit, with what it stored, in id order. */
  committed(items: readonly ScoredItem[], outcomes: readonly ItemOutcome[], ms: number): void;
  failed(err: Error, items: number): void;
}

export class FeedbackCommitter {
  private queue: Pending[] = [];
  private queued = 0;
  private running = false;
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly db: pg.Pool,
    /** Items per INSERT; one request larger than this still goes whole. */
    private readonly maxItems: number,
    private readonly events: CommitterEvents,
  ) {}

  get backlog(): number {
    return this.queued;
  }

  submit(items: ScoredItem[]): Promise<ItemOutcome[]> {
    if (this.closed) return Promise.reject(new Error('feedback committer is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const group = this.take();
      const items = group.length === 1 ? group[0]!.items : group.flatMap((p) => p.items);
      const t0 = performance.now();
      let outcomes: ItemOutcome[];
      try {
        outcomes = await storeFeedbackGroup(this.db, items);
      } catch (err) {
        // Whether it committed is unknown (the connection may have died after COMMIT): every
        // request in the group is told "not acknowledged" and retries, with its idempotency key.
        this.events.failed(err as Error, items.length);
        for (const p of group) p.reject(err as Error);
        continue;
      }
      this.events.committed(items, outcomes, performance.now() - t0);
      let at = 0;
      for (const p of group) {
        p.resolve(outcomes.slice(at, at + p.items.length));
        at += p.items.length;
      }
    }
    this.running = false;
    this.idle?.();
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
