/**
 * Keeps what an online model was asked, in batches after the response, as the prediction recorder
 * does: a label that arrives after a gateway restart can still be learnt from (the learner's
 * replay joins it), and the memory the gateway keeps for fast learning stays bounded. As there, a
 * batch failed by a row's data is bisected and the refused row dead-lettered (serving/isolate.ts);
 * a batch failed by an outage goes back to the buffer whole.
 */
import type pg from 'pg';
import { writeBuffered } from './dead-letters';
import { WriterMonitor, type MonitoredWriter } from './writer-health';

export interface OnlinePredictionRow {
  id: string;
  model: string;
  generation: number;
  features: Float64Array;
  label: string;
  createdAt: Date;
}

// ON CONFLICT with no target: the key is (id, created_at) since migration 0014 (a retry carries the same time).
const INSERT = `INSERT INTO online_predictions (id, model, generation, features, predicted_label, created_at)
SELECT i, m, g, x::float8[], l, t FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[]) AS u(i, m, g, x, l, t)
ON CONFLICT DO NOTHING`;

const BATCH_ROWS = 5_000;

function params(batch: readonly OnlinePredictionRow[]): unknown[] {
  return [
    batch.map((r) => r.id),
    batch.map((r) => r.model),
    batch.map((r) => r.generation),
    batch.map((r) => `{${Array.from(r.features).join(',')}}`),
    batch.map((r) => r.label),
    batch.map((r) => r.createdAt),
  ];
}

/** A dead letter's payload: features as a plain array (a Float64Array would serialise as an object). */
function payload(r: OnlinePredictionRow): object {
  return { ...r, features: Array.from(r.features) };
}

export class OnlinePredictionWriter implements MonitoredWriter {
  private buffer: OnlinePredictionRow[] = [];
  private flushing: Promise<void> | undefined;
  private writingSince: number | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: pg.Pool,
    private readonly opts: { flushMs: number; maxRows: number },
    private readonly onError: (err: Error) => void,
    readonly monitor: WriterMonitor = new WriterMonitor('online_predictions', undefined),
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

  write(row: OnlinePredictionRow): void {
    // Past the bound the oldest go: losing one only means its late label cannot be replayed.
    if (this.buffer.length >= this.opts.maxRows) {
      this.buffer.shift();
      this.monitor.dropped(1);
    }
    this.buffer.push(row);
  }

  flush(): Promise<void> {
    if (this.flushing || this.buffer.length === 0) return this.flushing ?? Promise.resolve();
    const batch = this.buffer.splice(0, BATCH_ROWS);
    this.writingSince = batch[0]!.createdAt.getTime();
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = undefined;
      this.writingSince = undefined;
    });
    return this.flushing;
  }

  private async writeBatch(batch: OnlinePredictionRow[]): Promise<void> {
    const { retry, error } = await writeBuffered(this.db, this.monitor, batch, (rows) => this.db.query(INSERT, params(rows)), payload);
    if (!error) {
      this.monitor.succeeded();
      return;
    }
    const room = Math.max(0, this.opts.maxRows - this.buffer.length);
    this.monitor.dropped(retry.length - Math.min(room, retry.length));
    this.buffer.unshift(...retry.slice(0, room));
    this.monitor.failed(error);
    this.onError(error);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (let i = 0; i < 10 && this.buffer.length > 0; i++) await this.flush();
    await this.flushing;
    this.monitor.dropped(this.buffer.length);
  }
}
