/**
 * What the shared file store costs a pipeline: a dataset of --rows rows x --features float64 features
 * published by one worker and fetched (sha256-checked) into another worker's folder through the real
 * MLflow artifact proxy, against the named baseline of the shared-folder era, a local file copy of the
 * same files (what a shared volume's reader did at best). Prints seconds, MB/s, the ratio, and peak RSS.
 *
 *   set -a && . <ports env> && set +a && npx tsx bench/store/roundtrip.ts --rows 1000000 --features 10
 */
import { copyFile, mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/index';
import { MlflowClient } from '../../clients/mlflow';
import { FileStore } from '../../datasets/file-store';
import { localDataset, publishDataset, writeDataset } from '../../datasets/store';
import { datasetDigest } from '../../lib/data/digest';
import { positiveFlag } from '../flags';

const rows = positiveFlag('rows', 1_000_000);
const features = positiveFlag('features', 10);
const config = loadConfig();
const transport = new MlflowClient(config.mlflow, 600_000);
const root = await mkdtemp(path.join(tmpdir(), 'flywheel-store-bench-'));
try {
  const x = new Float64Array(rows * features);
  // Content new to the store on every run (seeded by the clock): a dataset already published would skip its upload.
  let s = Date.now() >>> 0;
  for (let i = 0; i < x.length; i++) x[i] = ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 100;
  const y = Int32Array.from({ length: rows }, (_, i) => i % 3);
  const dataset = { featureNames: Array.from({ length: features }, (_, j) => `f${j}`), labelName: 'y', classes: ['a', 'b', 'c'], nRows: rows, nFeatures: features, x, y };
  const digest = datasetDigest(dataset);
  const writer = new FileStore(path.join(root, 'writer'), transport);
  const reader = new FileStore(path.join(root, 'reader'), transport, 'ignore');
  const dir = await writeDataset(path.join(root, 'writer', 'datasets'), dataset, { digest, name: 'bench', source: 'bench', featureNames: dataset.featureNames, labelName: 'y', classes: dataset.classes, nRows: rows, nFeatures: features });
  const mb = (x.byteLength + y.byteLength) / 1e6;

  let t = performance.now();
  await publishDataset(writer, dir);
  const publishS = (performance.now() - t) / 1000;
  t = performance.now();
  await publishDataset(writer, dir); // a retry: refs only
  const republishS = (performance.now() - t) / 1000;
  t = performance.now();
  await localDataset(reader, dir);
  const fetchS = (performance.now() - t) / 1000;

  const copyDir = path.join(root, 'copy');
  await mkdir(copyDir);
  t = performance.now();
  for (const f of ['x.f64', 'y.i32', 'meta.json']) await copyFile(path.join(dir, f), path.join(copyDir, f));
  const copyS = (performance.now() - t) / 1000;

  console.log(`| dataset | ${rows} rows x ${features} features, ${mb.toFixed(1)} MB |`);
  console.log('| step | seconds | MB/s |');
  console.log('| --- | --- | --- |');
  console.log(`| publish (sha256 + PUT blob + PUT ref, 3 files) | ${publishS.toFixed(2)} | ${(mb / publishS).toFixed(0)} |`);
  console.log(`| publish again (a retry: ref GETs only) | ${republishS.toFixed(2)} | - |`);
  console.log(`| fetch into another folder (GET ref + blob, sha256 check, rename) | ${fetchS.toFixed(2)} | ${(mb / fetchS).toFixed(0)} |`);
  console.log(`| baseline: local copy of the same files | ${copyS.toFixed(2)} | ${(mb / copyS).toFixed(0)} |`);
  console.log(`| publish + fetch / local copy | ${((publishS + fetchS) / copyS).toFixed(1)}x |`);
  console.log(`| peak RSS (MB) | ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} |`);
} finally {
  await rm(root, { recursive: true, force: true });
}
