/**
 * The serving gateway: fastify routes over the catalog (routing tables), the session pool
 * (inference in worker threads), the prediction recorder and the feedback store.
 *
 *   POST /v1/models/:model/predict   { unitKey?, features: number[] } | { unitKey?, instances: number[][] }
 *   POST /v1/feedback                { predictionId, kind, value?, label?, idempotencyKey? }   (feedback-routes.ts)
 *   POST /v1/feedback/batch          { items: [...] }, every channel                          (feedback-routes.ts)
 *   POST /v1/online/:name/predict    online models, learning from label feedback               (online-routes.ts)
 *   GET  /v1/models                  loaded versions, weights, faults
 *   GET  /healthz                    200 once the deployment tables have been read, 503 with the reason
 *                                    while a batched writer is stuck, failing or dropping rows
 *   GET  /metrics                    Prometheus
 *   GET  /openapi.json, /docs        the HTTP contract (OpenAPI 3.0, generated from serving/schemas.ts) and a page rendering it
 *
 * Every route but /healthz, /openapi.json and /docs needs a credential with the scope declared next to it (serving/auth.ts).
 */
import { traceHttpRequests } from '../clients/tracing';
import fs from 'node:fs';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import pg from 'pg';
import { ConfigError, type FlywheelConfig } from '../config/index';
import { MlflowClient } from '../clients/mlflow';
import { Catalog, type ServedVersion } from './catalog';
import { installAuth } from './auth';
import { injectError, injectWrongLabels, sleep } from './faults';
import { registerFeedbackRoutes } from './feedback-routes';
import type { Served } from './feedback-trust';
import { registerOnlineRoutes } from './online-routes';
import { watchChanges, type ChangeFeed } from './listener';
import { createMetrics, type GatewayMetrics } from './metrics';
import { PredictionRecorder } from './recorder';
import { requestIdOf } from './request-id';
import { FeatureLogger } from './feature-logger';
import { ShadowMirror, shadowWriter, type ShadowRun } from './shadow';
import { SegmentGauges } from './segment-gauges';
import { BUCKETS, bucketOf } from './routing';
import { SessionPool } from './session-pool';
import { InlineSessions } from './inline-sessions';
import { AdaptiveSessions } from './adaptive-sessions';
import { DEFAULT_PLACEMENT, PlacementPolicy } from '../lib/serving/placement';
import { parseJsonAsStrictUtf8 } from './strict-json';
import { uuidv7 } from './uuid';
import { envelopeOf, featureMatrix } from './validate';
import { frameworkErrors, installContract, registerContractRoutes, sendError, sendInvalid, type ZodTypeProvider } from './contract';
import { errors, healthResponse, inferenceError, metricsText, modelParams, modelsResponse, predictBody, predictResponse } from './schemas';
import { WriterMonitor, writerProblems, type MonitoredWriter } from './writer-health';
import { FeedbackGuard } from './feedback-guard';
import { BoundedMap } from '../lib/feedback/bounded-map';
import type { FeedbackCommitter } from './feedback-committer';
import type { OnlinePredictionWriter } from './online-writer';

export interface Gateway {
  app: FastifyInstance;
  catalog: Catalog;
  recorder: PredictionRecorder;
  /** Every batched writer, watched by /healthz and /metrics (tests write to them directly). */
  writers: { predictions: PredictionRecorder; feedback: FeedbackCommitter; online: OnlinePredictionWriter };
  /** Shadow runs of live requests (serving/shadow.ts). */
  shadow: ShadowMirror;
  /** The per-segment gauges, recomputed on a timer (tests call refresh()). */
  segments: SegmentGauges;
  metrics: GatewayMetrics;
  /** Resolves with the URL it listens on. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** Overrides config.gateway.port; 0 picks a free port (tests). */
  port?: number;
  host?: string;
  logger?: boolean;
  /**
   * Refuse feedback for predictions never made, impossible labels and second labels
   * (serving/feedback-guard.ts). Default true; only tests of the feedback writer's mechanics, which
   * post feedback for synthetic prediction ids, turn it off.
   */
  verifyFeedback?: boolean;
  /**
   * How long the client-contradiction check reuses the other clients' counts of a model
   * (serving/feedback-trust.ts). Default 2 s; tests that need each request to see the labels
   * committed just before it set 0.
   */
  contradictionCacheMs?: number;
}

const fail = sendError;

/** The certificate and key files of FLYWHEEL_GATEWAY_TLS_CERT/KEY, read at start (a restart picks up a renewal). */
function httpsOptions(config: FlywheelConfig): { cert: Buffer; key: Buffer } | undefined {
  const tls = config.gateway.tls;
  if (!tls) return undefined;
  const read = (file: string, variable: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new ConfigError(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  return { cert: read(tls.certPath, 'FLYWHEEL_GATEWAY_TLS_CERT'), key: read(tls.keyPath, 'FLYWHEEL_GATEWAY_TLS_KEY') };
}

function probabilityMap(classes: string[], probabilities: Float32Array, row: number): Record<string, number> {
  const out: Record<string, number> = {};
  const k = classes.length;
  for (let j = 0; j < k; j++) out[classes[j]!] = probabilities[row * k + j]!;
  return out;
}

export async function createGateway(config: FlywheelConfig, opts: GatewayOptions = {}): Promise<Gateway> {
  const https = httpsOptions(config);
  const app = Fastify({
    logger: opts.logger === false ? false : { level: config.logLevel },
    // A line per request at a thousand requests a second would cost more than the request.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    return503OnClosing: true,
    frameworkErrors,
    // Every log line of a request carries its id (requestId), and the answer names it (x-request-id):
    // a caller's own id is kept when it is a plain token, so a line can be found from either side.
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers['x-request-id']),
    // HTTPS only when FLYWHEEL_GATEWAY_TLS_CERT/KEY are set: the same port then refuses plain HTTP.
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  // A span per request when OTEL_EXPORTER_OTLP_ENDPOINT is set (serving/main.ts starts tracing).
  traceHttpRequests(app as unknown as Parameters<typeof traceHttpRequests>[0]);
  const db = new pg.Pool({ connectionString: config.postgres.url, max: 4, application_name: 'flywheel-gateway' });
  db.on('error', () => undefined);
  parseJsonAsStrictUtf8(app);
  const metrics = createMetrics();
  const runsBy = { inline: metrics.inferenceRuns.labels('inline'), thread: metrics.inferenceRuns.labels('thread') };
  const pool =
    config.gateway.threads === 0
      ? new InlineSessions()
      : new AdaptiveSessions(
          new SessionPool(config.gateway.threads, (why) => app.log.error({ why }, 'session thread died; replaced')),
          new InlineSessions(),
          new PlacementPolicy({ ...DEFAULT_PLACEMENT, inlineMaxMs: config.gateway.inlineMaxMs }),
          (place) => runsBy[place].inc(),
        );
  const recorder = new PredictionRecorder(
    db,
    { flushMs: config.gateway.flushMs, flushRows: config.gateway.flushRows, maxRows: config.gateway.maxBufferRows },
    {
      recorded: (n) => {
        metrics.recorded.inc(n);
        metrics.batches.inc();
      },
      dropped: (n) => metrics.dropped.inc(n),
      failed: (err) => {
        metrics.recordFailures.inc();
        app.log.warn({ err: err.message }, 'writing predictions failed; retrying');
      },
    },
    new WriterMonitor('predictions', metrics),
  );
  // One labelled child per (model, decision), looked up once: labels() hashes its object on every call.
  const featureCounters = new Map<string, { inc(): void }>();
  const featureLogger = new FeatureLogger(db, config.gateway.featureLogDailyRows, {
    decided: (model, decision) => {
      const key = `${model}\u0000${decision}`;
      let c = featureCounters.get(key);
      if (!c) featureCounters.set(key, (c = metrics.featureRows.labels({ model, decision })));
      c.inc();
    },
  });
  const catalog = new Catalog(db, pool, new MlflowClient(config.mlflow), metrics, app.log);
  const shadowCounters = new Map<string, { inc(n: number): void }>();
  const shadowCounter = (key: string, make: () => { inc(n: number): void }) => {
    let c = shadowCounters.get(key);
    if (!c) shadowCounters.set(key, (c = make()));
    return c;
  };
  const shadow = new ShadowMirror(
    db,
    shadowWriter(
      db,
      { flushMs: config.gateway.flushMs, flushRows: config.gateway.flushRows, maxRows: config.gateway.maxBufferRows },
      { recorded: () => undefined, dropped: () => undefined, failed: (err) => app.log.warn({ err: err.message }, 'writing shadow predictions failed; retrying') },
      new WriterMonitor('shadow_predictions', metrics),
    ),
    (job) => runShadow(job.model, job.version, job.data, job.rows, job.nFeatures),
    { maxQueued: config.gateway.shadowQueue, concurrency: config.gateway.threads },
    {
      answered: (model, version, outcome, n) => shadowCounter(`a\u0000${model}\u0000${version}\u0000${outcome}`, () => metrics.shadowRows.labels({ model, version, outcome })).inc(n),
      dropped: (model, reason, n) => shadowCounter(`d\u0000${model}\u0000${reason}`, () => metrics.shadowDropped.labels({ model, reason })).inc(n),
    },
  );
  // Predictions answered by this process → the version that made them and its answer: feedback is
  // checked against its classes before the prediction's row is written (serving/feedback-guard.ts),
  // and the trust check reads what was predicted from here (serving/feedback-trust.ts).
  const recent = new BoundedMap<string, { classes: readonly string[]; served: Served }>(200_000);
  let feed: ChangeFeed | undefined;

  // Route schemas, validation, the one error body, and the routes' document (serving/contract.ts).
  const BAD_REQUEST_LABEL: Record<string, string> = {
    '/v1/models/:model/predict': 'predict',
    '/v1/online/:name/predict': 'online-predict',
    '/v1/feedback': 'feedback',
    '/v1/feedback/batch': 'feedback-batch',
  };
  const declared = installContract(app, app.log, (url) => metrics.badRequests.inc({ route: BAD_REQUEST_LABEL[url] ?? 'other' }));

  // Before any route: authentication and rate limits apply to every route declared after it.
  await installAuth(app, { config: config.gateway.auth, db, registry: metrics.registry, log: app.log });

  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/v1/models/:model/predict',
    {
      config: { auth: { scope: 'predict', modelParam: 'model' } },
      schema: {
        summary: 'Predict with the model’s routed version (one row or a batch); each prediction is recorded',
        params: modelParams,
        body: predictBody,
        response: { 200: predictResponse, ...errors([400, 404, 500, 503], { body: true }), 500: inferenceError },
      },
    },
    async (req, reply) => {
    const t0 = performance.now();
    const { model } = req.params;
    const route = catalog.route(model);
    if (!route) {
      metrics.badRequests.inc({ route: 'predict' });
      return fail(reply, 404, `model ${model} is not deployed`);
    }
    if (!route.table) return fail(reply, 503, route.unavailable ?? `model ${model} has no traffic to serve`);
    const envelope = envelopeOf(req.body);
    const { unitKey, rows: rawRows, batch } = envelope;
    const bucket = unitKey !== undefined ? bucketOf(unitKey) : Math.floor(Math.random() * BUCKETS);
    const sv = route.versions[route.table[bucket]!]!;
    const matrix = featureMatrix(envelope, sv.nFeatures);
    if (!matrix.ok) {
      metrics.badRequests.inc({ route: 'predict' });
      return sendInvalid(reply, matrix.message);
    }
    const rows = rawRows.length;
    const createdAt = new Date();
    const ids: string[] = [];
    for (let r = 0; r < rows; r++) ids.push(uuidv7(createdAt.getTime()));
    // Before inference: the matrix's buffer is transferred to the session thread (detached here).
    const features = Array.from({ length: rows }, (_, r) => featureLogger.features(model, matrix.value, r, sv.nFeatures, createdAt.getTime()));
    const shadowVersion = shadow.pick(model, sv.version);
    const mirrored = shadowVersion === undefined ? undefined : matrix.value.slice();
    const out = await infer(sv, matrix.value, rows);
    const latencyMs = performance.now() - t0;
    sv.metrics.requests.inc();
    sv.metrics.rows.inc(rows);
    sv.metrics.latency.observe(latencyMs / 1000);
    const base = { model, version: sv.version };
    const segment = envelope.segment ?? null;
    for (let r = 0; r < rows; r++) {
      recent.set(ids[r]!, { classes: sv.classes, served: { model, version: sv.version, predicted: out.ok ? sv.classes[out.labels[r]!]! : null } });
      recorder.record({
        features: features[r],
        segment,
        id: ids[r]!,
        model,
        version: sv.version,
        unitKey: unitKey ?? null,
        latencyMs,
        outcome: out.ok ? 'ok' : 'error',
        predictedLabel: out.ok ? sv.classes[out.labels[r]!]! : null,
        createdAt,
      });
    }
    // Runs after the reply is written; never awaited, never able to change it.
    if (mirrored) shadow.offer({ model, version: shadowVersion!, data: mirrored, rows, nFeatures: sv.nFeatures, ids, createdAt });
    if (!out.ok) {
      sv.metrics.errors.inc();
      req.log.warn({ model, version: sv.version, rows, error: out.error }, 'predict failed');
      return fail(reply, 500, out.error, batch ? { predictionIds: ids, ...base } : { predictionId: ids[0], ...base });
    }
    if (!batch) {
      return { predictionId: ids[0], ...base, label: sv.classes[out.labels[0]!], probabilities: probabilityMap(sv.classes, out.probabilities, 0) };
    }
    return {
      predictionIds: ids,
      ...base,
      labels: Array.from(out.labels, (l) => sv.classes[l]),
      probabilities: ids.map((_, r) => probabilityMap(sv.classes, out.probabilities, r)),
    };
  },
  );

  /** Runs the model, then applies the version's injected faults; never throws. */
  async function infer(sv: ServedVersion, data: Float32Array, rows: number) {
    catalog.begin(sv);
    try {
      let result;
      try {
        result = await pool.run(sv.key, data, rows, sv.nFeatures);
      } catch (err) {
        app.log.error({ model: sv.model, version: sv.version, err: (err as Error).message }, 'inference failed');
        return { ok: false as const, error: `model ${sv.model} version ${sv.version}: inference failed` };
      }
      const fault = sv.fault;
      if (fault && fault.extraLatencyMs > 0) await sleep(fault.extraLatencyMs);
      if (injectError(fault)) return { ok: false as const, error: `model ${sv.model} version ${sv.version}: injected fault` };
      injectWrongLabels(fault, result.probabilities, result.labels, sv.classes.length);
      return { ok: true as const, ...result };
    } finally {
      catalog.end(sv);
    }
  }

  /** A shadow job: the shadow version as loaded now, with its injected faults, like a served request. */
  async function runShadow(model: string, version: string, data: Float32Array, rows: number, nFeatures: number): Promise<ShadowRun> {
    const sv = catalog.route(model)?.versions.find((v) => v.version === version);
    if (!sv) return { ok: false, error: 'not-loaded' };
    if (sv.nFeatures !== nFeatures) return { ok: false, error: 'shape' };
    const out = await infer(sv, data, rows);
    return out.ok ? { ok: true, labels: Array.from(out.labels, (l) => sv.classes[l]!) } : { ok: false, error: 'failed' };
  }

  const online = registerOnlineRoutes(app, { databaseUrl: config.postgres.url, recorder, metrics, log: app.log, pollMs: config.gateway.pollMs });
  const feedback = registerFeedbackRoutes(app, {
    databaseUrl: config.postgres.url,
    metrics,
    log: app.log,
    onCommitted: (items, outcomes) => online.models.learn(items, outcomes),
    classesOf: (id) => online.models.classesOf(id),
    othersCacheMs: opts.contradictionCacheMs,
    servedHere: (id) => recent.get(id)?.served,
    guard:
      opts.verifyFeedback === false
        ? undefined
        : new FeedbackGuard(db, {
            recent: (id) => recent.get(id)?.classes ?? online.models.classesOf(id),
            classesOf: (model, version) =>
              version === 'online' ? online.models.get(model)?.classes : catalog.route(model)?.versions.find((v) => v.version === version)?.classes,
            // A prediction row is written within a flush interval or so of its answer (another replica's buffer).
            graceMs: Math.max(2_000, 5 * config.gateway.flushMs),
          }),
  });

  app.get('/v1/models', { config: { auth: { scope: 'predict' } }, schema: { summary: 'Loaded versions, weights and faults', response: { 200: modelsResponse, ...errors([]) } } }, async () => ({
    models: catalog.models().map((m) => ({
      model: m.model,
      revision: m.revision,
      serving: m.table !== undefined,
      ...(m.unavailable ? { unavailable: m.unavailable } : {}),
      versions: m.versions.map((v) => ({
        version: v.version,
        weight: v.weight,
        nFeatures: v.nFeatures,
        classes: v.classes,
        onnxSha256: v.onnxSha256,
        inFlight: v.inFlight,
        fault: v.fault ?? null,
      })),
    })),
  }));

  const writers = { predictions: recorder, feedback: feedback.committer, online: online.writer };
  const monitored: MonitoredWriter[] = Object.values(writers);

  // Public: load balancers and `flywheel up` probe it without credentials; it reveals no data.
  app.get(
    '/healthz',
    { config: { auth: { scope: 'public' } }, schema: { summary: 'Ready and healthy (200), or starting / a writer failing (503, with the reason)', response: { 200: healthResponse, 503: healthResponse } } },
    async (_req, reply) => {
    // A writer that cannot store what it acknowledged is a gateway to restart or page about, even
    // while predictions are still answered 200.
    const problems = writerProblems(monitored);
    const healthy = catalog.reloadedOnce && problems.length === 0;
    const body = {
      status: !catalog.reloadedOnce ? 'starting' : healthy ? 'ok' : 'unhealthy',
      ...(problems.length > 0 ? { reason: problems.join('; '), problems } : {}),
      models: catalog.models().length,
      threads: pool.size,
      bufferedPredictions: recorder.size,
      ...(catalog.lastReloadError ? { lastReloadError: catalog.lastReloadError } : {}),
    };
    return reply.code(healthy ? 200 : 503).send(body);
  },
  );

  app.get('/metrics', { config: { auth: { scope: 'metrics' } }, schema: { summary: 'Prometheus metrics', response: { 200: metricsText, ...errors([]) } } }, async (_req, reply) => {
    metrics.bufferRows.set(recorder.size);
    metrics.shadowQueue.set(shadow.queued);
    writerProblems(monitored); // refreshes the oldest-pending gauges
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  /** A failed read keeps the last running shadows. */
  async function reloadShadows(): Promise<void> {
    try {
      await shadow.reload();
    } catch (err) {
      app.log.warn({ err: (err as Error).message }, 'reading shadow_deployments failed; keeping the last shadows');
    }
  }

  /** A failed read keeps the last good policies: logging goes on as it was. */
  async function reloadFeatureLogging(): Promise<void> {
    try {
      await featureLogger.reload();
    } catch (err) {
      app.log.warn({ err: (err as Error).message }, 'reading feature_logging failed; keeping the last policies');
    }
  }

  // Its own connection with a statement timeout: a slow window read never takes the writers' connections.
  const segmentDb = new pg.Pool({ connectionString: config.postgres.url, max: 1, statement_timeout: 60_000, application_name: 'flywheel-gateway-segments' });
  segmentDb.on('error', () => undefined);
  const segments = new SegmentGauges(segmentDb, metrics, () => catalog.models().map((m) => m.model), config.gateway.segments, app.log);

  // Last: the document lists every route declared above.
  registerContractRoutes(app, declared, { title: 'Flywheel serving gateway', version: '1' });

  return {
    app,
    catalog,
    recorder,
    writers,
    shadow,
    segments,
    metrics,
    async listen() {
      await catalog.reload();
      await reloadFeatureLogging();
      await reloadShadows();
      await online.start();
      feed = watchChanges(config.postgres.url, config.gateway.pollMs, () => {
        void catalog.reload();
        void reloadFeatureLogging();
        void reloadShadows();
      });
      segments.start();
      return app.listen({ port: opts.port ?? config.gateway.port, host: opts.host ?? config.gateway.host });
    },
    async close() {
      await feed?.close();
      // Stops accepting, then waits for the requests in flight.
      await app.close();
      await feedback.close();
      await online.close();
      await shadow.close();
      await segments.close();
      await segmentDb.end();
      await recorder.close();
      await pool.close();
      await db.end();
    },
  };
}
