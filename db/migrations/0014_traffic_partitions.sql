-- Traffic tables partitioned by time (issues 15 and 18): predictions, feedback and
-- online_predictions become RANGE-partitioned on created_at, one partition per UTC day, so a
-- window query reads only the days it asks for and retention drops whole days (DROP TABLE: no
-- DELETE, no bloat, no vacuum debt). Daily partitions are created ahead and dropped past the
-- retention by activities/traffic-partitions.ts (run by the Reconciler and by `flywheel up`).
--
-- Upgrade in place, not a copy: each existing table is renamed to <table>_legacy and attached as
-- the partition FROM (MINVALUE) TO (the end of the day of its newest row, or of today). Its rows
-- are never rewritten; the cost is two reads of the table (its newest time, and the CHECK
-- constraint that proves the bound, so ATTACH itself does not scan again) and one index build (the
-- new primary key, which must include created_at; for feedback a second, feedback_prediction). A copy would write every row again plus every index, and WAL for all of it.
-- The whole file runs in one transaction (db/migrate.ts): writers wait, then resume; the gateway
-- buffers and retries its batches meanwhile, so nothing acknowledged is lost.
--
-- <table>_default catches any row no partition covers (a gateway clock far off, maintenance not
-- run for days): a row is never refused for its timestamp.
--
-- Keys. A unique constraint on a partitioned table must include the partition key, so:
--  - predictions and online_predictions: PRIMARY KEY (id, created_at). The gateway stamps
--    created_at before the row is buffered, so a retried batch carries the same (id, created_at)
--    and ON CONFLICT still makes the retry harmless.
--  - feedback: created_at is the database's now() at insert, so a client's retry carries a new
--    time and (idempotency_key, created_at) would not catch it. The key moves to feedback_keys,
--    a plain table with a real UNIQUE key: serving/feedback.ts claims the key and inserts the row
--    in one statement, so a retry is stored exactly once, as before. Its rows (key, id, time) are
--    pruned with the feedback's retention (the one batched DELETE of the scheme: narrow rows,
--    only keyed feedback).
--
-- Idempotent: a table that is already partitioned is left as it is.

CREATE OR REPLACE FUNCTION pg_temp.flywheel_partition_traffic(tbl text, idx text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  legacy text := tbl || '_legacy';
  newest timestamptz;
  upper_bound timestamptz;
  day timestamptz;
  r record;
  i text;
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(tbl)) = 'p' THEN
    RETURN;
  END IF;
  EXECUTE format('SELECT max(created_at) FROM %I', tbl) INTO newest;
  -- The legacy partition ends at a UTC day boundary after its newest row and after now: writes
  -- of the rest of today still land in it, daily partitions begin the next day.
  upper_bound := date_trunc('day', greatest(now(), coalesce(newest, now())), 'UTC') + interval '1 day';

  EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, legacy);
  -- The old keys (id alone, idempotency_key alone) cannot exist on the partitioned table.
  FOR r IN SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(legacy) AND contype IN ('p', 'u') LOOP
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', legacy, r.conname);
  END LOOP;
  -- Free the index names for the parent; ATTACH matches indexes by definition, not by name, so
  -- these are adopted as the legacy partition's part of the parent's indexes (no rebuild).
  FOREACH i IN ARRAY idx LOOP
    IF to_regclass(i) IS NOT NULL THEN
      EXECUTE format('ALTER INDEX %I RENAME TO %I', i, i || '_legacy');
    END IF;
  END LOOP;

  -- Same columns, defaults (feedback's id sequence) and CHECK constraints (same names: ATTACH
  -- requires the partition to have them).
  EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE (created_at)', tbl, legacy);
  IF tbl = 'feedback' THEN
    -- Owned by the new parent's column: dropping the legacy partition must not drop the sequence.
    ALTER SEQUENCE feedback_id_seq OWNED BY feedback.id;
  END IF;
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (id, created_at)', tbl, tbl || '_pkey');

  -- Proves the bound with one scan, so ATTACH skips its own.
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (created_at < %L)', legacy, legacy || '_bound', upper_bound);
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', tbl, legacy, upper_bound);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', legacy, legacy || '_bound');

  EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
  -- A week ahead, so a stack that never runs the maintenance still has real partitions for a while
  -- (the default partition would catch the rest).
  FOR day IN SELECT generate_series(upper_bound, upper_bound + interval '6 days', interval '1 day') LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
      tbl || '_p' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD'), tbl, day, day + interval '1 day');
  END LOOP;
END;
$$;

-- feedback_keys first: filled from the feedback table while it still has its unique key.
CREATE TABLE IF NOT EXISTS feedback_keys (
  idempotency_key text PRIMARY KEY,
  -- The feedback row holding it: (feedback_id, created_at) is feedback's primary key.
  feedback_id     bigint NOT NULL,
  created_at      timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_keys_created ON feedback_keys (created_at);
DO $$
BEGIN
  -- Once only: after the conversion the keys are claimed by the writer (serving/feedback.ts).
  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('feedback')) = 'r' THEN
    INSERT INTO feedback_keys (idempotency_key, feedback_id, created_at)
    SELECT idempotency_key, id, created_at FROM feedback WHERE idempotency_key IS NOT NULL
    ON CONFLICT (idempotency_key) DO NOTHING;
  END IF;
END;
$$;

SELECT pg_temp.flywheel_partition_traffic('predictions', ARRAY['predictions_model_version_created']);
SELECT pg_temp.flywheel_partition_traffic('feedback', ARRAY['feedback_prediction', 'feedback_label_created', 'feedback_label_client_created']);
SELECT pg_temp.flywheel_partition_traffic('online_predictions', ARRAY['online_predictions_model']);

-- The parents' indexes (partitioned: each partition gets its own, the legacy one adopts its old one).
CREATE INDEX IF NOT EXISTS predictions_model_version_created ON predictions (model, version, created_at);
-- (prediction_id, created_at), not (prediction_id) as before: the snapshot's first-label lookup
-- (datasets/production.ts) bounds the label's time, and with the time in this index each partition
-- answers it with one probe. With (prediction_id) alone the planner scanned a day of labels per
-- prediction through feedback_label_created (bench/data/partitions.ts: 60× slower). The legacy
-- partition cannot adopt its old index for it, so this builds one there; the old one goes.
CREATE INDEX IF NOT EXISTS feedback_prediction ON feedback (prediction_id, created_at);
DROP INDEX IF EXISTS feedback_prediction_legacy;
CREATE INDEX IF NOT EXISTS feedback_label_created ON feedback (created_at) WHERE kind = 'label';
CREATE INDEX IF NOT EXISTS feedback_label_client_created ON feedback (client_id, created_at) WHERE kind = 'label';
CREATE INDEX IF NOT EXISTS online_predictions_model ON online_predictions (model, created_at);

-- No JIT for this database's sessions. PostgreSQL compiles a plan's expressions once per partition
-- it may touch, and Flywheel's traffic queries are index lookups whose cost estimates cross
-- jit_above_cost on a big table without gaining anything from compiled code: an A/B read over 73
-- daily partitions compiled 552 functions in 1.2 s to run in 28 ms (28 ms with JIT off;
-- bench/data/partitions.ts). The database's owner sets it; a role that does not own the database
-- sets it for itself in this database; without either right it is left as it is (with a notice).
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  BEGIN
    EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET jit = off', current_database());
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'jit left on: set jit = off for Flywheel''s database or role (see 0014_traffic_partitions.sql)';
  END;
END;
$$;
