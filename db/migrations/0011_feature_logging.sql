-- Feature logging (issue 15): what each served prediction was asked, so production traffic can
-- become training data and its feature distributions can be compared with the training data's.

-- Nullable columns without a default: adding them rewrites nothing, old rows read as NULL.
-- features: the row as the model saw it (float32), after the model's drop/hash policy; NULL when
-- the row was sampled out, over the day's budget, or served before this migration.
-- segment: the caller's optional attributes (`{"country": "FR", "plan": "pro"}`), for per-segment metrics.
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS features real[];
ALTER TABLE predictions ADD COLUMN IF NOT EXISTS segment jsonb CHECK (segment IS NULL OR jsonb_typeof(segment) = 'object');

-- Per model; no row: every row logged up to the gateway's default budget
-- (FLYWHEEL_FEATURE_LOG_DAILY_ROWS). Set with `flywheel data logging <model> …`.
CREATE TABLE IF NOT EXISTS feature_logging (
  model            text PRIMARY KEY,
  sample_rate      double precision NOT NULL DEFAULT 1 CHECK (sample_rate BETWEEN 0 AND 1),
  -- Rows with features per UTC day per gateway; NULL: the gateway's default.
  daily_row_budget bigint CHECK (daily_row_budget IS NULL OR daily_row_budget >= 0),
  -- 0-based feature columns stored as NULL / as a pseudonym (lib/features/log-policy.ts).
  drop_columns     int[] NOT NULL DEFAULT '{}' CHECK (0 <= ALL (drop_columns)),
  hash_columns     int[] NOT NULL DEFAULT '{}' CHECK (0 <= ALL (hash_columns)),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- A policy change reaches the gateways at once, through the channel and function of 0002_serving.sql.
DROP TRIGGER IF EXISTS feature_logging_notify ON feature_logging;
CREATE TRIGGER feature_logging_notify AFTER INSERT OR UPDATE OR DELETE ON feature_logging
  FOR EACH ROW EXECUTE FUNCTION flywheel_notify_traffic();
