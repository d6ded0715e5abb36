/**
 * Where a knowledge batch's transcript lives while its workflow runs: the caller's data folder,
 * content-addressed (`knowledge/<digest>.jsonl`, so a retry hours later reads the same bytes), and
 * published to the shared file store (datasets/file-store.ts) so that an extraction activity on
 * another host fetches it instead of needing the caller's disk.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FlywheelConfig } from '../config/index';
import { getFileStore } from '../datasets/file-store';

export interface StagedTranscript {
  uri: string;
  /** Why it was not published, when it was not: only a worker on this host can read it then. */
  unpublished?: string;
}

export async function stageTranscript(config: FlywheelConfig, batchId: string, text: string): Promise<StagedTranscript> {
  const uri = path.join(config.dataDir, 'knowledge', `${batchId}.jsonl`);
  await mkdir(path.dirname(uri), { recursive: true });
  await writeFile(uri, text);
  if (config.fileStore === 'off') return { uri };
  try {
    await getFileStore(config).publish(uri);
    return { uri };
  } catch (err) {
    return { uri, unpublished: (err as Error).message };
  }
}
