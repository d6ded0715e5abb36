/**
 * What the gateway's segment gauges read and export (serving/segment-gauges.ts), decided without I/O.
 *
 * The evidence of a segment gap (lib/stats/segment-gap.ts) is anytime-valid for one fixed start: read
 * it as often as you like and a segment no worse than the margin crosses 1/α with probability ≤ α.
 * A window sliding with the clock would start a new test at every reading and multiply false alarms,
 * so the start is anchored: the beginning of the previous whole window (UTC-aligned), kept until the
 * next boundary. Each anchor is one test, one anchor per window length: a segment no worse than the
 * margin is flagged with probability ≤ α per window length (a day by default), however often it is read.
 * Between one and two windows of traffic are read: with daily windows, two daily partitions at most.
 */
import type { SegmentQuality, SegmentRow } from './quality';

export function evidenceStart(now: Date, windowMs: number): Date {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0 (got ${windowMs})`);
  return new Date(Math.floor(now.getTime() / windowMs) * windowMs - windowMs);
}

export interface SegmentSeries {
  model: string;
  attribute: string;
  segment: string;
  behind: 0 | 1;
  /** The e-value; a huge one is capped so the exposition stays a finite number. */
  evidence: number;
  /** Share of the segment's labelled predictions served right, and the same for the rest of the model's traffic (absent without labels). */
  accuracy?: number;
  restAccuracy?: number;
  /** Share of the segment's predictions that failed (HTTP 500). */
  errorRatio: number;
  labelCoverage: number;
}

const MAX_EVIDENCE = 1e300;

/**
 * The series of one (model, attribute) report: the `maxValues` segment values with the most predictions
 * (Prometheus labels must stay few; the others still count as "the rest" of every exported segment),
 * behind ones first so a flagged segment is never the one left out.
 */
export function segmentSeries(model: string, attribute: string, q: SegmentQuality, maxValues: number): SegmentSeries[] {
  const chosen = [...q.segments].sort((a, b) => Number(b.behind) - Number(a.behind) || b.predictions - a.predictions || (a.value < b.value ? -1 : 1)).slice(0, Math.max(0, maxValues));
  return chosen.map((s: SegmentRow) => {
    const restLabelled = q.overall.labelled - s.labelled;
    return {
      model,
      attribute,
      segment: s.value,
      behind: s.behind ? 1 : 0,
      evidence: Math.min(s.e, MAX_EVIDENCE),
      ...(s.accuracy !== null ? { accuracy: s.accuracy } : {}),
      ...(restLabelled > 0 ? { restAccuracy: 1 - (q.overall.wrong - s.wrong) / restLabelled } : {}),
      errorRatio: s.errorRate,
      labelCoverage: s.labelCoverage,
    };
  });
}
