/**
 * What the gateway serves: the deployment tables read from PostgreSQL, turned into one immutable
 * routing table per model. A reload loads new versions into the session threads *before* it
 * publishes a table that routes to them, swaps the table in one assignment, and unloads a
 * version only once the requests already routed to it have finished. A version that cannot be
 * loaded is never routed to; if it has weight, the model keeps its previous table and the load is
 * retried on the next reload.
 */
import type pg from 'pg';
import type { MlflowClient } from '../clients/mlflow';
import type { GatewayMetrics } from './metrics';
import { checkDummyOutput, checkSignature, ModelCheckError, modelInfo } from './model-check';
import { readOnnx, sha256 } from './onnx-source';
import { BUCKETS, compareVersions, freshLayout, isPartition, layoutWeights, routingTable, type Layout, type Range } from './routing';
import type { Sessions } from './session-pool';

export interface Fault {
  errorRate: number;
  extraLatencyMs: number;
  wrongLabelRate: number;
}

export interface ServedVersion {
  model: string;
  version: string;
  /** Session key: a new ONNX under the same version is a new key. */
  key: string;
  onnxSha256: string;
  nFeatures: number;
  classes: string[];
  weight: number;
  fault: Fault | undefined;
  inFlight: number;
  retired: boolean;
  metrics: { requests: { inc(): void }; rows: { inc(n: number): void }; errors: { inc(): void }; latency: { observe(v: number): void } };
}

export interface ModelRoute {
  model: string;
  revision: number;
  versions: ServedVersion[];
  /** bucket → index into `versions`; undefined when the model has no traffic to serve. */
  table: Uint16Array | undefined;
  /** Why there is no table, for the 503. */
  unavailable?: string;
}

interface Row {
  model: string;
  version: string;
  onnx_uri: string;
  onnx_sha256: string;
  n_features: number;
  classes: string[];
  state: string;
  weight: number;
  ranges: Range[];
  revision: string;
  error_rate: number | null;
  extra_latency_ms: number | null;
  wrong_label_rate: number | null;
}

const QUERY = `SELECT d.model, d.version, d.onnx_uri, d.onnx_sha256, d.n_features, d.classes, d.state,
       coalesce(w.weight, 0) AS weight, coalesce(w.ranges, '[]'::jsonb) AS ranges, coalesce(r.revision, 0) AS revision,
       f.error_rate, f.extra_latency_ms, f.wrong_label_rate
  FROM deployments d
  LEFT JOIN traffic_weights w ON w.model = d.model AND w.version = d.version
  LEFT JOIN traffic_revisions r ON r.model = d.model
  LEFT JOIN fault_injection f ON f.model = d.model AND f.version = d.version
 WHERE d.state = 'active' OR w.weight > 0`;

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class Catalog {
  private routes = new Map<string, ModelRoute>();
  private readonly served = new Map<string, ServedVersion>();
  private readonly signatures = new Map<string, string>();
  private reloading: Promise<void> | undefined;
  private again = false;
  lastReloadError: string | undefined;
  reloadedOnce = false;

  constructor(
    private readonly db: pg.Pool,
    private readonly pool: Sessions,
    private readonly mlflow: MlflowClient,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  route(model: string): ModelRoute | undefined {
    return this.routes.get(model);
  }

  models(): ModelRoute[] {
    return [...this.routes.values()].sort((a, b) => (a.model < b.model ? -1 : 1));
  }

  begin(sv: ServedVersion): void {
    sv.inFlight++;
  }

  end(sv: ServedVersion): void {
    if (--sv.inFlight === 0 && sv.retired) this.unload(sv);
  }

  /** Coalesces: a reload asked for while one runs starts one more afterwards, not one per ask. */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        try {
          await this.reloadOnce();
          this.lastReloadError = undefined;
          this.reloadedOnce = true;
        } catch (err) {
          this.lastReloadError = (err as Error).message;
          this.metrics.reloadFailures.inc();
          this.log.warn({ err: this.lastReloadError }, 'reload of deployments failed; serving the last good state');
        }
      } while (this.again);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reloadOnce(): Promise<void> {
    const { rows } = await this.db.query<Row>(QUERY);
    const byModel = new Map<string, Row[]>();
    for (const r of rows) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r]);
    const next = new Map(this.routes);
    for (const model of this.routes.keys()) if (!byModel.has(model)) next.delete(model);
    for (const [model, modelRows] of byModel) {
      modelRows.sort((a, b) => compareVersions(a.version, b.version));
      const signature = JSON.stringify(modelRows);
      if (this.signatures.get(model) === signature) continue;
      const built = await this.build(model, modelRows);
      if (built.complete) this.signatures.set(model, signature);
      if (built.route) next.set(model, built.route);
    }
    for (const model of this.signatures.keys()) if (!byModel.has(model)) this.signatures.delete(model);
    // The swap: requests from here on see the new tables; those already routed hold their version.
    this.routes = next;
    this.retireUnused();
  }

  private async build(model: string, rows: Row[]): Promise<{ route?: ModelRoute; complete: boolean }> {
    const versions: ServedVersion[] = [];
    let missing: string | undefined;
    for (const row of rows) {
      try {
        const sv = await this.ensureLoaded(row);
        sv.weight = row.weight;
        sv.fault = row.error_rate === null ? undefined : { errorRate: row.error_rate, extraLatencyMs: row.extra_latency_ms ?? 0, wrongLabelRate: row.wrong_label_rate ?? 0 };
        versions.push(sv);
      } catch (err) {
        this.metrics.loadFailures.inc({ model, version: row.version });
        const message = `version ${row.version} could not be loaded: ${(err as Error).message}`;
        this.log.warn({ model, version: row.version, err: (err as Error).message }, 'model version not loaded; it is not served');
        if (row.weight > 0) missing = message;
      }
    }
    const revision = Number(rows[0]!.revision);
    if (missing) {
      // Routing around a version that should get traffic would silently shift its units elsewhere.
      const previous = this.routes.get(model);
      return { route: previous ?? { model, revision, versions, table: undefined, unavailable: `model ${model}: ${missing}` }, complete: false };
    }
    const weights = Object.fromEntries(versions.map((v) => [v.version, v.weight]));
    const stored: Layout = Object.fromEntries(rows.filter((r) => r.weight > 0).map((r) => [r.version, r.ranges]));
    const matches = isPartition(stored) && Object.entries(layoutWeights(stored)).every(([v, w]) => weights[v] === w);
    const total = versions.reduce((s, v) => s + v.weight, 0);
    for (const v of versions) this.metrics.weight.set({ model, version: v.version }, v.weight / BUCKETS);
    if (total === 0) return { route: { model, revision, versions, table: undefined, unavailable: `model ${model} has no traffic weights (deploy a version or set weights)` }, complete: true };
    if (!matches) this.log.warn({ model }, 'stored bucket ranges do not match the weights (edited by hand?); using a fresh layout');
    const layout = matches ? stored : freshLayout(weights);
    const table = routingTable(layout, versions.map((v) => v.version));
    this.log.info({ model, revision, weights }, 'routing table published');
    return { route: { model, revision, versions, table }, complete: true };
  }

  private async ensureLoaded(row: Row): Promise<ServedVersion> {
    const key = `${row.model}@${row.version}#${row.onnx_sha256}`;
    const existing = this.served.get(key);
    if (existing) {
      existing.retired = false;
      return existing;
    }
    const bytes = await readOnnx(this.mlflow, row.onnx_uri);
    const digest = sha256(bytes);
    if (digest !== row.onnx_sha256) throw new ModelCheckError(`ONNX at ${row.onnx_uri} has sha256 ${digest}, the deployment says ${row.onnx_sha256}`);
    const info = modelInfo(bytes);
    if (info.nFeatures !== row.n_features) throw new ModelCheckError(`ONNX metadata says ${info.nFeatures} features, the deployment says ${row.n_features}`);
    const signature = await this.pool.load(key, bytes);
    try {
      checkSignature(info, signature.inputs, signature.outputs);
      const dummy = await this.pool.run(key, new Float32Array(info.nFeatures), 1, info.nFeatures);
      checkDummyOutput(info, 1, dummy.probabilities, dummy.labels);
    } catch (err) {
      this.pool.unload(key);
      throw err;
    }
    const labels = { model: row.model, version: row.version };
    // Series exist from the load on, at 0: an error ratio reads 0 (not nothing) until a request fails.
    for (const c of [this.metrics.requests, this.metrics.rows, this.metrics.errors]) c.inc(labels, 0);
    const sv: ServedVersion = {
      model: row.model,
      version: row.version,
      key,
      onnxSha256: row.onnx_sha256,
      nFeatures: info.nFeatures,
      classes: info.classes,
      weight: 0,
      fault: undefined,
      inFlight: 0,
      retired: false,
      metrics: {
        requests: this.metrics.requests.labels(labels),
        rows: this.metrics.rows.labels(labels),
        errors: this.metrics.errors.labels(labels),
        latency: this.metrics.latency.labels(labels),
      },
    };
    this.served.set(key, sv);
    this.log.info({ model: row.model, version: row.version, sha256: row.onnx_sha256 }, 'model version loaded');
    return sv;
  }

  private retireUnused(): void {
    const inUse = new Set<string>();
    for (const route of this.routes.values()) for (const v of route.versions) inUse.add(v.key);
    for (const sv of this.served.values()) {
      if (inUse.has(sv.key) || sv.retired) continue;
      sv.retired = true;
      this.metrics.weight.remove({ model: sv.model, version: sv.version });
      if (sv.inFlight === 0) this.unload(sv);
    }
  }

  private unload(sv: ServedVersion): void {
    this.served.delete(sv.key);
    this.pool.unload(sv.key);
    this.log.info({ model: sv.model, version: sv.version }, 'model version unloaded');
  }
}
