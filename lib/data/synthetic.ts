/**
 * Synthetic classification data in the spirit of scikit-learn's make_classification: each class
 * is a Gaussian blob around its own vertex of a hypercube on the informative dimensions, the other
 * dimensions are pure noise, and a fraction of labels is re-drawn at random. Used for demos,
 * tests and benchmarks, so it must be deterministic and cheap at millions of rows.
 */
import { createRng } from '../random';
import type { Dataset } from './table';

export interface MakeClassificationOptions {
  rows: number;
  features: number;
  classes: number;
  /** Dimensions that carry signal (the first `informative` columns). Default: enough to give every class its own vertex, at least 2. */
  informative?: number;
  /** Half the hypercube's side: larger means easier. Default 1. */
  classSeparation?: number;
  /** Fraction of rows whose label is re-drawn uniformly (so may stay the same). Default 0.01. */
  labelNoise?: number;
  seed: number;
}

export function makeClassification(opts: MakeClassificationOptions): Dataset {
  const { rows, features, classes, seed } = opts;
  const informative = opts.informative ?? Math.min(features, Math.max(2, Math.ceil(Math.log2(classes))));
  const sep = opts.classSeparation ?? 1;
  const noise = opts.labelNoise ?? 0.01;
  checkInt('rows', rows, 1);
  checkInt('features', features, 1);
  checkInt('classes', classes, 2);
  checkInt('informative', informative, 1);
  if (informative > features) throw new RangeError(`informative (${informative}) cannot exceed features (${features})`);
  if (2 ** informative < classes) {
    throw new RangeError(`${classes} classes need at least ${Math.ceil(Math.log2(classes))} informative features (got ${informative})`);
  }
  if (!(Number.isFinite(sep) && sep >= 0)) throw new RangeError(`classSeparation must be a finite number >= 0 (got ${sep})`);
  if (!(noise >= 0 && noise <= 1)) throw new RangeError(`labelNoise must be between 0 and 1 (got ${noise})`);

  const rng = createRng(seed);
  const centroids = distinctVertices(classes, informative, sep, rng);

  const x = new Float64Array(rows * features);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = rng.nextInt(classes);
    const row = i * features;
    const centre = c * informative;
    for (let j = 0; j < informative; j++) x[row + j] = centroids[centre + j] + rng.normal();
    for (let j = informative; j < features; j++) x[row + j] = rng.normal();
    y[i] = noise > 0 && rng.next() < noise ? rng.nextInt(classes) : c;
  }

  return {
    featureNames: Array.from({ length: features }, (_, j) => `x${j}`),
    labelName: 'y',
    classes: Array.from({ length: classes }, (_, k) => String(k)),
    nRows: rows,
    nFeatures: features,
    x,
    y,
  };
}

/** `classes` different random corners of [-sep, sep]^dims, row-major [classes][dims]. */
function distinctVertices(classes: number, dims: number, sep: number, rng: ReturnType<typeof createRng>): Float64Array {
  const out = new Float64Array(classes * dims);
  const taken = new Set<string>();
  for (let c = 0; c < classes; ) {
    let key = '';
    for (let j = 0; j < dims; j++) {
      const bit = rng.nextInt(2);
      key += bit;
      out[c * dims + j] = bit ? sep : -sep;
    }
    if (taken.has(key)) continue;
    taken.add(key);
    c++;
  }
  return out;
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min} (got ${v})`);
}
