-- first_labels: which feedback row is each prediction's first label, one row per prediction, held by
-- a real unique key (issue 18, several gateways).
--
-- "The first label stands" was kept by each gateway's guard (serving/feedback-guard.ts): it reads the
-- stored labels and reserves a prediction in its own memory. Two gateways that get different labels
-- for one prediction at the same moment both read "no label yet" and both stored theirs, and the
-- decisions, which count the first label, then depended on which commit got the lower id. feedback
-- cannot hold a unique key on prediction_id (its partition key, created_at, would have to be part of
-- it, and a retry carries a new created_at), so the writer (serving/feedback.ts) claims the label
-- here in the same statement that inserts it: the second gateway's claim waits for the first one's
-- commit, finds the key taken and stores nothing (409).
--
-- Partitioned by the prediction's time, read from its UUIDv7 id (lib/data/id-time.ts), not by the
-- label's: the key (prediction_id, created_at) is then unique per prediction whatever the label's
-- time, and the table is kept and dropped by whole days with the predictions
-- (activities/traffic-partitions.ts, TRAFFIC_TABLES; the predictions' retention). An id that is not
-- a UUIDv7 (made before time-ordered ids) is claimed at the epoch (the legacy partition, or the
-- default one once that is dropped, whose rows past the retention the upkeep deletes).
--
-- Labels stored before this migration have no row here and need none: the guard still reads the
-- feedback table for them, and a claim only has to settle labels that race each other from now on.
CREATE TABLE IF NOT EXISTS first_labels (
  prediction_id uuid NOT NULL,
  -- The prediction's time (its UUIDv7), the partition key.
  created_at    timestamptz NOT NULL,
  -- The feedback row holding the label: (feedback_id, feedback_at) is feedback's primary key.
  feedback_id   bigint NOT NULL,
  feedback_at   timestamptz NOT NULL,
  PRIMARY KEY (prediction_id, created_at)
) PARTITION BY RANGE (created_at);

DO $$
DECLARE
  tomorrow timestamptz := date_trunc('day', now(), 'UTC') + interval '1 day';
  day timestamptz;
BEGIN
  IF to_regclass('first_labels_default') IS NOT NULL THEN
    RETURN;
  END IF;
  -- The layout 0014 gave the other traffic tables: everything up to the end of today in one
  -- partition (dropped whole once today is past the retention), a default, and a week ahead.
  EXECUTE format('CREATE TABLE first_labels_legacy PARTITION OF first_labels FOR VALUES FROM (MINVALUE) TO (%L)', tomorrow);
  EXECUTE 'CREATE TABLE first_labels_default PARTITION OF first_labels DEFAULT';
  FOR day IN SELECT generate_series(tomorrow, tomorrow + interval '6 days', interval '1 day') LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF first_labels FOR VALUES FROM (%L) TO (%L)',
      'first_labels_p' || to_char(day AT TIME ZONE 'UTC', 'YYYYMMDD'), day, day + interval '1 day');
  END LOOP;
END;
$$;
