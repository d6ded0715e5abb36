/**
 * Served traffic as a training dataset (issue 15): rows arrive oldest first (prediction, its
 * stored features, its first label within the attribution window); the builder keeps those with
 * complete features and a known label, counts everything it left out and why, and keeps the time
 * order, so the newest rows are the last ones (a time-based split judges on them).
 * Pure and incremental: millions of rows go through without an object per row being kept.
 */
import { createRng } from '../random';
import type { Dataset } from './table';

export interface ServedRow {
  version: string;
  /** Stored features (NULL for a dropped column), or null when the row's features were not kept. */
  features: ReadonlyArray<number | null> | null;
  /** The first label within the attribution window, or null. */
  label: string | null;
  /**
   * Whether that label came from feedback that may count (datasets/decision-feedback.ts: not flagged
   * as a contradicting burst, from a client on the model's list when it has one). Only such a label
   * becomes training data; a row whose labels are all untrusted is counted, not kept. Absent: trusted.
   */
  trusted?: boolean;
}

export interface SnapshotCounts {
  /** Predictions answered in the window. */
  predictions: number;
  /** … of which the features were stored. */
  withFeatures: number;
  /** … of which a trusted label arrived within the attribution window (whatever the label). */
  labelled: number;
  /** … left out: labelled within the window only by feedback that may not count (an untrusted client, a flagged burst). */
  untrustedLabel: number;
  /** Rows in the dataset: labelled, features complete, label one of the model's classes. */
  rows: number;
  /** Left out: a NULL (dropped) feature column, a label the model does not know. */
  incompleteFeatures: number;
  unknownLabel: number;
  /** Rows in the dataset per version that served them. */
  versions: Record<string, number>;
  /** labelled / withFeatures: the share of logged traffic that became training data. */
  labelCoverage: number;
}

export class SnapshotBuilder {
  private x: Float64Array;
  private y: Int32Array;
  private readonly classIndex: Map<string, number>;
  private readonly counts = { predictions: 0, withFeatures: 0, labelled: 0, untrustedLabel: 0, rows: 0, incompleteFeatures: 0, unknownLabel: 0 };
  private readonly versions: Record<string, number> = {};

  constructor(
    private readonly nFeatures: number,
    classes: readonly string[],
  ) {
    this.classIndex = new Map(classes.map((c, i) => [c, i]));
    this.x = new Float64Array(1024 * nFeatures);
    this.y = new Int32Array(1024);
  }

  add(row: ServedRow): void {
    this.counts.predictions++;
    if (!row.features) return;
    this.counts.withFeatures++;
    if (row.label === null) return;
    if (row.trusted === false) {
      this.counts.untrustedLabel++;
      return;
    }
    this.counts.labelled++;
    const cls = this.classIndex.get(row.label);
    if (cls === undefined) {
      this.counts.unknownLabel++;
      return;
    }
    const f = row.features;
    if (f.length !== this.nFeatures || f.some((v) => v === null)) {
      this.counts.incompleteFeatures++;
      return;
    }
    const n = this.counts.rows;
    if (n === this.y.length) this.grow();
    // Stored as real: back to the float32 the model was given, exactly.
    for (let j = 0; j < this.nFeatures; j++) this.x[n * this.nFeatures + j] = Math.fround(f[j] as number);
    this.y[n] = cls;
    this.counts.rows++;
    this.versions[row.version] = (this.versions[row.version] ?? 0) + 1;
  }

  private grow(): void {
    const x = new Float64Array(this.x.length * 2);
    x.set(this.x);
    const y = new Int32Array(this.y.length * 2);
    y.set(this.y);
    this.x = x;
    this.y = y;
  }

  counted(): SnapshotCounts {
    const c = this.counts;
    return { ...c, versions: { ...this.versions }, labelCoverage: c.withFeatures === 0 ? 0 : c.labelled / c.withFeatures };
  }

  dataset(featureNames: string[], labelName: string, classes: string[]): Dataset {
    const n = this.counts.rows;
    return { featureNames, labelName, classes, nRows: n, nFeatures: this.nFeatures, x: this.x.slice(0, n * this.nFeatures), y: this.y.slice(0, n) };
  }
}

/**
 * Production rows mixed with a reference dataset so that `share` of the result comes from the
 * reference (drawn without replacement, seeded). The reference rows go first: the newest
 * production rows stay last, where a time-based split looks for its judging set. Classes are
 * matched by name; a reference row whose class the model does not know is refused.
 */
export function mixWithReference(prod: Dataset, ref: Dataset, share: number, seed: number): { dataset: Dataset; referenceRows: number } {
  if (!(share > 0 && share < 1)) throw new RangeError(`mix share must be between 0 and 1 (exclusive), got ${share}`);
  if (ref.nFeatures !== prod.nFeatures) throw new RangeError(`the reference dataset has ${ref.nFeatures} features, the model's traffic ${prod.nFeatures}`);
  const classOf = ref.classes.map((c) => prod.classes.indexOf(c));
  const missing = ref.classes.find((_, i) => classOf[i] === -1);
  if (missing !== undefined) throw new RangeError(`the reference dataset's class "${missing}" is not one of the model's (${prod.classes.join(', ')})`);
  const want = Math.min(ref.nRows, Math.round((prod.nRows * share) / (1 - share)));
  const order = createRng(seed).shuffle(Uint32Array.from({ length: ref.nRows }, (_, i) => i)).slice(0, want);
  const d = prod.nFeatures;
  const n = want + prod.nRows;
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < want; i++) {
    const r = order[i]!;
    x.set(ref.x.subarray(r * d, (r + 1) * d), i * d);
    y[i] = classOf[ref.y[r]!]!;
  }
  x.set(prod.x.subarray(0, prod.nRows * d), want * d);
  y.set(prod.y.subarray(0, prod.nRows), want);
  return { dataset: { ...prod, nRows: n, x, y }, referenceRows: want };
}
