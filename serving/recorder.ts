/**
 * Records predictions after the response, in batches: one INSERT of up to `flushRows` rows every
 * `flushMs` (sooner when a batch is full). A request only appends to an in-memory buffer, so a slow
 * or unreachable database never slows or fails it. The buffer is bounded: past `maxRows` new rows
 * are dropped and counted. A batch that fails for a transient reason (connection lost, PostgreSQL
 * down) goes back to the front of the buffer and is retried with backoff; ON CONFLICT makes a retry
 * of a batch that did commit harmless (the key is (id, created_at), and a retry carries the same
 * created_at: it is stamped before the row is buffered). A batch that fails because of a row's data is bisected: the
 * honest rows are written and the refused row goes to dead_letters (serving/isolate.ts), so one
 * poisoned row can never hold the buffer at a batch that fails forever.
 */
import type pg from 'pg';
import { arrayLiteral } from '../lib/features/log-policy';
import { writeBuffered, type BufferedWrite } from './dead-letters';
import { WriterMonitor, type MonitoredWriter } from './writer-health';

export interface PredictionRow {
  id: string;
  model: string;
  version: string;
  unitKey: string | null;
  latencyMs: number;
  outcome: 'ok' | 'error';
  predictedLabel: string | null;
  createdAt: Date;
  /** The row as stored (serving/feature-logger.ts), or null when its features are not kept. */
  features?: ReadonlyArray<number | null> | null;
  /** The caller's segment attributes (`{ country: 'FR' }`), if any. */
  segment?: Readonly<Record<string, string>> | null;
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

// unnest over one array per column: one statement with ten parameters, whatever the batch size.
// Feature rows travel as array literals (unnest of a real[][] would flatten it) and are cast back.
// ON CONFLICT with no target: it matches the key whichever it is, (id) before migration 0014 or
// (id, created_at) after, so this writer works on both sides of that upgrade.
const INSERT = `INSERT INTO predictions (id, model, version, unit_key, latency_ms, outcome, predicted_label, created_at, features, segment)
SELECT id, model, version, unit_key, latency_ms, outcome, predicted_label, created_at, features::real[], segment
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::real[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::jsonb[])
  AS u(id, model, version, unit_key, latency_ms, outcome, predicted_label, created_at, features, segment)
ON CONFLICT DO NOTHING`;

const MAX_BACKOFF_MS = 5_000;

/**
 * The batched writer itself, for any table whose rows carry when they were made: `insert` writes
 * one batch (one statement). The prediction recorder below, and the shadow answers' writer
 * (serving/shadow.ts), are two of them.
 */
export class BatchedWriter<Row extends { createdAt: Date }> implements MonitoredWriter {
  private buffer: Row[] = [];
  /** When the oldest row of the batch being written arrived: it is pending too, though not buffered. */
  private writingSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private retryAt = 0;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: RecorderOptions,
    private readonly events: RecorderEvents,
    readonly monitor: WriterMonitor,
    private readonly insert: (pool: pg.Pool, rows: readonly Row[]) => Promise<unknown>,
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs);
    this.timer.unref();
  }

  get size(): number {
    return this.buffer.length;
  }

  oldestPendingAt(): number | undefined {
    return this.writingSince ?? this.buffer[0]?.createdAt.getTime();
  }

  private drop(n: number): void {
    if (n <= 0) return;
    this.events.dropped(n);
    this.monitor.dropped(n);
  }

  record(row: Row): void {
    if (this.buffer.length >= this.opts.maxRows) {
      this.drop(1);
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
      this.writingSince = batch[0]!.createdAt.getTime();
      let retry: Row[];
      let error: Error | undefined;
      try {
        ({ retry, error } = await this.write(batch));
      } finally {
        this.writingSince = undefined;
      }
      if (error) {
        // Back to the front, oldest first; what no longer fits is dropped and counted.
        const room = Math.max(0, this.opts.maxRows - this.buffer.length);
        this.drop(retry.length - Math.min(room, retry.length));
        this.buffer.unshift(...retry.slice(0, room));
        this.failures++;
        this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, this.opts.flushMs * 2 ** this.failures);
        this.events.failed(error);
        this.monitor.failed(error);
        return;
      }
      this.failures = 0;
      this.retryAt = 0;
      this.monitor.succeeded();
      if (this.stopped) continue;
      // Let requests run between batches when a backlog drains.
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Writes a batch, isolating refused rows into dead_letters; returns the rows to retry and why. */
  private async write(batch: Row[]): Promise<BufferedWrite<Row>> {
    const result = await writeBuffered(this.pool, this.monitor, batch, (rows) => this.insert(this.pool, rows));
    if (result.written > 0) this.events.recorded(result.written);
    return result;
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
    this.drop(this.buffer.length);
  }
}

/** Served predictions (table predictions). */
export class PredictionRecorder extends BatchedWriter<PredictionRow> {
  constructor(pool: pg.Pool, opts: RecorderOptions, events: RecorderEvents, monitor: WriterMonitor = new WriterMonitor('predictions', undefined)) {
    super(pool, opts, events, monitor, (db, rows) => db.query(INSERT, columns(rows)));
  }
}

function columns(rows: readonly PredictionRow[]): unknown[][] {
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], []];
  for (const r of rows) {
    cols[0]!.push(r.id);
    cols[1]!.push(r.model);
    cols[2]!.push(r.version);
    cols[3]!.push(r.unitKey);
    cols[4]!.push(r.latencyMs);
    cols[5]!.push(r.outcome);
    cols[6]!.push(r.predictedLabel);
    cols[7]!.push(r.createdAt);
    cols[8]!.push(r.features ? arrayLiteral(r.features) : null);
    cols[9]!.push(r.segment ? JSON.stringify(r.segment) : null);
  }
  return cols;
}
