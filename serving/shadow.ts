/**
 * Shadow mirroring: while a shadow runs for a model (table shadow_deployments, read on NOTIFY and by
 * the poll), a share of its requests is answered a second time by the shadow version — after the
 * reply, off the request's path — and the shadow's answer is stored beside the served prediction's
 * id (table shadow_predictions). The caller only ever gets the serving version's answer.
 *
 * A request never waits for its shadow: it only copies its feature matrix and appends a job to a
 * bounded queue; jobs run a few at a time once the reply has been handed to the socket. Past the
 * bound, jobs are dropped and counted (flywheel_gateway_shadow_dropped_total) — a shadow never
 * slows or fails the caller, it loses rows instead. Shadow answers go through their own batched
 * writer (same bounded buffer, same isolation of refused rows), which /healthz does not watch: a
 * failing shadow writer must not take a gateway out of its balancer.
 */
import type pg from 'pg';
import { BatchedWriter, type RecorderEvents, type RecorderOptions } from './recorder';
import type { WriterMonitor } from './writer-health';

export interface ShadowRow {
  /** The served prediction's id (predictions.id). */
  predictionId: string;
  model: string;
  version: string;
  predictedLabel: string | null;
  latencyMs: number;
  outcome: 'ok' | 'error';
  createdAt: Date;
}

// ON CONFLICT with no target: it matches the key whichever it is, (prediction_id, version) before
// migration 0016 or (prediction_id, version, created_at) after (created_at is the served row's time).
const INSERT = `INSERT INTO shadow_predictions (prediction_id, model, version, predicted_label, latency_ms, outcome, created_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::real[], $6::text[], $7::timestamptz[])
ON CONFLICT DO NOTHING`;

export function shadowWriter(db: pg.Pool, opts: RecorderOptions, events: RecorderEvents, monitor: WriterMonitor): BatchedWriter<ShadowRow> {
  return new BatchedWriter<ShadowRow>(db, opts, events, monitor, (pool, rows) =>
    pool.query(INSERT, [
      rows.map((r) => r.predictionId),
      rows.map((r) => r.model),
      rows.map((r) => r.version),
      rows.map((r) => r.predictedLabel),
      rows.map((r) => r.latencyMs),
      rows.map((r) => r.outcome),
      rows.map((r) => r.createdAt),
    ]),
  );
}

/** What running the shadow version gave: labels per row, or why there are none. */
export type ShadowRun = { ok: true; labels: string[] } | { ok: false; error: 'failed' } | { ok: false; error: 'not-loaded' | 'shape' };

export interface ShadowJob {
  model: string;
  version: string;
  /** A copy of the request's feature matrix (the served one is handed to a session thread). */
  data: Float32Array;
  rows: number;
  nFeatures: number;
  ids: readonly string[];
  createdAt: Date;
}

export interface ShadowEvents {
  answered(model: string, version: string, outcome: 'ok' | 'error', rows: number): void;
  dropped(model: string, reason: 'queue-full' | 'not-loaded' | 'shape' | 'closing', rows: number): void;
}

export interface MirrorOptions {
  /** Requests waiting for their shadow run; more are dropped. */
  maxQueued: number;
  /** Shadow runs at once (the session threads are shared with served requests). */
  concurrency: number;
}

interface Running {
  version: string;
  share: number;
}

export class ShadowMirror {
  private shadows = new Map<string, Running>();
  private queue: ShadowJob[] = [];
  private running = 0;
  private scheduled = false;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly db: pg.Pool,
    private readonly writer: BatchedWriter<ShadowRow>,
    private readonly run: (job: ShadowJob) => Promise<ShadowRun>,
    private readonly opts: MirrorOptions,
    private readonly events: ShadowEvents,
    private readonly random: () => number = Math.random,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** The running shadows; a failed read throws and the caller keeps the last ones. */
  async reload(): Promise<void> {
    const { rows } = await this.db.query<{ model: string; version: string; share: number }>('SELECT model, version, share FROM shadow_deployments WHERE stopped_at IS NULL');
    this.shadows = new Map(rows.map((r) => [r.model, { version: r.version, share: Number(r.share) }]));
  }

  /**
   * The shadow version a request of `model` served by `servedVersion` is mirrored to, or undefined.
   * Decided before inference, so that only mirrored requests pay for a copy of their features. A
   * request the shadow version itself served (a canary at a step) is not mirrored.
   */
  pick(model: string, servedVersion: string): string | undefined {
    if (this.closed || this.shadows.size === 0) return undefined;
    const s = this.shadows.get(model);
    if (!s || s.version === servedVersion) return undefined;
    return s.share >= 1 || this.random() < s.share ? s.version : undefined;
  }

  /** Never waits and never throws: the job runs after the reply, or is dropped and counted. */
  offer(job: ShadowJob): void {
    if (this.closed) return this.events.dropped(job.model, 'closing', job.rows);
    if (this.queue.length >= this.opts.maxQueued) return this.events.dropped(job.model, 'queue-full', job.rows);
    this.queue.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      // After the I/O phase: the reply of the request that offered the job is written first.
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      void this.runOne(job).finally(() => {
        this.running--;
        if (this.queue.length > 0) this.pump();
        else if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async runOne(job: ShadowJob): Promise<void> {
    const t0 = performance.now();
    let result: ShadowRun;
    try {
      result = await this.run(job);
    } catch {
      result = { ok: false, error: 'failed' };
    }
    const latencyMs = performance.now() - t0;
    if (!result.ok && result.error !== 'failed') return this.events.dropped(job.model, result.error, job.rows);
    const outcome = result.ok ? 'ok' : 'error';
    for (let r = 0; r < job.rows; r++) {
      this.writer.record({ predictionId: job.ids[r]!, model: job.model, version: job.version, predictedLabel: result.ok ? result.labels[r]! : null, latencyMs, outcome, createdAt: job.createdAt });
    }
    this.events.answered(job.model, job.version, outcome, job.rows);
  }

  /** Resolves when no shadow job waits or runs (tests, shutdown). */
  settled(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Runs what waits, then writes every answer so far (tests, benchmarks). */
  async flush(): Promise<void> {
    await this.settled();
    await this.writer.flush();
  }

  /** Drops what waits (counted), lets the running jobs finish, then writes what they answered. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.events.dropped(job.model, 'closing', job.rows);
    await this.settled();
    await this.writer.close();
  }
}
