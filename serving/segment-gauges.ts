/**
 * The gateway's per-segment gauges (issue 15): every `intervalMs`, for each model it serves and each
 * segment attribute its callers sent within the evidence window, the same report as `flywheel data
 * segments` (datasets/segments.ts → lib/segments/quality.ts) over that window, exported as
 * flywheel_gateway_segment_{behind,evidence,accuracy_ratio,rest_accuracy_ratio,error_ratio,label_coverage_ratio}
 * for the FlywheelSegmentBehind alert. Which window and which series: lib/segments/alert.ts.
 *
 * Off the request path: its own one-connection pool with a statement timeout, one run at a time, a
 * timer that never keeps the process alive. The queries read only the window (the predictions'
 * daily partitions it covers, by the model index). A failed run keeps the last gauges and is counted.
 * Every replica computes the same numbers from the same tables: the alert takes the max over instances.
 */
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import { segmentAttributes, segmentReport } from '../datasets/segments';
import { evidenceStart, segmentSeries, type SegmentSeries } from '../lib/segments/alert';
import type { GatewayMetrics } from './metrics';

export interface SegmentGaugeOptions {
  intervalMs: number;
  windowMs: number;
  margin: number;
  alpha: number;
  /** Time buckets of the sequential evidence (the report's default, 1 h). */
  bucketSeconds?: number;
  /** Exported values per (model, attribute): Prometheus labels must stay few. */
  maxValues?: number;
  maxAttributes?: number;
}

export class SegmentGauges {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SegmentSeries[]> | undefined;

  constructor(
    private readonly db: pg.Pool,
    private readonly metrics: GatewayMetrics,
    private readonly models: () => string[],
    private readonly opts: SegmentGaugeOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.opts.intervalMs);
    this.timer.unref();
  }

  /** One recomputation (a run already going is joined, not doubled); resolves with what was exported. */
  refresh(now = new Date()): Promise<SegmentSeries[]> {
    this.running ??= this.compute(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async compute(now: Date): Promise<SegmentSeries[]> {
    const since = evidenceStart(now, this.opts.windowMs);
    const series: SegmentSeries[] = [];
    try {
      for (const model of [...new Set(this.models())].sort()) {
        for (const attribute of await segmentAttributes(this.db, { model, since, max: this.opts.maxAttributes ?? 8 })) {
          const r = await segmentReport(this.db, { model, attribute, since, bucketSeconds: this.opts.bucketSeconds ?? 3600, margin: this.opts.margin, alpha: this.opts.alpha });
          series.push(...segmentSeries(model, attribute, r, this.opts.maxValues ?? 20));
        }
      }
    } catch (err) {
      this.metrics.segmentChecks.inc({ outcome: 'failed' });
      this.log.warn({ err: (err as Error).message }, 'segment gauges: reading the window failed; keeping the last values');
      throw err;
    }
    this.publish(series);
    this.metrics.segmentChecks.inc({ outcome: 'ok' });
    return series;
  }

  /** Replaces every series at once (synchronously: a scrape never sees half), so a segment gone from the window disappears. */
  private publish(series: SegmentSeries[]): void {
    const m = this.metrics;
    const gauges = [m.segmentBehind, m.segmentEvidence, m.segmentAccuracy, m.segmentRestAccuracy, m.segmentErrors, m.segmentCoverage];
    for (const g of gauges) g.reset();
    for (const s of series) {
      const labels = { model: s.model, attribute: s.attribute, segment: s.segment };
      m.segmentBehind.set(labels, s.behind);
      m.segmentEvidence.set(labels, s.evidence);
      if (s.accuracy !== undefined) m.segmentAccuracy.set(labels, s.accuracy);
      if (s.restAccuracy !== undefined) m.segmentRestAccuracy.set(labels, s.restAccuracy);
      m.segmentErrors.set(labels, s.errorRatio);
      m.segmentCoverage.set(labels, s.labelCoverage);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
