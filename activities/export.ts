/** Export activity: trained parameters → an ONNX graph built in TypeScript, written beside them. */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FlywheelConfig } from '../config/index';
import { softmaxRegressionToOnnx } from '../lib/onnx/softmax-regression-graph';
import type { SoftmaxRegressionParams } from '../lib/models/types';
import { invalidInput } from './errors';
import { getFileStore } from '../datasets/file-store';

export interface ExportInput {
  paramsUri: string;
  /** Extra ONNX metadata (model name, dataset digest) so the file explains itself. */
  metadata: Record<string, string>;
}

export interface ExportResult {
  onnxUri: string;
  sha256: string;
  sizeBytes: number;
}

export function createExportActivities(config: FlywheelConfig) {
  const files = getFileStore(config);
  return {
    async exportOnnx(input: ExportInput): Promise<ExportResult> {
      // This host's copy of the params (trained maybe elsewhere): the ONNX goes beside it, in this host's folder.
      const paramsFile = await files.local(input.paramsUri);
      const params = JSON.parse(await readFile(paramsFile, 'utf8')) as SoftmaxRegressionParams;
      let bytes: Uint8Array;
      try {
        bytes = softmaxRegressionToOnnx(params, input.metadata);
      } catch (err) {
        throw invalidInput(`cannot export ${input.paramsUri} to ONNX: ${(err as Error).message}`);
      }
      const onnxUri = path.join(path.dirname(paramsFile), 'model.onnx');
      await writeFile(onnxUri, bytes);
      await files.publish(onnxUri);
      return { onnxUri, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.byteLength };
    },
  };
}
