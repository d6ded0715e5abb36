/**
 * Routes of the online models (serving/online-models.ts):
 *
 *   POST /v1/online/:name/predict   { unitKey?, features } | { unitKey?, instances }   as /v1/models/:model/predict
 *   GET  /v1/online                 each online model: base version, generation, labels learnt
 *
 * Inference is a few hundred multiply-adds, so it runs on the event loop, not in session threads.
 * Predictions are recorded like any other (model = the online name, version "online"), and their
 * features kept in online_predictions for a label that comes after a restart.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { FastifyInstance, FastifyReply } from 'fastify';
import pg from 'pg';
import type { GatewayMetrics } from './metrics';
import { OnlineModels } from './online-models';
import { OnlinePredictionWriter } from './online-writer';
import { WriterMonitor } from './writer-health';
import type { PredictionRecorder } from './recorder';
import { uuidv7 } from './uuid';
import { envelopeOf, featureMatrix } from './validate';
import { sendInvalid, type ZodTypeProvider } from './contract';
import { errors, onlineModelsResponse, onlineParams, onlinePredictResponse, predictBody } from './schemas';

export const ONLINE_VERSION = 'online';

export interface OnlineRoutesOptions {
  databaseUrl: string;
  recorder: PredictionRecorder;
  metrics: GatewayMetrics;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  pollMs: number;
  checkpointMs?: number;
  /** How long an online model's lease lasts unrenewed (OnlineModels): the takeover time after a gateway dies. */
  leaseMs?: number;
  minQuality?: number;
}

export interface OnlineService {
  models: OnlineModels;
  writer: OnlinePredictionWriter;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function registerOnlineRoutes(app: FastifyInstance, opts: OnlineRoutesOptions): OnlineService {
  const db = new pg.Pool({ connectionString: opts.databaseUrl, max: 2, application_name: 'flywheel-online' });
  db.on('error', () => undefined);
  const syncMs = Math.min(opts.pollMs, 1_000);
  // Unique per process: a restarted gateway is a new holder, and waits out (or is handed) the old lease.
  const holder = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const models = new OnlineModels(db, { minQuality: opts.minQuality ?? 0.5, rememberRows: 200_000, holder, leaseMs: Math.max(opts.leaseMs ?? 5_000, 3 * syncMs) }, opts.log);
  const writer = new OnlinePredictionWriter(
    db,
    { flushMs: 100, maxRows: 100_000 },
    (err) => opts.log.warn({ err: err.message }, 'writing online predictions failed; retrying'),
    new WriterMonitor('online_predictions', opts.metrics),
  );
  const timers: NodeJS.Timeout[] = [];

  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/v1/online/:name/predict',
    {
      config: { auth: { scope: 'predict', modelParam: 'name' } },
      schema: {
        summary: 'Predict with an online model (learning from label feedback); recorded like any prediction',
        params: onlineParams,
        body: predictBody,
        response: { 200: onlinePredictResponse, ...errors([400, 404], { body: true }) },
      },
    },
    async (req, reply) => {
    const t0 = performance.now();
    const e = models.get(req.params.name);
    if (!e) {
      opts.metrics.badRequests.inc({ route: 'online-predict' });
      return (reply as FastifyReply).code(404).send({ error: `online model ${req.params.name} is not running (flywheel online start)` });
    }
    const envelope = envelopeOf(req.body);
    const matrix = featureMatrix(envelope, e.learner.nFeatures);
    if (!matrix.ok) return sendInvalid(reply, matrix.message);
    const d = e.learner.nFeatures;
    const createdAt = new Date();
    const out = envelope.rows.map((_, r) => {
      const x = Float64Array.from(matrix.value.subarray(r * d, (r + 1) * d));
      const p = e.learner.predictProbaOne(x);
      let best = 0;
      for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
      const id = uuidv7(createdAt.getTime());
      models.remember(id, { name: e.name, generation: e.generation, x });
      writer.write({ id, model: e.name, generation: e.generation, features: x, label: e.classes[best]!, createdAt });
      const probabilities: Record<string, number> = {};
      for (let c = 0; c < p.length; c++) probabilities[e.classes[c]!] = p[c]!;
      return { id, label: e.classes[best]!, probabilities };
    });
    const latencyMs = performance.now() - t0;
    for (const o of out) {
      opts.recorder.record({ id: o.id, model: e.name, version: ONLINE_VERSION, unitKey: envelope.unitKey ?? null, latencyMs, outcome: 'ok', predictedLabel: o.label, createdAt, segment: envelope.segment ?? null });
    }
    const base = { model: e.name, version: ONLINE_VERSION, generation: e.generation, learned: e.learned };
    if (!envelope.batch) return { predictionId: out[0]!.id, ...base, label: out[0]!.label, probabilities: out[0]!.probabilities };
    return { predictionIds: out.map((o) => o.id), ...base, labels: out.map((o) => o.label), probabilities: out.map((o) => o.probabilities) };
  },
  );

  app.get('/v1/online', { config: { auth: { scope: 'predict' } }, schema: { summary: 'Each online model: base version, generation, labels learnt', response: { 200: onlineModelsResponse, ...errors([]) } } }, async () => ({
    models: models.list().map((e) => ({
      name: e.name,
      baseModel: e.baseModel,
      baseVersion: e.baseVersion,
      generation: e.generation,
      classes: e.classes,
      nFeatures: e.learner.nFeatures,
      learned: e.learned,
      learnedFrom: e.learnedFrom,
      learnedThrough: e.learnedThrough,
      skippedLowQuality: e.skipped,
    })),
  }));

  let syncing: Promise<void> | undefined;
  const sync = () =>
    (syncing ??= models
      .sync()
      .catch((err: Error) => opts.log.warn({ err: err.message }, 'reading online models failed; serving the last ones loaded'))
      .finally(() => (syncing = undefined)));

  return {
    models,
    writer,
    async start() {
      await sync();
      // At least every second: the lease is renewed and other gateways' labels are learnt at this pace.
      timers.push(setInterval(() => void sync(), syncMs));
      timers.push(setInterval(() => void models.checkpoint(), opts.checkpointMs ?? 1_000));
      for (const t of timers) t.unref();
    },
    async close() {
      for (const t of timers) clearInterval(t);
      await writer.close();
      await models.checkpoint();
      // Handed over at once rather than left to run out: another gateway learns from its next poll.
      await models.release().catch((err: Error) => opts.log.warn({ err: err.message }, 'releasing online model leases failed; they run out by themselves'));
      await db.end();
    },
  };
}
