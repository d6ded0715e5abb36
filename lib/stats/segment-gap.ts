/**
 * Is a segment (one value of a caller's segment attribute) served worse than the rest of the model's
 * traffic, by more than a stated margin? Anytime-valid, like the canary judge: per time bucket, the
 * segment's wrong labels are compared with the rest's by the exact conditional two-sample e-process
 * of lib/stats/e-processes.ts, against the boundary odds ratio 1 + margin. "Behind" when the mixture
 * reaches 1/α: by Ville's inequality a segment no worse than that is flagged with probability ≤ α,
 * however often the report is read. A raw difference of accuracies is not evidence: a small
 * segment's accuracy moves by chance.
 */
import { mixtureLogE, twoSampleUpdate } from './e-processes';

export interface SegmentBucket {
  /** Wrong labels out of labelled predictions in the segment, and in the rest of the model's traffic. */
  segmentWrong: number;
  segmentLabelled: number;
  restWrong: number;
  restLabelled: number;
}

export interface SegmentGap {
  /** The evidence that the segment's error odds exceed (1 + margin)× the rest's. */
  e: number;
  behind: boolean;
}

/** Alternatives: the segment's error odds at these multiples of the boundary. */
const FACTORS = [1.25, 1.5, 2, 3, 5];

export function segmentGap(buckets: readonly SegmentBucket[], opts: { margin: number; alpha: number }): SegmentGap {
  if (!(opts.margin >= 0)) throw new RangeError(`margin must be ≥ 0 (got ${opts.margin})`);
  if (!(opts.alpha > 0 && opts.alpha < 1)) throw new RangeError(`alpha must be in (0, 1) (got ${opts.alpha})`);
  const logPsi0 = Math.log1p(opts.margin);
  const grid = FACTORS.map((f) => logPsi0 + Math.log(f));
  let state = grid.map(() => 0);
  for (const b of buckets) {
    state = twoSampleUpdate(state, grid, logPsi0, { candidateEvents: b.segmentWrong, candidateTrials: b.segmentLabelled, stableEvents: b.restWrong, stableTrials: b.restLabelled });
  }
  const logE = mixtureLogE(state);
  return { e: Math.exp(logE), behind: logE >= Math.log(1 / opts.alpha) };
}
