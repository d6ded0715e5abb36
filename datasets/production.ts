/**
 * `flywheel data snapshot`: a model's served predictions joined with their first label within an
 * attribution window, written as a content-addressed dataset in the store (table datasets) with its
 * lineage (table dataset_snapshots). Reads through a server-side cursor in pages, oldest first, so
 * the dataset keeps the time order and a snapshot of millions of rows never holds them as objects.
 */
import type pg from 'pg';
import { datasetDigest } from '../lib/data/digest';
import { mixWithReference, SnapshotBuilder, type SnapshotCounts } from '../lib/data/production-snapshot';
import type { Dataset } from '../lib/data/table';
import type { DatasetReference } from '../lib/data/reference';
import { decisionClients, decisionFeedbackSql } from './decision-feedback';
import { loadDataset, type LoadResult } from './load';
import { publishDataset, readDataset, writeDataset, type DatasetMeta } from './store';
import type { FileStore } from './file-store';

export interface SnapshotInput {
  model: string;
  /** Predictions served in [to - windowMs, to). */
  windowMs: number;
  windowText: string;
  /** A label counts when it arrived within this long after its prediction. */
  attributionMs: number;
  /** Refuse (nothing written) below this label coverage. */
  minLabelCoverage: number;
  mix?: { dataset: string; share: number };
  /** End of the window (default now): fixed, so a snapshot can be reproduced. */
  to?: Date;
  /** Start no earlier than this (a drift event's time): rows served before the change are not learnt. */
  since?: Date;
  seed?: number;
}

export interface SnapshotResult extends SnapshotCounts {
  digest: string;
  uri: string;
  source: string;
  nRows: number;
  nFeatures: number;
  classes: string[];
  from: string;
  to: string;
  mix?: { source: string; share: number; rows: number };
}

export class SnapshotRefused extends Error {
  override name = 'SnapshotRefused';
}

const PAGE = 20_000;

// The first trusted label per prediction, by arrival (the first untrusted one when there is none, so
// it is counted and left out: datasets/decision-feedback.ts says which feedback may count, $5 the
// model's client list); a label before its prediction's answer cannot be attributed to it (nor one
// past the attribution window). Read through one server-side cursor: one sort of the window,
// streamed in pages (keyset pages re-sorted the rest of the window each time).
const JOIN_SQL = `
SELECT p.version, p.features, l.label, coalesce(l.trusted, false) AS trusted
FROM predictions p
LEFT JOIN LATERAL (
  SELECT f.label, ${decisionFeedbackSql('f', '$5')} AS trusted FROM feedback f
  WHERE f.prediction_id = p.id AND f.kind = 'label' AND f.created_at >= p.created_at AND f.created_at <= p.created_at + $4 * interval '1 millisecond'
  ORDER BY 2 DESC NULLS LAST, f.created_at, f.id LIMIT 1
) l ON true
WHERE p.model = $1 AND p.outcome = 'ok' AND p.created_at >= $2 AND p.created_at < $3
ORDER BY p.created_at, p.id`;

/** The serving shape of the model: its newest deployment's features and classes. */
async function servedShape(db: pg.Pool, model: string): Promise<{ nFeatures: number; classes: string[]; featureNames: string[]; labelName: string }> {
  const dep = await db.query<{ n_features: number; classes: string[] }>('SELECT n_features, classes FROM deployments WHERE model = $1 ORDER BY created_at DESC LIMIT 1', [model]);
  const d = dep.rows[0];
  if (!d) throw new SnapshotRefused(`model ${model} was never deployed: there is no served traffic to snapshot`);
  // Names from the newest training data of the same width, so a retrained model keeps its columns.
  const names = await db.query<{ feature_names: string[]; label_name: string }>(
    `SELECT ds.feature_names, ds.label_name FROM pipeline_runs r JOIN datasets ds ON ds.digest = r.dataset_digest
     WHERE r.model = $1 AND ds.n_features = $2 ORDER BY r.started_at DESC LIMIT 1`,
    [model, d.n_features],
  );
  const n = names.rows[0];
  return {
    nFeatures: d.n_features,
    classes: d.classes,
    featureNames: n?.feature_names ?? Array.from({ length: d.n_features }, (_, i) => `x${i}`),
    labelName: n?.label_name ?? 'label',
  };
}

/** `files`: the shared store the snapshot is published to (and a `--mix` stored dataset fetched from). */
export async function snapshotProduction(db: pg.Pool, storeRoot: string, input: SnapshotInput, files?: FileStore): Promise<SnapshotResult> {
  const shape = await servedShape(db, input.model);
  const to = input.to ?? new Date();
  const from = new Date(Math.max(to.getTime() - input.windowMs, input.since?.getTime() ?? -Infinity));
  const builder = new SnapshotBuilder(shape.nFeatures, shape.classes);
  const clients = await decisionClients(db, input.model);
  const client = await db.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`DECLARE snapshot_rows NO SCROLL CURSOR FOR ${JOIN_SQL}`, [input.model, from, to, input.attributionMs, clients]);
    for (;;) {
      const { rows } = await client.query<{ version: string; features: Array<number | null> | null; label: string | null; trusted: boolean }>(`FETCH ${PAGE} FROM snapshot_rows`);
      for (const r of rows) builder.add(r);
      if (rows.length < PAGE) break;
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  const counts = builder.counted();
  if (counts.rows === 0) throw new SnapshotRefused(`model ${input.model}: no labelled predictions with logged features between ${from.toISOString()} and ${to.toISOString()} (${counts.predictions} predictions, ${counts.withFeatures} with features, ${counts.labelled} labelled)`);
  if (counts.labelCoverage < input.minLabelCoverage) {
    throw new SnapshotRefused(`model ${input.model}: label coverage ${counts.labelCoverage.toFixed(3)} is below --min-label-coverage ${input.minLabelCoverage} (${counts.labelled} of ${counts.withFeatures} logged predictions labelled)`);
  }
  let dataset: Dataset = builder.dataset(shape.featureNames, shape.labelName, shape.classes);
  let mix: SnapshotResult['mix'];
  if (input.mix) {
    const ref = await loadDataset(input.mix.dataset, { storeRoot, files });
    if (!ref.ok) throw new SnapshotRefused(`--mix ${input.mix.dataset}: ${ref.error.message}`);
    try {
      const mixed = mixWithReference(dataset, ref.value.dataset, input.mix.share, input.seed ?? 1);
      dataset = mixed.dataset;
      mix = { source: ref.value.source, share: input.mix.share, rows: mixed.referenceRows };
    } catch (err) {
      throw new SnapshotRefused(`--mix ${input.mix.dataset}: ${(err as Error).message}`);
    }
  }
  const source = `production:${input.model}?window=${input.windowText}${input.since ? `&since=${input.since.toISOString()}` : ''}&to=${to.toISOString()}${mix ? `&mix=${mix.source}:${mix.share}` : ''}`;
  const digest = datasetDigest(dataset);
  const meta: DatasetMeta = {
    digest,
    name: `${input.model}-production-${input.windowText}`,
    source,
    featureNames: dataset.featureNames,
    labelName: dataset.labelName,
    classes: dataset.classes,
    nRows: dataset.nRows,
    nFeatures: dataset.nFeatures,
    order: 'time',
  };
  const uri = await writeDataset(storeRoot, dataset, meta);
  if (files) await publishDataset(files, uri);
  await db.query(
    `INSERT INTO datasets (digest, uri, name, n_rows, n_features, feature_names, label_name, classes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (digest) DO NOTHING`,
    [digest, source, meta.name, meta.nRows, meta.nFeatures, JSON.stringify(meta.featureNames), meta.labelName, JSON.stringify(meta.classes)],
  );
  await db.query(
    `INSERT INTO dataset_snapshots (digest, model, from_at, to_at, window_text, attribution_s, versions, predictions, with_features, labelled, production_rows, label_coverage, mix)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (digest, model, from_at, to_at, window_text) DO NOTHING`,
    [digest, input.model, from, to, input.windowText, input.attributionMs / 1000, JSON.stringify(counts.versions), counts.predictions, counts.withFeatures, counts.labelled, counts.rows, counts.labelCoverage, mix ? JSON.stringify(mix) : null],
  );
  return { ...counts, digest, uri, source, nRows: dataset.nRows, nFeatures: dataset.nFeatures, classes: dataset.classes, from: from.toISOString(), to: to.toISOString(), ...(mix ? { mix } : {}) };
}

export interface SnapshotLineage {
  model: string;
  window: string;
  from: Date;
  to: Date;
  versions: Record<string, number>;
  rows: number;
  labelCoverage: number;
  mix: { source: string; share: number; rows: number } | null;
}

/**
 * Lineage of a model's snapshots by digest (for `flywheel models show`): digests that are not its
 * snapshots are absent; the same rows snapshotted twice show the newest window.
 */
export async function snapshotLineage(db: pg.Pool, model: string, digests: string[]): Promise<Map<string, SnapshotLineage>> {
  if (digests.length === 0) return new Map();
  const { rows } = await db.query(
    `SELECT DISTINCT ON (digest) digest, model, window_text, from_at, to_at, versions, production_rows, label_coverage, mix
     FROM dataset_snapshots WHERE model = $1 AND digest = ANY($2::text[]) ORDER BY digest, id DESC`,
    [model, digests],
  );
  return new Map(
    rows.map((r) => [r.digest as string, { model: r.model, window: r.window_text, from: r.from_at, to: r.to_at, versions: r.versions, rows: Number(r.production_rows), labelCoverage: r.label_coverage, mix: r.mix }]),
  );
}

/**
 * The resolver loadDataset uses for `production:<model>:<window>[+mix]`: a fresh snapshot ending now
 * (each scheduled or drift-triggered retraining trains on the latest window), default attribution 1 day.
 */
export function productionLoader(db: pg.Pool, storeRoot: string, files?: FileStore): (ref: Extract<DatasetReference, { kind: 'production' }>) => Promise<LoadResult> {
  return async (ref) => {
    const windowMs = parseWindow(ref.window);
    try {
      const r = await snapshotProduction(db, storeRoot, { model: ref.model, windowMs, windowText: ref.window, attributionMs: 86_400_000, minLabelCoverage: 0, mix: ref.mix, ...(ref.since ? { since: new Date(ref.since) } : {}) }, files);
      // This window's source, not the stored meta's: the same rows may have been stored from another window first.
      const { dataset } = await readDataset(r.uri);
      return { ok: true, value: { dataset, source: r.source, name: `${ref.model}-production-${ref.window}` } };
    } catch (err) {
      if (err instanceof SnapshotRefused) return { ok: false, error: { code: 'reference', message: err.message } };
      throw err;
    }
  };
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseWindow(w: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(w)!;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
