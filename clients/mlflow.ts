/**
 * A thin typed client over MLflow's REST API 2.0, covering only the endpoints Flywheel uses.
 * (The `mlflow` npm package is unmaintained and has no registry support.)
 * Errors keep MLflow's `error_code` so callers branch on it, not on message text.
 */
import type { MlflowAuth } from '../config/index';

export interface MlflowTag { key: string; value: string }
export interface MlflowMetric { key: string; value: number; timestamp: number; step: number }
export interface MlflowParam { key: string; value: string }

export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: string;
  artifact_uri: string;
  start_time?: number;
  end_time?: number;
  lifecycle_stage?: string;
}
export interface MlflowRun {
  info: MlflowRunInfo;
  data: { metrics?: MlflowMetric[]; params?: MlflowParam[]; tags?: MlflowTag[] };
  inputs?: { dataset_inputs?: Array<{ dataset: { name: string; digest: string; source: string } }> };
}
export interface MlflowModelVersion {
  name: string;
  version: string;
  creation_timestamp?: number;
  source?: string;
  run_id?: string;
  status?: string;
  tags?: MlflowTag[];
  aliases?: string[];
  description?: string;
}
export interface MlflowRegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  latest_versions?: MlflowModelVersion[];
  tags?: MlflowTag[];
  aliases?: Array<{ alias: string; version: string }>;
}

export class MlflowError extends Error {
  override name = 'MlflowError';
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string | undefined,
  ) {
    super(message);
  }
  get alreadyExists(): boolean {
    return this.errorCode === 'RESOURCE_ALREADY_EXISTS';
  }
  get notFound(): boolean {
    return this.status === 404 || this.errorCode === 'RESOURCE_DOES_NOT_EXIST';
  }
}

/** Page sizes for searches: each at most what MLflow's server accepts per request (1000 for
 * registered models; runs and versions allow more, but a page this size stays well under a MB). */
export const SEARCH_PAGE_SIZE = { runs: 1000, registeredModels: 1000, modelVersions: 1000 } as const;

/** MLflow accepts at most this many items per `runs/log-batch` request. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, items: 1000 } as const;

/** Where MLflow is and how to log in: `config.mlflow`, or a bare tracking URI (no credentials). */
export type MlflowEndpoint = string | { trackingUri: string; auth?: MlflowAuth };

/** The standard MLflow client credentials as an Authorization header (MLFLOW_TRACKING_TOKEN / _USERNAME + _PASSWORD). */
export function mlflowAuthHeader(auth: MlflowAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if ('token' in auth) return { authorization: `Bearer ${auth.token}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

/** The same credentials as the standard environment variables, for MLflow's own (Python) clients. */
export function mlflowAuthEnv(auth: MlflowAuth | undefined): Record<string, string> {
  if (!auth) return {};
  if ('token' in auth) return { MLFLOW_TRACKING_TOKEN: auth.token };
  return { MLFLOW_TRACKING_USERNAME: auth.username, MLFLOW_TRACKING_PASSWORD: auth.password };
}

export class MlflowClient {
  readonly baseUrl: string;
  private readonly authHeader: Record<string, string>;
  constructor(endpoint: MlflowEndpoint, private readonly timeoutMs = 30_000) {
    const { trackingUri, auth } = typeof endpoint === 'string' ? { trackingUri: endpoint, auth: undefined } : endpoint;
    this.baseUrl = trackingUri.replace(/\/+$/, '');
    this.authHeader = mlflowAuthHeader(auth);
  }

  private async call<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', endpoint: string, body?: Record<string, unknown>): Promise<T> {
    let url = `${this.baseUrl}/api/2.0/mlflow/${endpoint}`;
    const init: RequestInit = { method, signal: AbortSignal.timeout(this.timeoutMs), headers: { ...this.authHeader } };
    if (body && (method === 'GET' || method === 'DELETE')) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) if (v !== undefined) qs.set(k, String(v));
      url += `?${qs}`;
      if (method === 'DELETE') {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
    } else if (body) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (err) {
      throw new MlflowError(`MLflow at ${this.baseUrl} is unreachable: ${(err as Error).message}`, 0, 'UNREACHABLE');
    }
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      /* non-JSON error pages fall through with the raw text */
    }
    if (!res.ok) {
      const code = typeof json.error_code === 'string' ? json.error_code : undefined;
      const msg = typeof json.message === 'string' ? json.message : text.slice(0, 300);
      throw new MlflowError(`MLflow ${method} ${endpoint} failed (${res.status}${code ? ` ${code}` : ''}): ${msg}`, res.status, code);
    }
    return json as T;
  }

  // ── experiments ────────────────────────────────────────────────────────────
  async getExperimentByName(name: string): Promise<{ experiment_id: string; name: string } | undefined> {
    try {
      const r = await this.call<{ experiment: { experiment_id: string; name: string } }>('GET', 'experiments/get-by-name', { experiment_name: name });
      return r.experiment;
    } catch (err) {
      if (err instanceof MlflowError && err.notFound) return undefined;
      throw err;
    }
  }

  /** Get-or-create, safe against a concurrent creator. */
  async ensureExperiment(name: string, tags: MlflowTag[] = []): Promise<string> {
    const existing = await this.getExperimentByName(name);
    if (existing) return existing.experiment_id;
    try {
      const r = await this.call<{ experiment_id: string }>('POST', 'experiments/create', { name, tags });
      return r.experiment_id;
    } catch (err) {
      if (err instanceof MlflowError && err.alreadyExists) {
        const again = await this.getExperimentByName(name);
        if (again) return again.experiment_id;
      }
      throw err;
    }
  }

  /** Marks an experiment and its runs deleted (MLflow keeps them until garbage-collected). */
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.call('POST', 'experiments/delete', { experiment_id: experimentId });
  }

  // ── runs ───────────────────────────────────────────────────────────────────
  async createRun(experimentId: string, runName: string, tags: MlflowTag[], startTime: number): Promise<MlflowRun> {
    const r = await this.call<{ run: MlflowRun }>('POST', 'runs/create', { experiment_id: experimentId, run_name: runName, tags, start_time: startTime });
    return r.run;
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const r = await this.call<{ run: MlflowRun }>('GET', 'runs/get', { run_id: runId });
    return r.run;
  }

  /** Every matching run (or the first `limit`), following `next_page_token` page by page. */
  async searchRuns(experimentIds: string[], filter: string, limit = Infinity, pageSize: number = SEARCH_PAGE_SIZE.runs): Promise<MlflowRun[]> {
    return this.paged(limit, pageSize, async (max_results, page_token) => {
      const r = await this.call<{ runs?: MlflowRun[]; next_page_token?: string }>('POST', 'runs/search', { experiment_ids: experimentIds, filter, max_results, page_token });
      return [r.runs ?? [], r.next_page_token];
    });
  }

  /** Splits into requests that respect MLflow's per-request limits. */
  async logBatch(runId: string, batch: { metrics?: MlflowMetric[]; params?: MlflowParam[]; tags?: MlflowTag[] }): Promise<void> {
    const metrics = [...(batch.metrics ?? [])];
    const params = [...(batch.params ?? [])];
    const tags = [...(batch.tags ?? [])];
    while (metrics.length || params.length || tags.length) {
      const p = params.splice(0, LOG_BATCH_LIMITS.params);
      const t = tags.splice(0, LOG_BATCH_LIMITS.tags);
      const m = metrics.splice(0, LOG_BATCH_LIMITS.items - p.length - t.length);
      await this.call('POST', 'runs/log-batch', { run_id: runId, metrics: m, params: p, tags: t });
    }
  }

  async logInputs(runId: string, datasets: Array<{ name: string; digest: string; sourceType: string; source: string; schema?: string; profile?: string; context?: string }>): Promise<void> {
    await this.call('POST', 'runs/log-inputs', {
      run_id: runId,
      datasets: datasets.map((d) => ({
        tags: d.context ? [{ key: 'mlflow.data.context', value: d.context }] : [],
        dataset: { name: d.name, digest: d.digest, source_type: d.sourceType, source: d.source, schema: d.schema, profile: d.profile },
      })),
    });
  }

  async finishRun(runId: string, status: 'FINISHED' | 'FAILED' | 'KILLED', endTime: number): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, status, end_time: endTime });
  }

  async setRunTag(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'runs/set-tag', { run_id: runId, key, value });
  }

  // ── artifacts (served by the tracking server) ─────────────────────────────
  /** `mlflow-artifacts:/1/abc/artifacts` → the server path under /api/2.0/mlflow-artifacts/artifacts. */
  private artifactUrl(artifactUri: string, relPath: string): string {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(artifactUri);
    if (!m) throw new MlflowError(`run artifact URI ${artifactUri} is not served by the tracking server (start it with --serve-artifacts)`, 0, 'UNSUPPORTED_ARTIFACT_STORE');
    const base = m[1]!.replace(/\/+$/, '');
    const rel = relPath.split('/').map(encodeURIComponent).join('/');
    return `${this.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${base}/${rel}`;
  }

  async uploadArtifact(artifactUri: string, relPath: string, bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    const res = await fetch(this.artifactUrl(artifactUri, relPath), {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': contentType, ...this.authHeader },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new MlflowError(`MLflow artifact upload of ${relPath} failed (${res.status}): ${(await res.text()).slice(0, 300)}`, res.status, undefined);
  }

  async downloadArtifact(artifactUri: string, relPath: string): Promise<Uint8Array> {
    const res = await fetch(this.artifactUrl(artifactUri, relPath), { headers: this.authHeader, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw new MlflowError(`MLflow artifact download of ${relPath} failed (${res.status})`, res.status, res.status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : undefined);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** The server path of `relPath` under the artifact root it serves (each segment escaped). */
  private servedUrl(relPath: string, query = ''): string {
    return `${this.baseUrl}/api/2.0/mlflow-artifacts/artifacts${relPath ? `/${relPath.split('/').map(encodeURIComponent).join('/')}` : ''}${query}`;
  }

  /** One folder of the artifact root the server serves ('' for the root): entries' names, whether each is a folder, files' sizes. */
  async listServedArtifacts(dir: string): Promise<Array<{ name: string; isDir: boolean; bytes: number | undefined }>> {
    let res: Response;
    try {
      res = await fetch(`${this.servedUrl('')}?path=${encodeURIComponent(dir)}`, { headers: this.authHeader, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new MlflowError(`MLflow at ${this.baseUrl} is unreachable: ${(err as Error).message}`, 0, 'UNREACHABLE');
    }
    if (!res.ok) throw new MlflowError(`MLflow artifact listing of ${dir || '/'} failed (${res.status}): ${(await res.text()).slice(0, 300)}`, res.status, undefined);
    const body = (await res.json()) as { files?: Array<{ path: string; is_dir: boolean; file_size?: number | string }> };
    // Names come back as the last segment of each entry's path.
    return (body.files ?? []).map((f) => ({ name: f.path.split('/').pop()!, isDir: f.is_dir, bytes: f.file_size === undefined ? undefined : Number(f.file_size) }));
  }

  /**
   * A served artifact's bytes as a stream, for files too large to hold in memory. No limit on the
   * whole (a large file takes as long as it takes), but on each wait: no answer, or no next chunk,
   * within the client's timeout aborts the download, so a stalled server fails the read rather
   * than holding it until the activity's own timeout.
   */
  async streamServedArtifact(relPath: string): Promise<ReadableStream<Uint8Array>> {
    const abort = new AbortController();
    const stalled = () => abort.abort(new MlflowError(`MLflow artifact download of ${relPath} stalled for ${this.timeoutMs} ms`, 0, 'UNREACHABLE'));
    let timer = setTimeout(stalled, this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.servedUrl(relPath), { headers: this.authHeader, signal: abort.signal });
    } catch (err) {
      clearTimeout(timer);
      throw err;
    }
    if (!res.ok || !res.body) {
      clearTimeout(timer);
      throw new MlflowError(`MLflow artifact download of ${relPath} failed (${res.status})`, res.status, res.status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : undefined);
    }
    const reader = res.body.getReader();
    const wait = this.timeoutMs;
    return new ReadableStream<Uint8Array>({
      async pull(out) {
        clearTimeout(timer);
        timer = setTimeout(stalled, wait);
        try {
          const { done, value } = await reader.read();
          if (done) {
            clearTimeout(timer);
            out.close();
          } else out.enqueue(value);
        } catch (err) {
          clearTimeout(timer);
          throw err;
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        return reader.cancel(reason);
      },
    });
  }

  // ── model registry ─────────────────────────────────────────────────────────
  async getRegisteredModel(name: string): Promise<MlflowRegisteredModel | undefined> {
    try {
      const r = await this.call<{ registered_model: MlflowRegisteredModel }>('GET', 'registered-models/get', { name });
      return r.registered_model;
    } catch (err) {
      if (err instanceof MlflowError && err.notFound) return undefined;
      throw err;
    }
  }

  async ensureRegisteredModel(name: string, description: string, tags: MlflowTag[] = []): Promise<void> {
    try {
      await this.call('POST', 'registered-models/create', { name, description, tags });
    } catch (err) {
      if (!(err instanceof MlflowError && err.alreadyExists)) throw err;
    }
  }

  /** Every registered model matching `filter` (all when omitted), or the first `limit`, page by page. */
  async searchRegisteredModels(opts: { filter?: string; limit?: number; pageSize?: number } = {}): Promise<MlflowRegisteredModel[]> {
    return this.paged(opts.limit ?? Infinity, opts.pageSize ?? SEARCH_PAGE_SIZE.registeredModels, async (max_results, page_token) => {
      const r = await this.call<{ registered_models?: MlflowRegisteredModel[]; next_page_token?: string }>('GET', 'registered-models/search', {
        filter: opts.filter,
        max_results,
        page_token,
        order_by: 'name ASC',
      });
      return [r.registered_models ?? [], r.next_page_token];
    });
  }

  /** Deletes a registered model with its versions (their run artifacts stay with the runs). */
  async deleteRegisteredModel(name: string): Promise<void> {
    try {
      await this.call('DELETE', 'registered-models/delete', { name });
    } catch (err) {
      if (!(err instanceof MlflowError && err.notFound)) throw err;
    }
  }

  async createModelVersion(name: string, source: string, runId: string, tags: MlflowTag[], description?: string): Promise<MlflowModelVersion> {
    const r = await this.call<{ model_version: MlflowModelVersion }>('POST', 'model-versions/create', { name, source, run_id: runId, tags, description });
    return r.model_version;
  }

  async getModelVersion(name: string, version: string): Promise<MlflowModelVersion | undefined> {
    try {
      const r = await this.call<{ model_version: MlflowModelVersion }>('GET', 'model-versions/get', { name, version });
      return r.model_version;
    } catch (err) {
      if (err instanceof MlflowError && err.notFound) return undefined;
      throw err;
    }
  }

  /** Every model version matching `filter` (or the first `limit`), following `next_page_token`. */
  async searchModelVersions(filter: string, limit = Infinity, pageSize: number = SEARCH_PAGE_SIZE.modelVersions): Promise<MlflowModelVersion[]> {
    return this.paged(limit, pageSize, async (max_results, page_token) => {
      const r = await this.call<{ model_versions?: MlflowModelVersion[]; next_page_token?: string }>('GET', 'model-versions/search', { filter, max_results, page_token });
      return [r.model_versions ?? [], r.next_page_token];
    });
  }

  /** Asks for pages of at most `pageSize` (never more than `limit` still wanted) until MLflow
   * returns no `next_page_token` or `limit` items are in hand. */
  private async paged<T>(limit: number, pageSize: number, page: (maxResults: number, pageToken: string | undefined) => Promise<[T[], string | undefined]>): Promise<T[]> {
    if (!(limit > 0)) return [];
    if (!(Number.isInteger(pageSize) && pageSize > 0)) throw new Error(`MLflow search page size must be a positive integer, got ${pageSize}`);
    const out: T[] = [];
    let token: string | undefined;
    do {
      const [items, next] = await page(Math.min(pageSize, limit - out.length), token);
      out.push(...items.slice(0, limit - out.length));
      if (next && next === token) throw new Error('MLflow returned the same next_page_token twice');
      token = next || undefined;
    } while (token && out.length < limit);
    return out;
  }

  async setModelVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'model-versions/set-tag', { name, version, key, value });
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.call('POST', 'registered-models/alias', { name, alias, version });
  }

  async getVersionByAlias(name: string, alias: string): Promise<MlflowModelVersion | undefined> {
    try {
      const r = await this.call<{ model_version: MlflowModelVersion }>('GET', 'registered-models/alias', { name, alias });
      return r.model_version;
    } catch (err) {
      if (err instanceof MlflowError && err.notFound) return undefined;
      throw err;
    }
  }

  async health(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(3000) });
      return res.ok;
    } catch {
      return false;
    }
  }
}

/** Quote a value for MLflow's search filter grammar. */
export function mlflowQuote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function tagsToRecord(tags: MlflowTag[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));
}
