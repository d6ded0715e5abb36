/**
 * The per-model feature-logging policy (table feature_logging, read by every gateway on NOTIFY):
 * sampling rate, daily row budget, columns dropped or hashed. Checked here, at the edge, so a bad
 * policy never reaches a gateway.
 */
import type pg from 'pg';
import { z } from 'zod';
import { check, type Checked } from '../lib/schema/issues';

const columns = z.array(z.number().int().min(0).max(100_000), { error: 'expected 0-based column numbers' }).max(1000);

export const featureLoggingInput = z
  .strictObject({
    model: z.string().min(1),
    sampleRate: z.number().min(0, { error: 'must be between 0 and 1' }).max(1, { error: 'must be between 0 and 1' }),
    /** null: the gateway's default (FLYWHEEL_FEATURE_LOG_DAILY_ROWS). */
    dailyRowBudget: z.number().int().min(0, { error: 'must be a whole number ≥ 0' }).nullable(),
    drop: columns,
    hash: columns,
  })
  .superRefine((p, ctx) => {
    const both = p.drop.filter((c) => p.hash.includes(c));
    if (both.length > 0) ctx.addIssue({ code: 'custom', path: ['hash'], message: `column ${both[0]} is both dropped and hashed`, input: p });
  });
export type FeatureLoggingInput = z.output<typeof featureLoggingInput>;

export function checkFeatureLogging(input: unknown): Checked<FeatureLoggingInput> {
  return check(featureLoggingInput, input);
}

export async function setFeatureLogging(db: pg.Pool, p: FeatureLoggingInput): Promise<void> {
  await db.query(
    `INSERT INTO feature_logging (model, sample_rate, daily_row_budget, drop_columns, hash_columns, updated_at)
     VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (model) DO UPDATE SET sample_rate = EXCLUDED.sample_rate, daily_row_budget = EXCLUDED.daily_row_budget,
       drop_columns = EXCLUDED.drop_columns, hash_columns = EXCLUDED.hash_columns, updated_at = now()`,
    [p.model, p.sampleRate, p.dailyRowBudget, p.drop, p.hash],
  );
}

export async function getFeatureLogging(db: pg.Pool, model: string): Promise<FeatureLoggingInput | undefined> {
  const { rows } = await db.query<{ sample_rate: number; daily_row_budget: string | null; drop_columns: number[]; hash_columns: number[] }>(
    'SELECT sample_rate, daily_row_budget, drop_columns, hash_columns FROM feature_logging WHERE model = $1',
    [model],
  );
  const r = rows[0];
  if (!r) return undefined;
  return { model, sampleRate: r.sample_rate, dailyRowBudget: r.daily_row_budget === null ? null : Number(r.daily_row_budget), drop: r.drop_columns, hash: r.hash_columns };
}
