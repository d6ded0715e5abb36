/**
 * Keeps what an online model was asked, in batches after the response, as the prediction recorder
 * does: a label that arrives after a gateway restart can still be learnt from (the learner's
 * replay joins it), and the memory the gateway keeps for fast learning stays bounded.
 */
import type pg from 'pg';

export interface OnlinePredictionRow {
  id: string;
  model: string;
  generation: number;
  features: Float64Array;
  label: string;
  createdAt: Date;
}

const INSERT = `INSERT INTO online_predictions (id, model, generation, features, predicted_label, created_at)
SELECT i, m, g, x::float8[], l, t FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[]) AS u(i, m, g, x, l, t)
ON CONFLICT (id) DO NOTHING`;

export class OnlinePredictionWriter {
  private buffer: OnlinePredictionRow[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: pg.Pool,
    private readonly opts: { flushMs: number; maxRows: number },
    private readonly onError: (err: Error) => void,
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushMs);
    this.timer.unref();
  }

  write(row: OnlinePredictionRow): void {
    // Past the bound the oldest go: losing one only means its late label cannot be replayed.
    if (this.buffer.length >= this.opts.maxRows) this.buffer.shift();
    this.buffer.push(row);
  }

  flush(): Promise<void> {
    if (this.flushing || this.buffer.length === 0) return this.flushing ?? Promise.resolve();
    const batch = this.buffer.splice(0, 5_000);
    this.flushing = this.db
      .query(INSERT, [
        batch.map((r) => r.id),
        batch.map((r) => r.model),
        batch.map((r) => r.generation),
        batch.map((r) => `{${Array.from(r.features).join(',')}}`),
        batch.map((r) => r.label),
        batch.map((r) => r.createdAt),
      ])
      .then(
        () => undefined,
        (err: Error) => {
          this.buffer.unshift(...batch.slice(0, Math.max(0, this.opts.maxRows - this.buffer.length)));
          this.onError(err);
        },
      )
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (let i = 0; i < 10 && this.buffer.length > 0; i++) await this.flush();
    await this.flushing;
  }
}
