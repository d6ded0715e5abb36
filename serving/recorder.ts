/**
 * Records predictions after the response, in batches: one INSERT of up to `flushRows` rows every
 * `flushMs` (sooner when a batch is full). A request only appends to an in-memory buffer, so a slow
 * or unreachable database never slows or fails it. The buffer is bounded: past `maxRows` new rows
 * are dropped and counted. A failed batch goes back to the front of the buffer and is retried with
 * backoff; ON CONFLICT makes a retry of a batch that did commit harmless.
 */
import type pg from 'pg';

export interface PredictionRow {
  id: string;
  model: string;
  version: string;
  unitKey: string | null;
  latencyMs: number;
  outcome: 'ok' | 'error';
  predictedLabel: string | null;
  createdAt: Date;
}

export interface RecorderOptions {
  flushMs: number;
  flushRows: number;
  maxRows: number;
}

export interface RecorderEvents {
  recorded(rows: number): void;
  dropped(rows: number): void;
  failed(error: Error): void;
}

// unnest over one array per column: one statement with eight parameters, whatever the batch size.
const INSERT = `INSERT INTO predictions (id, model, version, unit_key, latency_ms, outcome, predicted_label, created_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::real[], $6::text[], $7::text[], $8::timestamptz[])
ON CONFLICT (id) DO NOTHING`;

const MAX_BACKOFF_MS = 5_000;

export class PredictionRecorder {
  private buffer: PredictionRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private retryAt = 0;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: RecorderOptions,
    private readonly events: RecorderEvents,
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs);
    this.timer.unref();
  }

  get size(): number {
    return this.buffer.length;
  }

  record(row: PredictionRow): void {
    if (this.buffer.length >= this.opts.maxRows) {
      this.events.dropped(1);
      return;
    }
    this.buffer.push(row);
    if (this.buffer.length >= this.opts.flushRows && !this.flushing && Date.now() >= this.retryAt) void this.flush();
  }

  /** Writes batches until the buffer is empty or a write fails. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.buffer.length === 0 || Date.now() < this.retryAt) return Promise.resolve();
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.opts.flushRows);
      try {
        await this.pool.query(INSERT, columns(batch));
        this.failures = 0;
        this.retryAt = 0;
        this.events.recorded(batch.length);
      } catch (err) {
        // Back to the front, oldest first; what no longer fits is dropped and counted.
        const room = Math.max(0, this.opts.maxRows - this.buffer.length);
        if (room < batch.length) this.events.dropped(batch.length - room);
        this.buffer.unshift(...batch.slice(0, room));
        this.failures++;
        this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, this.opts.flushMs * 2 ** this.failures);
        this.events.failed(err as Error);
        return;
      }
      if (this.stopped) continue;
      // Let requests run between batches when a backlog drains.
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Stops the timer and writes what is buffered, trying for at most `timeoutMs`. */
  async close(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      this.retryAt = 0;
      await this.flush();
      if (this.buffer.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    if (this.buffer.length > 0) this.events.dropped(this.buffer.length);
  }
}

function columns(rows: PredictionRow[]): unknown[][] {
  const cols: unknown[][] = [[], [], [], [], [], [], [], []];
  for (const r of rows) {
    cols[0]!.push(r.id);
    cols[1]!.push(r.model);
    cols[2]!.push(r.version);
    cols[3]!.push(r.unitKey);
    cols[4]!.push(r.latencyMs);
    cols[5]!.push(r.outcome);
    cols[6]!.push(r.predictedLabel);
    cols[7]!.push(r.createdAt);
  }
  return cols;
}
