/** Data activities: validate and materialise a dataset by digest, then split it reproducibly. */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dataPaths, type FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { datasetDigest } from '../lib/data/digest';
import { stratifiedSplit, timeSplit } from '../lib/data/split';
import { loadDataset } from '../datasets/load';
import { productionLoader } from '../datasets/production';
import { localDataset, publishDataset, readDataset, readIndices, writeDataset, writeIndices, type DatasetMeta } from '../datasets/store';
import { getFileStore } from '../datasets/file-store';
import { invalidDataset } from './errors';

export interface DatasetRef extends DatasetMeta {
  /** Folder of the materialised dataset in the writer's data folder; other hosts fetch it by digest (datasets/file-store.ts). */
  uri: string;
}

export interface ValidateDatasetInput {
  dataset: string;
  labelColumn?: string;
}

export interface SplitInput {
  datasetUri: string;
  holdoutFraction: number;
  seed: number;
  /** Split only these rows (e.g. a validation set carved from the training split); default all rows. */
  withinUri?: string;
}

export interface SplitRef {
  trainUri: string;
  holdoutUri: string;
  trainRows: number;
  holdoutRows: number;
}

export function createDataActivities(config: FlywheelConfig) {
  const paths = dataPaths(config);
  const files = getFileStore(config);
  return {
    async validateDataset(input: ValidateDatasetInput): Promise<DatasetRef> {
      const loaded = await loadDataset(input.dataset, {
        labelColumn: input.labelColumn,
        storeRoot: paths.datasets,
        production: productionLoader(getPool(config.postgres.url), paths.datasets, files),
        files,
      });
      if (!loaded.ok) {
        const e = loaded.error;
        throw invalidDataset(`dataset ${input.dataset}: ${e.message}`, {
          code: e.code,
          column: 'column' in e ? e.column : undefined,
          row: 'row' in e ? e.row : undefined,
        });
      }
      const { dataset, source, name } = loaded.value;
      const digest = datasetDigest(dataset);
      const meta: DatasetMeta = {
        digest,
        name,
        source,
        featureNames: dataset.featureNames,
        labelName: dataset.labelName,
        classes: dataset.classes,
        nRows: dataset.nRows,
        nFeatures: dataset.nFeatures,
      };
      const uri = await writeDataset(paths.datasets, dataset, meta);
      await publishDataset(files, uri);
      await getPool(config.postgres.url).query(
        `insert into datasets (digest, uri, name, n_rows, n_features, feature_names, label_name, classes)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (digest) do nothing`,
        [digest, source, name, meta.nRows, meta.nFeatures, JSON.stringify(meta.featureNames), meta.labelName, JSON.stringify(meta.classes)],
      );
      return { ...meta, uri };
    },

    async splitDataset(input: SplitInput): Promise<SplitRef> {
      // The inputs may have been written on another host: split this host's copies, under its own folder.
      const datasetUri = await localDataset(files, input.datasetUri);
      const withinUri = input.withinUri && (await files.local(input.withinUri));
      const parent = withinUri ? path.basename(withinUri, '.u32').replace(/[^A-Za-z0-9_-]/g, '') + '-' : '';
      const dir = withinUri
        ? path.join(path.dirname(withinUri), `${parent}seed${input.seed}-holdout${input.holdoutFraction}`)
        : path.join(datasetUri, 'splits', `seed${input.seed}-holdout${input.holdoutFraction}`);
      const trainUri = path.join(dir, 'train.u32');
      const holdoutUri = path.join(dir, 'holdout.u32');
      // The split is a pure function of (content, rows, fraction, seed): a retry may reuse a finished one.
      if (!(existsSync(trainUri) && existsSync(holdoutUri))) {
        const { dataset, meta } = await readDataset(datasetUri);
        const rows = withinUri ? await readIndices(withinUri) : undefined;
        const y = rows ? Int32Array.from(rows, (r) => dataset.y[r]!) : dataset.y;
        // Rows in serving order (a production snapshot): judge on the newest, train on the older.
        const { train, holdout } = meta.order === 'time' ? timeSplit(y.length, input.holdoutFraction) : stratifiedSplit(y, dataset.classes.length, input.holdoutFraction, input.seed);
        await writeIndices(trainUri, rows ? Uint32Array.from(train, (i) => rows[i]!) : train);
        await writeIndices(holdoutUri, rows ? Uint32Array.from(holdout, (i) => rows[i]!) : holdout);
      }
      // Published even when reused: the first writer may have died between writing and publishing.
      await files.publishAll([trainUri, holdoutUri]);
      const size = async (f: string) => (await stat(f)).size / Uint32Array.BYTES_PER_ELEMENT;
      return { trainUri, holdoutUri, trainRows: await size(trainUri), holdoutRows: await size(holdoutUri) };
    },
  };
}
