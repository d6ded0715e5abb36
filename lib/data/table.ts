/**
 * The two shapes data takes inside Flywheel: a RawTable exactly as read (every cell a string, so
 * CSV and JSON go through one validator), and a Dataset of dense typed arrays the trainer can
 * index without boxing.
 */

export interface RawTable {
  columns: string[];
  rows: string[][];
}

export interface Dataset {
  featureNames: string[];
  labelName: string;
  /** Class labels; y holds indices into this array. */
  classes: string[];
  nRows: number;
  nFeatures: number;
  /** Row-major, nRows * nFeatures. */
  x: Float64Array;
  /** Class index per row, in [0, classes.length). */
  y: Int32Array;
}

/** A new Dataset holding the given rows in the given order (rows may repeat). */
export function selectRows(ds: Dataset, indices: Uint32Array): Dataset {
  const d = ds.nFeatures;
  const n = indices.length;
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = indices[i];
    if (r >= ds.nRows) throw new RangeError(`row index ${r} is out of range (dataset has ${ds.nRows} rows)`);
    // A plain loop: subarray() per row would allocate a view per row on million-row datasets.
    const src = r * d;
    const dst = i * d;
    for (let j = 0; j < d; j++) x[dst + j] = ds.x[src + j];
    y[i] = ds.y[r];
  }
  return {
    featureNames: ds.featureNames.slice(),
    labelName: ds.labelName,
    classes: ds.classes.slice(),
    nRows: n,
    nFeatures: d,
    x,
    y,
  };
}
