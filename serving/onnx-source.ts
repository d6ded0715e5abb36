/** Reads a deployment's ONNX bytes from where `deployments.onnx_uri` says: MLflow's artifact store or a local file. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MlflowClient } from '../clients/mlflow';

/** A URI scheme the gateway cannot read: no retry will change that. */
export class UnsupportedOnnxUri extends Error {
  override name = 'UnsupportedOnnxUri';
}

export async function readOnnx(mlflow: MlflowClient, uri: string): Promise<Uint8Array> {
  if (uri.startsWith('mlflow-artifacts:')) {
    const cut = uri.lastIndexOf('/');
    return mlflow.downloadArtifact(uri.slice(0, cut), uri.slice(cut + 1));
  }
  if (uri.startsWith('file:')) return new Uint8Array(await readFile(fileURLToPath(uri)));
  if (path.isAbsolute(uri)) return new Uint8Array(await readFile(uri));
  throw new UnsupportedOnnxUri(`ONNX URI ${uri} is neither an mlflow-artifacts: URI nor an absolute file path`);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
