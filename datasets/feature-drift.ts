/**
 * One feature-drift check of a model's served traffic (issue 15): the newest rows with logged
 * features against the training data of the version serving the most traffic (its dataset in the
 * store, found through pipeline_runs), judged by lib/drift/feature-drift.ts. Columns the logging
 * policy drops or hashes are left out: a pseudonym's distribution says nothing about the feature.
 * A check that flags a feature is recorded in feature_drift_events.
 */
import type pg from 'pg';
import { FEATURE_DRIFT_DEFAULTS, FeatureReference, type FeatureDriftOptions, type FeatureScore } from '../lib/drift/feature-drift';
import { datasetDir, localDataset, readDataset } from './store';
import type { FileStore } from './file-store';

export interface FeatureDriftCheckInput {
  model: string;
  /** The newest this many served rows with features. */
  windowRows: number;
  options?: Partial<FeatureDriftOptions>;
  /** Who checks (`cli`, a monitor's workflow id): recorded with an event. */
  source: string;
  /** Only rows served after this (ISO): a monitor judges each window once after an event, not again and again. */
  newerThan?: string;
}

export interface FeatureDriftCheck {
  model: string;
  championVersion: string;
  referenceDigest: string;
  referenceRows: number;
  judged: boolean;
  windowRows: number;
  windowEnd: string | null;
  /** Feature columns left out (dropped or hashed by the logging policy). */
  excluded: number[];
  scores: FeatureScore[];
  moved: FeatureScore[];
  options: FeatureDriftOptions;
  eventId?: string;
}

export class FeatureDriftRefused extends Error {
  override name = 'FeatureDriftRefused';
}

async function champion(db: pg.Pool, model: string): Promise<{ version: string; digest: string }> {
  const { rows } = await db.query<{ version: string }>(
    'SELECT version FROM traffic_weights WHERE model = $1 AND weight > 0 ORDER BY weight DESC, version DESC LIMIT 1',
    [model],
  );
  const version = rows[0]?.version;
  if (!version) throw new FeatureDriftRefused(`model ${model} serves no traffic: nothing to compare`);
  const run = await db.query<{ dataset_digest: string }>('SELECT dataset_digest FROM pipeline_runs WHERE model = $1 AND model_version = $2 ORDER BY started_at DESC LIMIT 1', [model, version]);
  const digest = run.rows[0]?.dataset_digest;
  if (!digest) throw new FeatureDriftRefused(`model ${model} v${version} has no training run recorded here, so no training data to compare with`);
  return { version, digest };
}

export async function checkFeatureDrift(db: pg.Pool, storeRoot: string, input: FeatureDriftCheckInput, files?: FileStore): Promise<FeatureDriftCheck> {
  const options = { ...FEATURE_DRIFT_DEFAULTS, ...input.options };
  const champ = await champion(db, input.model);
  let reference;
  try {
    const dir = datasetDir(storeRoot, champ.digest);
    reference = await readDataset(files ? await localDataset(files, dir) : dir);
  } catch {
    throw new FeatureDriftRefused(`the training data of ${input.model} v${champ.version} (${champ.digest.slice(0, 12)}) is not in the dataset store ${storeRoot}`);
  }
  const { dataset } = reference;
  const policy = await db.query<{ drop_columns: number[]; hash_columns: number[] }>('SELECT drop_columns, hash_columns FROM feature_logging WHERE model = $1', [input.model]);
  const excluded = [...new Set([...(policy.rows[0]?.drop_columns ?? []), ...(policy.rows[0]?.hash_columns ?? [])])].sort((a, b) => a - b);
  const kept = Array.from({ length: dataset.nFeatures }, (_, j) => j).filter((j) => !excluded.includes(j));
  if (kept.length === 0) throw new FeatureDriftRefused(`every feature of ${input.model} is dropped or hashed by its logging policy: nothing to compare`);

  const project = (x: ArrayLike<number>, n: number, width: number) => {
    const out = new Float64Array(n * kept.length);
    for (let i = 0; i < n; i++) for (let k = 0; k < kept.length; k++) out[i * kept.length + k] = x[i * width + kept[k]!]!;
    return out;
  };
  const ref = FeatureReference.fromRows(project(dataset.x, dataset.nRows, dataset.nFeatures), dataset.nRows, kept.length, kept.map((j) => dataset.featureNames[j] ?? `x${j}`), options.bins);

  // Newest first from the index, then judged as one window (order inside a window does not matter).
  const { rows } = await db.query<{ features: Array<number | null>; created_at: Date }>(
    `SELECT features, created_at FROM predictions WHERE model = $1 AND outcome = 'ok' AND features IS NOT NULL AND cardinality(features) = $3
       AND created_at > $4::timestamptz
     ORDER BY created_at DESC LIMIT $2`,
    [input.model, input.windowRows, dataset.nFeatures, input.newerThan ?? '-infinity'],
  );
  const complete = rows.filter((r) => kept.every((j) => r.features[j] !== null));
  const current = new Float64Array(complete.length * kept.length);
  complete.forEach((r, i) => kept.forEach((j, k) => (current[i * kept.length + k] = Math.fround(r.features[j] as number))));
  const result = ref.check(current, complete.length, options);
  // Names and indices of the full row, not of the kept columns.
  const renumber = (s: FeatureScore): FeatureScore => ({ ...s, feature: kept[s.feature]! });
  const check: FeatureDriftCheck = {
    model: input.model,
    championVersion: champ.version,
    referenceDigest: champ.digest,
    referenceRows: dataset.nRows,
    judged: result.judged,
    windowRows: complete.length,
    windowEnd: rows[0]?.created_at.toISOString() ?? null,
    excluded,
    scores: result.scores.map(renumber),
    moved: result.moved.map(renumber),
    options,
  };
  if (check.moved.length > 0) {
    const ev = await db.query<{ id: string }>(
      `INSERT INTO feature_drift_events (model, champion_version, reference_digest, window_rows, window_end, features, thresholds, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text`,
      [
        input.model,
        champ.version,
        champ.digest,
        check.windowRows,
        check.windowEnd,
        JSON.stringify(check.moved.map((m) => ({ name: m.name, feature: m.feature, psi: m.psi, ks: m.ks, pvalue: m.pvalue }))),
        JSON.stringify(options),
        input.source,
      ],
    );
    check.eventId = ev.rows[0]!.id;
  }
  return check;
}
