/**
 * Writes a model.onnx to an MLflow run as an MLflow model folder: the ONNX file, the environment
 * files and `MLmodel` (last, so a folder with an `MLmodel` is complete). The folder is what a
 * model version's `source` names, so `mlflow.pyfunc.load_model('models:/<name>@<alias>')` and
 * `mlflow models serve` load Flywheel's versions; the ONNX stays at <folder>/model.onnx, where
 * the gateway and deployments read it.
 */
import { randomUUID } from 'node:crypto';
import type { MlflowClient } from '../clients/mlflow';
import { MLMODEL_FILE, ONNX_MODEL_FILE, mlflowOnnxModelFiles } from '../lib/onnx/mlflow-flavour';

/** The run's artifact folder that holds the model. */
export const MODEL_ARTIFACT_DIR = 'model';

export async function uploadOnnxModel(mlflow: MlflowClient, run: { runId: string; artifactUri: string }, onnx: Uint8Array): Promise<void> {
  const files = mlflowOnnxModelFiles({ onnx, runId: run.runId, artifactPath: MODEL_ARTIFACT_DIR, modelUuid: randomUUID().replace(/-/g, ''), createdAtMs: Date.now() });
  await mlflow.uploadArtifact(run.artifactUri, `${MODEL_ARTIFACT_DIR}/${ONNX_MODEL_FILE}`, onnx);
  const enc = new TextEncoder();
  for (const [name, text] of Object.entries(files)) {
    if (name !== MLMODEL_FILE) await mlflow.uploadArtifact(run.artifactUri, `${MODEL_ARTIFACT_DIR}/${name}`, enc.encode(text), 'text/plain');
  }
  await mlflow.uploadArtifact(run.artifactUri, `${MODEL_ARTIFACT_DIR}/${MLMODEL_FILE}`, enc.encode(files[MLMODEL_FILE]!), 'text/plain');
}

/** The build's commit as lineage: Flywheel's own tag (as resolved, `-dirty` and all) and, when
 * the commit is known, MLflow's standard tag, which its UI shows on the run page. */
export function gitCommitTags(gitCommit: string): Array<{ key: string; value: string }> {
  const tags = [{ key: 'flywheel.git_commit', value: gitCommit }];
  const sha = gitCommit.replace(/-dirty$/, '').trim();
  if (sha && sha !== 'unknown') tags.push({ key: 'mlflow.source.git.commit', value: sha });
  return tags;
}
