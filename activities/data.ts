/** Data activities: validate and materialise a dataset by digest, then split it reproducibly. */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dataPaths, type FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { datasetDigest } from '../lib/data/digest';
import { stratifiedSplit } from '../lib/data/split';
import { loadDataset } from '../datasets/load';
import { readDataset, readDatasetMeta, writeDataset, writeIndices, type DatasetMeta } from '../datasets/store';
import { invalidDataset } from './errors';

export interface DatasetRef extends DatasetMeta {
  /** Folder of the materialised dataset (shared data folder). */
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
}

export interface SplitRef {
  trainUri: string;
  holdoutUri: string;
  trainRows: number;
  holdoutRows: number;
}

export function createDataActivities(config: FlywheelConfig) {
  const paths = dataPaths(config);
  return {
    async validateDataset(input: ValidateDatasetInput): Promise<DatasetRef> {
      const loaded = await loadDataset(input.dataset, { labelColumn: input.labelColumn });
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
      await getPool(config.postgres.url).query(
        `insert into datasets (digest, uri, name, n_rows, n_features, feature_names, label_name, classes)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (digest) do nothing`,
        [digest, source, name, meta.nRows, meta.nFeatures, JSON.stringify(meta.featureNames), meta.labelName, JSON.stringify(meta.classes)],
      );
      return { ...meta, uri };
    },

    async splitDataset(input: SplitInput): Promise<SplitRef> {
      const dir = path.join(input.datasetUri, 'splits', `seed${input.seed}-holdout${input.holdoutFraction}`);
      const trainUri = path.join(dir, 'train.u32');
      const holdoutUri = path.join(dir, 'holdout.u32');
      const meta = await readDatasetMeta(input.datasetUri);
      // The split is a pure function of (content, fraction, seed): a retry may reuse a finished one.
      if (!(existsSync(trainUri) && existsSync(holdoutUri))) {
        const { dataset } = await readDataset(input.datasetUri);
        const { train, holdout } = stratifiedSplit(dataset.y, dataset.classes.length, input.holdoutFraction, input.seed);
        await writeIndices(trainUri, train);
        await writeIndices(holdoutUri, holdout);
      }
      const trainRows = (await stat(trainUri)).size / Uint32Array.BYTES_PER_ELEMENT;
      return { trainUri, holdoutUri, trainRows, holdoutRows: meta.nRows - trainRows };
    },
  };
}
