/**
 * A dataset reference checked at the edge, before anything starts. `production:7d` names the
 * command's own model; a one-off run (train, hpo) snapshots it now and runs on `stored:<digest>`,
 * while a standing one (a schedule, a drift monitor) keeps the reference, so each retraining
 * snapshots the window that ends when it runs.
 */
import { dataPaths, type FlywheelConfig } from '../config/index';
import { closePools, getPool } from '../clients/db';
import { BUILTIN_NAMES } from '../datasets/catalog';
import { loadDataset, type LoadedDataset } from '../datasets/load';
import { productionLoader } from '../datasets/production';
import { getFileStore } from '../datasets/file-store';
import { datasetDigest } from '../lib/data/digest';
import { parseDatasetReference, withProductionModel } from '../lib/data/reference';
import { badInput } from './output';

export async function datasetAtEdge(
  config: FlywheelConfig,
  dataset: string,
  opts: { model: string; label?: string; snapshot: boolean },
): Promise<{ reference: string; loaded?: LoadedDataset; digest?: string }> {
  const reference = withProductionModel(dataset, opts.model, BUILTIN_NAMES);
  const parsed = parseDatasetReference(reference, BUILTIN_NAMES);
  const storeRoot = dataPaths(config).datasets;
  if (parsed.ok && parsed.value.kind === 'production') {
    const db = getPool(config.postgres.url);
    try {
      if (!opts.snapshot) {
        const { rowCount } = await db.query('SELECT 1 FROM deployments WHERE model = $1 LIMIT 1', [parsed.value.model]);
        if (!rowCount) throw badInput(`dataset ${dataset}: model ${parsed.value.model} was never deployed, so it has no served traffic to learn from`);
        return { reference };
      }
      // Published: the workflow's workers read `stored:<digest>` on their own hosts.
      const files = getFileStore(config);
      const loaded = await loadDataset(parsed.value, { storeRoot, files, production: productionLoader(db, storeRoot, files) });
      if (!loaded.ok) throw badInput(`dataset ${dataset}: ${loaded.error.message}`);
      const digest = datasetDigest(loaded.value.dataset);
      return { reference: `stored:${digest}`, loaded: loaded.value, digest };
    } finally {
      await closePools();
    }
  }
  const loaded = await loadDataset(reference, { labelColumn: opts.label, cwd: process.cwd(), storeRoot, files: getFileStore(config) });
  if (!loaded.ok) throw badInput(`dataset ${dataset}: ${loaded.error.message}`);
  return { reference: loaded.value.source, loaded: loaded.value, digest: datasetDigest(loaded.value.dataset) };
}
