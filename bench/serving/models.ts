/**
 * The benchmark's model versions: iris-shaped softmax regressions (4 features, 3 classes) from
 * Flywheel's own ONNX exporter, with seeded weights. Registered in MLflow the way the pipeline
 * registers them (a run holding model/model.onnx, a version tagged with its sha256); a version
 * with the same bytes is reused, so repeated runs do not grow the registry.
 */
import type { MlflowClient } from '../../clients/mlflow';
import { mlflowQuote, tagsToRecord } from '../../clients/mlflow';
import { ONNX_ARTIFACT_PATH } from '../../activities/registry';
import { softmaxRegressionToOnnx } from '../../lib/onnx/softmax-regression-graph';
import { createRng } from '../../lib/random';
import { sha256 } from '../../serving/onnx-source';

export const BENCH_MODEL = 'flywheel-bench-serving';
export const N_FEATURES = 4;
const CLASSES = ['setosa', 'versicolor', 'virginica'];

export function benchOnnx(seed: number): Uint8Array {
  const rng = createRng(seed);
  return softmaxRegressionToOnnx({
    family: 'softmax-regression',
    nFeatures: N_FEATURES,
    classes: CLASSES,
    mean: [5.84, 3.06, 3.76, 1.2],
    scale: [0.83, 0.44, 1.77, 0.76],
    weights: Array.from({ length: N_FEATURES * CLASSES.length }, () => rng.normal()),
    bias: CLASSES.map(() => rng.normal() * 0.1),
  });
}

/** Returns the version holding exactly these bytes, registering it if there is none. */
export async function ensureVersion(mlflow: MlflowClient, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  await mlflow.ensureRegisteredModel(BENCH_MODEL, 'Serving benchmark models (bench/serving)');
  const existing = await mlflow.searchModelVersions(`name=${mlflowQuote(BENCH_MODEL)}`);
  const same = existing.find((v) => tagsToRecord(v.tags)['flywheel.onnx_sha256'] === digest && v.status === 'READY');
  if (same) return same.version;
  const experimentId = await mlflow.ensureExperiment(BENCH_MODEL);
  const run = await mlflow.createRun(experimentId, `bench-${digest.slice(0, 8)}`, [], Date.now());
  await mlflow.uploadArtifact(run.info.artifact_uri, ONNX_ARTIFACT_PATH, bytes);
  await mlflow.finishRun(run.info.run_id, 'FINISHED', Date.now());
  let mv = await mlflow.createModelVersion(BENCH_MODEL, `${run.info.artifact_uri}/model`, run.info.run_id, [{ key: 'flywheel.onnx_sha256', value: digest }]);
  for (let i = 0; i < 60 && mv.status !== 'READY'; i++) {
    await new Promise((r) => setTimeout(r, 250));
    mv = (await mlflow.getModelVersion(BENCH_MODEL, mv.version)) ?? mv;
  }
  return mv.version;
}
