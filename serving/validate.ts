/**
 * Request validation at the gateway's edge: each failure is one message naming the field, and a
 * request that fails never reaches a model or the database.
 */
import { checkText } from '../lib/text/storable';

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

export const MAX_BATCH_ROWS = 1000;
const MAX_KEY_LENGTH = 256;
const MAX_LABEL_LENGTH = 200;

export const FEEDBACK_KINDS = ['rating', 'click', 'dismiss', 'dwell', 'label'] as const;
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];

export interface PredictEnvelope {
  unitKey?: string;
  /** The raw rows, checked against the routed version's feature count by `featureMatrix`. */
  rows: unknown[];
  batch: boolean;
}

export interface FeedbackInput {
  predictionId: string;
  kind: FeedbackKind;
  value: number | null;
  label: string | null;
  idempotencyKey: string | null;
}

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownField(body: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) return key;
  return undefined;
}

function checkKey(name: string, v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_KEY_LENGTH) return `${name}: must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`;
  return checkText(name, v);
}

/** The shape of a predict body: a unit key and either one row (`features`) or many (`instances`). */
export function predictEnvelope(body: unknown): Checked<PredictEnvelope> {
  if (!isObject(body)) return fail('body: expected a JSON object with features or instances');
  const extra = unknownField(body, ['unitKey', 'features', 'instances']);
  if (extra !== undefined) return fail(`${extra}: unknown field (expected unitKey, features or instances)`);
  let unitKey: string | undefined;
  if (body.unitKey !== undefined) {
    const bad = checkKey('unitKey', body.unitKey);
    if (bad) return fail(bad);
    unitKey = body.unitKey as string;
  }
  const hasFeatures = body.features !== undefined;
  const hasInstances = body.instances !== undefined;
  if (hasFeatures && hasInstances) return fail('body: give features (one row) or instances (a batch), not both');
  if (hasFeatures) return { ok: true, value: { unitKey, rows: [body.features], batch: false } };
  if (!hasInstances) return fail('features: required (or instances for a batch)');
  if (!Array.isArray(body.instances) || body.instances.length === 0) return fail('instances: expected a non-empty array of rows');
  if (body.instances.length > MAX_BATCH_ROWS) return fail(`instances: at most ${MAX_BATCH_ROWS} rows per request, got ${body.instances.length}`);
  return { ok: true, value: { unitKey, rows: body.instances, batch: true } };
}

/**
 * Rows as one row-major float32 matrix. Values must survive the conversion to float32: 1e39 is
 * finite in JSON's doubles but infinite in the model.
 */
export function featureMatrix(envelope: PredictEnvelope, nFeatures: number): Checked<Float32Array> {
  const out = new Float32Array(envelope.rows.length * nFeatures);
  for (let r = 0; r < envelope.rows.length; r++) {
    const row = envelope.rows[r];
    const name = envelope.batch ? `instances[${r}]` : 'features';
    if (!Array.isArray(row)) return fail(`${name}: expected an array of ${nFeatures} numbers`);
    if (row.length !== nFeatures) return fail(`${name}: expected ${nFeatures} numbers, got ${row.length}`);
    for (let i = 0; i < nFeatures; i++) {
      const v: unknown = row[i];
      const f = typeof v === 'number' ? Math.fround(v) : NaN;
      if (!Number.isFinite(f)) return fail(`${name}[${i}]: must be a finite number`);
      out[r * nFeatures + i] = f;
    }
  }
  return { ok: true, value: out };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && UUID.test(v);
}

function optionalNumber(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function feedbackInput(body: unknown): Checked<FeedbackInput> {
  if (!isObject(body)) return fail('body: expected a JSON object with predictionId and kind');
  const extra = unknownField(body, ['predictionId', 'kind', 'value', 'label', 'idempotencyKey']);
  if (extra !== undefined) return fail(`${extra}: unknown field (expected predictionId, kind, value, label, idempotencyKey)`);
  if (!isUuid(body.predictionId)) return fail('predictionId: must be the UUID a predict response returned');
  const kind = body.kind as FeedbackKind;
  if (!FEEDBACK_KINDS.includes(kind)) return fail(`kind: must be one of ${FEEDBACK_KINDS.join(', ')}`);
  const value = optionalNumber(body.value);
  if (value === undefined) return fail('value: must be a finite number');
  if (kind === 'rating' && (value === null || value < 1 || value > 5)) return fail('value: a rating must be a number from 1 to 5');
  if (kind === 'dwell' && (value === null || value < 0)) return fail('value: dwell must be a number of seconds ≥ 0');
  let label: string | null = null;
  if (body.label !== undefined && body.label !== null) {
    if (kind !== 'label') return fail('label: only allowed with kind label');
    if (typeof body.label !== 'string' || body.label.length === 0 || body.label.length > MAX_LABEL_LENGTH) {
      return fail(`label: must be a non-empty string of at most ${MAX_LABEL_LENGTH} characters`);
    }
    const bad = checkText('label', body.label);
    if (bad) return fail(bad);
    label = body.label;
  } else if (kind === 'label') return fail('label: required with kind label (the true class)');
  let idempotencyKey: string | null = null;
  if (body.idempotencyKey !== undefined && body.idempotencyKey !== null) {
    const bad = checkKey('idempotencyKey', body.idempotencyKey);
    if (bad) return fail(bad);
    idempotencyKey = body.idempotencyKey as string;
  }
  return { ok: true, value: { predictionId: (body.predictionId as string).toLowerCase(), kind, value, label, idempotencyKey } };
}
