/**
 * Request validation at the gateway's edge: each failure is one message naming the field, and a
 * request that fails never reaches a model or the database.
 */
import { check, type Checked } from '../lib/schema/issues';
import { predictBody, type PredictBody } from './schemas';

export { MAX_BATCH_ROWS } from './schemas';

export type { Checked } from '../lib/schema/issues';

export interface PredictEnvelope {
  unitKey?: string;
  segment?: Readonly<Record<string, string>>;
  /** The raw rows, checked against the routed version's feature count by `featureMatrix`. */
  rows: unknown[];
  batch: boolean;
}

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

/**
 * A predict body the schema accepted (serving/schemas.ts predictBody) as rows: one (`features`)
 * or many (`instances`).
 */
export function envelopeOf(body: PredictBody): PredictEnvelope {
  const common = { unitKey: body.unitKey, ...(body.segment ? { segment: body.segment } : {}) };
  return body.instances !== undefined ? { ...common, rows: body.instances, batch: true } : { ...common, rows: [body.features], batch: false };
}

/** The body checked by its schema, then as rows (tests and callers outside a route). */
export function predictEnvelope(body: unknown): Checked<PredictEnvelope> {
  const r = check(predictBody, body);
  return r.ok ? { ok: true, value: envelopeOf(r.value) } : r;
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
