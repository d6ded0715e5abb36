/**
 * Per-segment serving quality from counts per (segment value, time bucket): predictions, errors,
 * labelled share, accuracy, and whether the segment falls behind the rest of the model's traffic by
 * more than a margin with anytime-valid evidence (lib/stats/segment-gap.ts). One computation for
 * `flywheel data segments`, `flywheel models show` and the gateway's segment gauges
 * (serving/segment-gauges.ts), so the alert and the report never disagree.
 */
import { segmentGap } from '../stats/segment-gap';

export interface SegmentCounts {
  /** The segment value; '' groups predictions without the attribute (counted in the rest, never reported). */
  value: string;
  /** Time bucket number (serving order); any integer text. */
  bucket: string;
  predictions: number;
  errors: number;
  labelled: number;
  wrong: number;
}

export interface SegmentRow {
  value: string;
  predictions: number;
  errors: number;
  labelled: number;
  wrong: number;
  accuracy: number | null;
  errorRate: number;
  labelCoverage: number;
  /** Evidence that this segment's error odds exceed (1 + margin)× the rest's; behind when ≥ 1/α. */
  e: number;
  behind: boolean;
}

export interface SegmentQuality {
  overall: { predictions: number; labelled: number; wrong: number; accuracy: number | null };
  segments: SegmentRow[];
}

export function segmentQuality(rows: readonly SegmentCounts[], opts: { margin: number; alpha: number }): SegmentQuality {
  const byBucket = new Map<string, { labelled: number; wrong: number }>();
  for (const r of rows) {
    const t = byBucket.get(r.bucket) ?? { labelled: 0, wrong: 0 };
    t.labelled += r.labelled;
    t.wrong += r.wrong;
    byBucket.set(r.bucket, t);
  }
  const values = [...new Set(rows.map((r) => r.value))].filter((v) => v !== '').sort();
  const segments = values.map((value) => {
    const own = rows.filter((r) => r.value === value).sort((a, b) => Number(a.bucket) - Number(b.bucket));
    const sum = (k: 'predictions' | 'errors' | 'labelled' | 'wrong') => own.reduce((s, r) => s + r[k], 0);
    const [predictions, errors, labelled, wrong] = [sum('predictions'), sum('errors'), sum('labelled'), sum('wrong')];
    const gap = segmentGap(
      own.map((r) => {
        const t = byBucket.get(r.bucket)!;
        return { segmentWrong: r.wrong, segmentLabelled: r.labelled, restWrong: t.wrong - r.wrong, restLabelled: t.labelled - r.labelled };
      }),
      opts,
    );
    return { value, predictions, errors, labelled, wrong, accuracy: labelled ? 1 - wrong / labelled : null, errorRate: predictions ? errors / predictions : 0, labelCoverage: predictions ? labelled / predictions : 0, e: gap.e, behind: gap.behind };
  });
  const all = [...byBucket.values()].reduce((a, t) => ({ labelled: a.labelled + t.labelled, wrong: a.wrong + t.wrong }), { labelled: 0, wrong: 0 });
  return {
    overall: { predictions: rows.reduce((s, r) => s + r.predictions, 0), labelled: all.labelled, wrong: all.wrong, accuracy: all.labelled ? 1 - all.wrong / all.labelled : null },
    segments,
  };
}
