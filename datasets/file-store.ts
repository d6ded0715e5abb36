/**
 * The shared file store: what a worker writes under its own data folder (datasets, splits) is
 * published to MLflow's artifact proxy, and a worker that misses a file locally fetches it by name
 * into its own folder, checked against its sha256. So no two workers need to share a disk: each
 * data folder is a cache of the store. A path that exists locally is used as it is (histories that
 * carry another era's paths keep working on the host that wrote them).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FlywheelConfig } from '../config/index';
import { MlflowClient, MlflowError } from '../clients/mlflow';
import { blobKey, cachePath, nameUnder, refKey, storeNameOf, STORE_ROOT } from '../lib/store/names';
import { checkBlob, parseRef, refOf } from '../lib/store/ref';

/** The part of the MLflow client the store uses: PUT and GET under the artifact root. */
export type ArtifactTransport = Pick<MlflowClient, 'uploadArtifact' | 'downloadArtifact'>;

/** The artifact URI under which the store's keys live: a folder of the artifact root, tied to no run. */
const ROOT_URI = `mlflow-artifacts:/${STORE_ROOT}`;

export class StoreMiss extends Error {}

export class FileStore {
  constructor(
    readonly dataDir: string,
    /** Undefined: no shared store (FLYWHEEL_FILE_STORE=off): publishing does nothing, a miss is a miss. */
    private readonly transport: ArtifactTransport | undefined,
    /** Whether another folder's path, visible here, may be read when the store lacks it (old histories did that). */
    private readonly foreignPaths: 'use' | 'ignore' = 'use',
  ) {}

  /** Publishes a file this worker wrote under its data folder: the blob first, then the ref that names it. */
  async publish(file: string): Promise<void> {
    const name = nameUnder(this.dataDir, file);
    if (!name) throw new Error(`cannot publish ${file}: it is not under this worker's data folder ${this.dataDir}`);
    if (!this.transport) return;
    const bytes = new Uint8Array(await readFile(file));
    const ref = refOf(bytes);
    // Already there (a retry, or the same dataset materialised again): a ref read instead of the bytes.
    const published = await this.get(refKey(name), name).then((b) => parseRef(name, b), () => undefined);
    if (published?.sha256 === ref.sha256) return;
    await this.transport.uploadArtifact(ROOT_URI, blobKey(ref.sha256), bytes);
    await this.transport.uploadArtifact(ROOT_URI, refKey(name), new TextEncoder().encode(JSON.stringify(ref)), 'application/json');
  }

  /**
   * A local path for a file named by any worker's path: this folder's copy, fetched from the store on
   * a miss (written aside and renamed, so a reader never sees half a file). When nobody published it,
   * the path itself if it exists here (a history from before the store); else StoreMiss.
   */
  async local(file: string): Promise<string> {
    const name = storeNameOf(this.dataDir, file);
    const visible = () => this.foreignPaths === 'use' && existsSync(file);
    if (!name) {
      if (visible()) return file;
      throw new StoreMiss(`${file} is not on this host and names no file of the shared store (only datasets/, artifacts/ and checkpoints/ of a data folder are shared)`);
    }
    const local = cachePath(this.dataDir, name);
    if (existsSync(local)) return local;
    try {
      return await this.fetch(name, local);
    } catch (err) {
      if (err instanceof StoreMiss && visible()) return file;
      throw err;
    }
  }

  private async fetch(name: string, local: string): Promise<string> {
    const ref = parseRef(name, await this.get(refKey(name), name));
    const bytes = await this.get(blobKey(ref.sha256), name);
    checkBlob(name, ref, bytes);
    await mkdir(path.dirname(local), { recursive: true });
    const tmp = `${local}.tmp-${randomUUID()}`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, local);
    } finally {
      await rm(tmp, { force: true });
    }
    return local;
  }

  /** Publishes several files; the last one is the one readers check for, so it goes last. */
  async publishAll(files: string[]): Promise<void> {
    for (const f of files) await this.publish(f);
  }

  private async get(key: string, name: string): Promise<Uint8Array> {
    if (!this.transport) throw new StoreMiss(`${name} is not on this host, and the shared store is off (FLYWHEEL_FILE_STORE=off)`);
    try {
      return await this.transport.downloadArtifact(ROOT_URI, key);
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') throw new StoreMiss(`${name} is not in the shared store (${STORE_ROOT} on ${ROOT_URI})`);
      throw err;
    }
  }
}

const stores = new Map<string, FileStore>();

/** One store (and one MLflow client) per data folder and server, built when first asked for. */
export function getFileStore(config: FlywheelConfig): FileStore {
  const key = `${config.dataDir}\n${config.fileStore}\n${config.mlflow.trackingUri}`;
  let s = stores.get(key);
  if (!s) {
    const transport = config.fileStore === 'off' ? undefined : new MlflowClient(config.mlflow);
    stores.set(key, (s = new FileStore(config.dataDir, transport, config.fileStore === 'mlflow-isolated' ? 'ignore' : 'use')));
  }
  return s;
}
