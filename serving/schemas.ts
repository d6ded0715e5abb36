/**
 * The gateway's HTTP contract: every route's params, body and responses, declared once in zod.
 * fastify validates requests with these schemas (serving/contract.ts) and /openapi.json is
 * generated from them, so the document and the checks cannot disagree. Messages name the field.
 */
import { z } from 'zod';
import { feedbackBatchSchema, feedbackItemSchema, FEEDBACK_KINDS } from '../lib/feedback/channels';
import { finiteNumber, storableString } from '../lib/schema/issues';

export const MAX_BATCH_ROWS = 1000;
const MAX_KEY_LENGTH = 256;

/** One error body everywhere: what went wrong, and the field when one is to blame. */
export const errorBody = z
  .object({
    error: z.string().meta({ description: 'One line; a validation error starts with the field (`items[3].label: contains a NUL byte`).' }),
    field: z.string().optional().meta({ description: 'The field to blame (`body` for the body as a whole), on 400s about the request.' }),
  })
  .meta({ title: 'Error' });

const row = z.array(finiteNumber(), { error: 'expected an array of numbers' });

export const MAX_SEGMENT_KEYS = 16;
/**
 * `{ country: 'FR', plan: 'pro' }`: who the request is for, stored with each prediction so accuracy
 * and label coverage can be read per segment value (issue 15). Small on purpose: a segment is a
 * grouping key, not a payload.
 */
const segment = z
  .record(storableString(64, 'segment keys must be non-empty strings of at most 64 characters'), storableString(256), { error: 'expected an object of string values' })
  .refine((s) => Object.keys(s).length <= MAX_SEGMENT_KEYS, { error: `at most ${MAX_SEGMENT_KEYS} attributes` })
  .meta({ description: `Optional attributes of the caller (at most ${MAX_SEGMENT_KEYS}, e.g. {"country": "FR", "plan": "pro"}), stored with each prediction for per-segment metrics.` });

/**
 * `{ unitKey?, features }` (one row) or `{ unitKey?, instances }` (a batch). The row length is the
 * routed version's feature count, checked by the route (serving/validate.ts featureMatrix).
 */
export const predictBody = z
  .strictObject(
    {
      unitKey: storableString(MAX_KEY_LENGTH)
        .optional()
        .meta({ description: 'Sticky routing: the same key always reaches the same version (and arm of an experiment).' }),
      features: row.optional().meta({ description: 'One row of the model’s nFeatures numbers.' }),
      instances: z
        .array(row, { error: 'expected a non-empty array of rows' })
        .min(1, { error: 'expected a non-empty array of rows' })
        .max(MAX_BATCH_ROWS, { error: (iss) => `at most ${MAX_BATCH_ROWS} rows per request, got ${(iss.input as unknown[]).length}` })
        .optional()
        .meta({ description: `A batch of 1 to ${MAX_BATCH_ROWS} rows.` }),
      segment: segment.optional(),
    },
    { error: (iss) => (iss.code === 'unrecognized_keys' ? 'unknown field (expected unitKey, features, instances or segment)' : 'expected a JSON object with features or instances') },
  )
  .superRefine((b, ctx) => {
    if (b.features !== undefined && b.instances !== undefined) ctx.addIssue({ code: 'custom', path: [], message: 'give features (one row) or instances (a batch), not both', input: b });
    else if (b.features === undefined && b.instances === undefined) ctx.addIssue({ code: 'custom', path: ['features'], message: 'required (or instances for a batch)', input: b });
  })
  .meta({ title: 'PredictRequest' });
export type PredictBody = z.output<typeof predictBody>;

const uuid = z.string().meta({ format: 'uuid' });
const probabilities = z.record(z.string(), z.number()).meta({ description: 'Class → probability.' });

const onePrediction = z.object({ predictionId: uuid, model: z.string(), version: z.string(), label: z.string(), probabilities });
const batchPrediction = z.object({ predictionIds: z.array(uuid), model: z.string(), version: z.string(), labels: z.array(z.string()), probabilities: z.array(probabilities) });
export const predictResponse = z.union([onePrediction, batchPrediction]).meta({ title: 'PredictResponse' });

const online = { generation: z.number(), learned: z.number() };
export const onlinePredictResponse = z.union([onePrediction.extend(online), batchPrediction.extend(online)]).meta({ title: 'OnlinePredictResponse' });

/** A failed inference: the ids were recorded (as errors) and are returned with the error (any other 500: the error alone). */
export const inferenceError = errorBody
  .extend({ predictionId: uuid.optional(), predictionIds: z.array(uuid).optional(), model: z.string().optional(), version: z.string().optional() })
  .meta({ title: 'InferenceError' });

export const modelParams = z.strictObject({ model: z.string() });
export const onlineParams = z.strictObject({ name: z.string() });

export const modelsResponse = z.object({
  models: z.array(
    z.object({
      model: z.string(),
      revision: z.number(),
      serving: z.boolean(),
      unavailable: z.string().optional(),
      versions: z.array(
        z.object({
          version: z.string(),
          weight: z.number(),
          nFeatures: z.number(),
          classes: z.array(z.string()),
          onnxSha256: z.string(),
          inFlight: z.number(),
          fault: z.object({ errorRate: z.number(), extraLatencyMs: z.number(), wrongLabelRate: z.number() }).nullable(),
        }),
      ),
    }),
  ),
});

export const onlineModelsResponse = z.object({
  models: z.array(
    z.object({
      name: z.string(),
      baseModel: z.string(),
      baseVersion: z.string(),
      generation: z.number(),
      classes: z.array(z.string()),
      nFeatures: z.number(),
      learned: z.number(),
      learnedFrom: z.number().nullable(),
      learnedThrough: z.number(),
      skippedLowQuality: z.number(),
    }),
  ),
});

export { feedbackBatchSchema, feedbackItemSchema };

/** A stored feedback item as POST /v1/feedback answers it (201 stored, 200 a repeat). */
export const storedFeedback = z
  .object({
    id: z.string(),
    predictionId: uuid,
    kind: z.string().meta({ description: FEEDBACK_KINDS.join(' | ') }),
    value: z.number().nullable(),
    label: z.string().nullable(),
    event: z.string().nullable(),
    comment: z.string().nullable(),
    source: z.string().nullable(),
    unitKey: z.string().nullable(),
    idempotencyKey: z.string().nullable(),
    quality: z.number(),
    qualityFlags: z.array(z.string()),
    sentiment: z.number().nullable(),
    sentimentLabel: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ title: 'StoredFeedback' });

export const feedbackBatchResponse = z
  .object({
    stored: z.number(),
    repeated: z.number(),
    conflicts: z.number(),
    rejected: z.number().optional(),
    unknown: z.number().optional(),
    notStored: z.number().optional(),
    items: z.array(
      z.object({
        status: z.number().meta({ description: '201 stored, 200 repeat, 404 unknown prediction, 409 conflict, 422 refused, 503 retry' }),
        id: z.string().optional(),
        quality: z.number().optional(),
        qualityFlags: z.array(z.string()).optional(),
        sentiment: z.number().nullable().optional(),
        sentimentLabel: z.string().optional(),
        error: z.string().optional(),
      }),
    ),
  })
  .meta({ title: 'FeedbackBatchResponse' });

export const healthResponse = z.object({
  status: z.enum(['starting', 'ok', 'unhealthy']),
  reason: z.string().optional(),
  problems: z.array(z.string()).optional(),
  models: z.number(),
  threads: z.number(),
  bufferedPredictions: z.number(),
  lastReloadError: z.string().optional(),
});

/** Prometheus text (declared as text/plain in the document). */
export const metricsText = z.string().meta({ contentType: 'text/plain' });
/** The docs page (text/html). */
export const htmlPage = z.string().meta({ contentType: 'text/html' });
/** The OpenAPI document itself. */
export const openApiDocument = z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) });

/**
 * The error statuses a route can answer besides its own: authentication (401/403/503 key store),
 * rate limits (429), and fastify's own refusals of the body (400 syntax/encoding, 413, 415).
 */
export function errors(codes: number[], opts: { authenticated?: boolean; body?: boolean } = {}): Record<number, typeof errorBody> {
  const all = new Set(codes);
  if (opts.authenticated !== false) for (const c of [401, 403, 429, 503]) all.add(c);
  if (opts.body) for (const c of [400, 413, 415]) all.add(c);
  return Object.fromEntries([...all].sort().map((c) => [c, errorBody]));
}
