/**
 * Reads a dataset reference from local disk (or generates it) and validates it. Used at the edge
 * (the CLI rejects bad data before starting anything) and by the validate activity (the workflow
 * rejects it again, non-retryably, for starts that did not come through the CLI).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCsv, rawTableFromRecords } from '../lib/data/csv';
import { formatDatasetReference, parseDatasetReference, type DatasetReference } from '../lib/data/reference';
import { makeClassification } from '../lib/data/synthetic';
import type { Dataset, RawTable } from '../lib/data/table';
import { validateTable, type DataValidationError } from '../lib/data/validate';
import { BUILTIN_DATASETS, BUILTIN_NAMES, type BuiltinDataset } from './catalog';
import { datasetDir, localDataset, readDataset } from './store';
import { StoreMiss, type FileStore } from './file-store';

export interface LoadedDataset {
  dataset: Dataset;
  /** Canonical reference string (lineage: where the rows came from). */
  source: string;
  name: string;
}

export type LoadResult = { ok: true; value: LoadedDataset } | { ok: false; error: DataValidationError | { code: 'reference' | 'unreadable'; message: string } };

export interface LoadOptions {
  /** Label column for file datasets; built-ins know theirs. */
  labelColumn?: string;
  /** Relative file paths resolve against this folder (the caller's working directory). */
  cwd?: string;
  /** The content-addressed store (dataPaths(config).datasets), for `stored:<digest>` references. */
  storeRoot?: string;
  /** The shared store a `stored:` dataset missing from storeRoot is fetched from (datasets/file-store.ts). */
  files?: FileStore;
  /** Snapshots `production:` references (datasets/production.ts); callers without a database leave it out. */
  production?: (ref: Extract<DatasetReference, { kind: 'production' }>) => Promise<LoadResult>;
}

const DEFAULT_LABEL_COLUMNS = ['label', 'target', 'class', 'y'];

export function parseReference(input: string) {
  return parseDatasetReference(input, BUILTIN_NAMES);
}

export async function loadDataset(input: string | DatasetReference, opts: LoadOptions = {}): Promise<LoadResult> {
  let ref: DatasetReference;
  if (typeof input === 'string') {
    const parsed = parseReference(input);
    if (!parsed.ok) return { ok: false, error: { code: 'reference', message: parsed.message } };
    ref = parsed.value;
  } else {
    ref = input;
  }
  if (ref.kind === 'file' && !path.isAbsolute(ref.path)) ref = { ...ref, path: path.resolve(opts.cwd ?? process.cwd(), ref.path) };
  const source = formatDatasetReference(ref);

  if (ref.kind === 'stored') return loadStored(ref.digest, opts.storeRoot, opts.files);
  if (ref.kind === 'production') {
    if (!opts.production) return { ok: false, error: { code: 'reference', message: `${source}: production data is snapshotted where PostgreSQL is at hand (a worker, flywheel data snapshot), not loaded here` } };
    if (!ref.model) return { ok: false, error: { code: 'reference', message: `${source}: name the model (production:<model>:<window>)` } };
    return opts.production(ref);
  }

  if (ref.kind === 'synthetic') {
    const dataset = makeClassification({
      rows: ref.rows,
      features: ref.features,
      classes: ref.classes,
      classSeparation: ref.separation,
      labelNoise: ref.labelNoise,
      seed: ref.seed,
    });
    return { ok: true, value: { dataset, source, name: `synthetic-${ref.rows}x${ref.features}-c${ref.classes}-s${ref.seed}` } };
  }

  let raw: RawTable;
  let labelColumn: string | undefined;
  let featureColumns: string[] | undefined;
  let name: string;
  try {
    if (ref.kind === 'builtin') {
      const entry = BUILTIN_DATASETS[ref.name]!;
      raw = await readBuiltin(entry);
      labelColumn = entry.labelColumn;
      featureColumns = entry.featureColumns;
      name = entry.name;
    } else {
      const text = await readFile(ref.path, 'utf8');
      raw = ref.format === 'csv' ? parseCsv(text) : rawTableFromRecords(parseJsonRecords(text, ref.path));
      name = path.basename(ref.path).replace(/\.(csv|json)$/i, '');
      labelColumn = opts.labelColumn ?? DEFAULT_LABEL_COLUMNS.find((c) => raw.columns.includes(c));
      if (!labelColumn) {
        return {
          ok: false,
          error: { code: 'missing-column', message: `no label column: pass --label <column> (columns: ${raw.columns.join(', ')})` },
        };
      }
    }
  } catch (err) {
    return { ok: false, error: { code: 'unreadable', message: `cannot read dataset ${source}: ${(err as Error).message}` } };
  }

  const checked = validateTable(raw, { labelColumn, featureColumns });
  if (!checked.ok) return { ok: false, error: checked.error };
  return { ok: true, value: { dataset: checked.dataset, source, name } };
}

/**
 * A dataset already in the store, checked and digested when it was written: read as it is. Its
 * source is the one it was written with (`production:<model>?…` for a snapshot), so lineage names
 * the traffic, not the store's path.
 */
async function loadStored(digest: string, storeRoot: string | undefined, files: FileStore | undefined): Promise<LoadResult> {
  if (!storeRoot) return { ok: false, error: { code: 'reference', message: `stored:${digest}: stored datasets are read from the data folder, which this caller did not give` } };
  let dir = datasetDir(storeRoot, digest);
  if (files) dir = await localDataset(files, dir).catch((err: unknown) => (err instanceof StoreMiss ? dir : Promise.reject(err)));
  if (!existsSync(path.join(dir, 'meta.json'))) return { ok: false, error: { code: 'unreadable', message: `no stored dataset ${digest} in ${storeRoot} (flywheel data snapshot writes one)` } };
  try {
    const { meta, dataset } = await readDataset(dir);
    return { ok: true, value: { dataset, source: meta.source, name: meta.name } };
  } catch (err) {
    return { ok: false, error: { code: 'unreadable', message: `cannot read stored dataset ${digest}: ${(err as Error).message}` } };
  }
}

function parseJsonRecords(text: string, file: string): Record<string, unknown>[] {
  const data = JSON.parse(text) as unknown;
  if (!Array.isArray(data)) throw new Error(`${file} must hold a JSON array of records`);
  return data as Record<string, unknown>[];
}

async function readBuiltin(entry: BuiltinDataset): Promise<RawTable> {
  const text = await readFile(entry.locate(), 'utf8');
  if (entry.format === 'vega-json') {
    let records = JSON.parse(text) as Record<string, unknown>[];
    if (entry.dropIncomplete) {
      records = records.filter((r) => entry.featureColumns.every((c) => typeof r[c] === 'number') && typeof r[entry.labelColumn] === 'string');
    }
    return rawTableFromRecords(records);
  }
  return parseSklearnCsv(text, entry);
}

/**
 * scikit-learn's bundled CSVs start with "n_samples,n_features,class names..." instead of a header,
 * and store the label as a class index in the last column.
 */
function parseSklearnCsv(text: string, entry: BuiltinDataset): RawTable {
  const lines = text.trim().split(/\r?\n/);
  const head = lines[0]!.split(',');
  const nFeatures = Number(head[1]);
  const classNames = head.slice(2);
  if (nFeatures !== entry.featureColumns.length) {
    throw new Error(`${entry.name}: file declares ${nFeatures} features, catalogue expects ${entry.featureColumns.length}`);
  }
  const rows = lines.slice(1).map((line) => {
    const cells = line.split(',');
    const label = classNames[Number(cells[nFeatures])] ?? cells[nFeatures]!;
    return [...cells.slice(0, nFeatures), label];
  });
  return { columns: [...entry.featureColumns, entry.labelColumn], rows };
}
