/**
 * Segment flags (`flywheel data segments`, lib/stats/segment-gap.ts), simulated under the way they
 * are used: a report re-read after every time bucket, small segments, sparse labels.
 *
 *   1. Null: a segment exactly as good as the rest (and one at the tolerated margin): how many
 *      segments are ever flagged over all the looks, against the naive reference, a one-sided
 *      two-proportion z-test of the cumulative counts at α re-run at every look.
 *   2. A segment really behind (error rate 2× and 3× the rest's): share flagged by the end and the
 *      labels in the segment until it is.
 *
 *   npx tsx bench/decisions/segment-gap.ts [--runs 2000] [--looks 48] [--rest 400] [--segment 20]
 *                                          [--base 0.1] [--margin 0.2] [--alpha 0.01] [--seed 1]
 *
 * Per look (a bucket): `rest` labelled predictions outside the segment and `segment` inside it,
 * each wrong with its own probability. Deterministic for given flags. A benchmark, not a test.
 */
import { parseArgs } from 'node:util';
import { createRng, deriveSeed, type Rng } from '../../lib/random';
import { segmentGap, type SegmentBucket } from '../../lib/stats/segment-gap';
import { twoProportionZTest } from '../../lib/stats/tests';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    looks: { type: 'string', default: '48' },
    rest: { type: 'string', default: '400' },
    segment: { type: 'string', default: '20' },
    base: { type: 'string', default: '0.1' },
    margin: { type: 'string', default: '0.2' },
    alpha: { type: 'string', default: '0.01' },
    seed: { type: 'string', default: '1' },
  },
});
const RUNS = Number(values.runs);
const LOOKS = Number(values.looks);
const REST = Number(values.rest);
const SEGMENT = Number(values.segment);
const BASE = Number(values.base);
const MARGIN = Number(values.margin);
const ALPHA = Number(values.alpha);
const SEED = Number(values.seed);

function binomial(rng: Rng, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (rng.next() < p) k++;
  return k;
}

/** The error rate whose odds are `ratio` × the base rate's odds. */
function atOddsRatio(p: number, ratio: number): number {
  const odds = (p / (1 - p)) * ratio;
  return odds / (1 + odds);
}

interface Outcome {
  flagged: boolean;
  /** Labels in the segment when first flagged. */
  labelsAtFlag?: number;
  naiveFlagged: boolean;
}

function run(segmentRate: number, r: number): Outcome {
  const rng = createRng(deriveSeed(SEED, r));
  const buckets: SegmentBucket[] = [];
  const cum = { sw: 0, sn: 0, rw: 0, rn: 0 };
  const out: Outcome = { flagged: false, naiveFlagged: false };
  for (let look = 0; look < LOOKS; look++) {
    const b = { segmentWrong: binomial(rng, SEGMENT, segmentRate), segmentLabelled: SEGMENT, restWrong: binomial(rng, REST, BASE), restLabelled: REST };
    buckets.push(b);
    cum.sw += b.segmentWrong;
    cum.sn += b.segmentLabelled;
    cum.rw += b.restWrong;
    cum.rn += b.restLabelled;
    if (!out.flagged && segmentGap(buckets, { margin: MARGIN, alpha: ALPHA }).behind) {
      out.flagged = true;
      out.labelsAtFlag = cum.sn;
    }
    if (!out.naiveFlagged && twoProportionZTest(cum.sw, cum.sn, cum.rw, cum.rn, 'greater').pValue < ALPHA) out.naiveFlagged = true;
  }
  return out;
}

function summarise(name: string, segmentRate: number) {
  const outcomes = Array.from({ length: RUNS }, (_, r) => run(segmentRate, r));
  const flagged = outcomes.filter((o) => o.flagged);
  const labels = flagged.map((o) => o.labelsAtFlag!).sort((a, b) => a - b);
  return {
    case: name,
    'segment error rate': segmentRate.toFixed(3),
    'flagged (segment-gap)': `${flagged.length}/${RUNS} (${((100 * flagged.length) / RUNS).toFixed(2)} %)`,
    'flagged (z-test at every look)': `${outcomes.filter((o) => o.naiveFlagged).length}/${RUNS}`,
    'median segment labels to flag': labels.length ? labels[Math.floor(labels.length / 2)] : '-',
  };
}

console.log(`segment flags: ${RUNS} runs × ${LOOKS} looks; per look ${REST} labels outside the segment and ${SEGMENT} in it; rest error rate ${BASE}; margin ${MARGIN} (error odds); α ${ALPHA}`);
console.table([
  summarise('null: segment as good as the rest', BASE),
  summarise('null: segment at the margin (odds ×1.2)', atOddsRatio(BASE, 1 + MARGIN)),
  summarise('behind: error rate ×2', Math.min(1, 2 * BASE)),
  summarise('behind: error rate ×3', Math.min(1, 3 * BASE)),
]);
