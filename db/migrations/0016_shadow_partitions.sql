-- shadow_predictions partitioned by day like the other traffic tables (0014_traffic_partitions.sql,
-- issue 15): a 100 % shadow writes as many rows as the served traffic, so it needs the same retention
-- by whole days (DROP TABLE, no DELETE) and the same window reads. Upkeep: activities/traffic-partitions.ts
-- (TRAFFIC_TABLES), with its own retention (FLYWHEEL_SHADOW_PREDICTIONS_RETENTION_DAYS, default the
-- traffic tables').
--
-- Upgraded in place as 0014 did: the table becomes shadow_predictions_legacy, attached FROM (MINVALUE)
-- TO the end of the day of its newest row (or of today), its rows never rewritten (one scan proves the
-- bound, one index build makes the new key); a default partition and seven days ahead.
--
-- Key: (prediction_id, version, created_at). A unique key of a partitioned table must hold the
-- partition key; created_at is the served prediction's time, stamped by the gateway before the row is
-- buffered (serving/shadow.ts), so a retried batch carries the same key and ON CONFLICT still makes it
-- harmless. The writer's ON CONFLICT names no target, so it works on either side of this migration.
--
-- Idempotent: a shadow_predictions that is already partitioned is left as it is.
DO $$
DECLARE
  newest timestamptz;
  upper_bound timestamptz;
  day timestamptz;
  r record;
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass('shadow_predictions')) = 'p' THEN
    RETURN;
  END IF;
  SELECT max(created_at) INTO newest FROM shadow_predictions;
  upper_bound := date_trunc('day', greatest(now(), coalesce(newest, now())), 'UTC') + interval '1 day';

  EXECUTE 'ALTER TABLE shadow_predictions RENAME TO shadow_predictions_legacy';
  FOR r IN SELECT conname FROM pg_constraint WHERE conrelid = to_regclass('shadow_predictions_legacy') AND contype IN ('p', 'u') LOOP
    EXECUTE format('ALTER TABLE shadow_predictions_legacy DROP CONSTRAINT %I', r.conname);
  END LOOP;
  -- Adopted by the parent's index of the same definition at ATTACH (no rebuild).
  IF to_regclass('shadow_predictions_model_version_created') IS NOT NULL THEN
    EXECUTE 'ALTER INDEX shadow_predictions_model_version_created RENAME TO shadow_predictions_model_version_created_legacy';
  END IF;

  EXECUTE 'CREATE TABLE shadow_predictions (LIKE shadow_predictions_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE (created_at)';
  EXECUTE 'ALTER TABLE shadow_predictions ADD CONSTRAINT shadow_predictions_pkey PRIMARY KEY (prediction_id, version, created_at)';
  EXECUTE 'CREATE INDEX shadow_predictions_model_version_created ON shadow_predictions (model, version, created_at)';

  -- Proves the bound with one scan, so ATTACH skips its own.
  EXECUTE format('ALTER TABLE shadow_predictions_legacy ADD CONSTRAINT shadow_predictions_legacy_bound CHECK (created_at < %L)', upper_bound);
  EXECUTE format('ALTER TABLE shadow_predictions ATTACH PARTITION shadow_predictions_legacy FOR VALUES FROM (MINVALUE) TO (%L)', upper_bound);
  EXECUTE 'ALTER TABLE shadow_predictions_legacy DROP CONSTRAINT shadow_predictions_legacy_bound';

  EXECUTE 'CREATE TABLE shadow_predictions_default PARTITION OF shadow_predictions DEFAULT';
  FOR day IN SELECT generate_series(upper_bound, upper_bound + interval '6 days', interval '1 day') LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF shadow_predictions FOR VALUES FROM (%L) TO (%L)',
      'shadow_predictions_p' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD'), day, day + interval '1 day');
  END LOOP;
END;
$$;

CREATE INDEX IF NOT EXISTS shadow_predictions_model_version_created ON shadow_predictions (model, version, created_at);
