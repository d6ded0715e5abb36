-- Production traffic as data (issue 15): training snapshots and feature drift events.

-- Each `flywheel data snapshot` writes a content-addressed
-- dataset (table datasets, the store under the data folder) and its lineage here, so a model version
-- trained on it can say which traffic it learned from (`flywheel models show`).
-- Keyed by the window, not the digest: two windows (or two models) with the same rows make the same
-- dataset, each with its own lineage.
CREATE TABLE IF NOT EXISTS dataset_snapshots (
  id                  bigserial PRIMARY KEY,
  digest              text NOT NULL REFERENCES datasets (digest),
  model               text NOT NULL,
  -- Predictions served in [from_at, to_at); a label counts when it arrived within attribution_s of its prediction.
  from_at             timestamptz NOT NULL,
  to_at               timestamptz NOT NULL,
  window_text         text NOT NULL,
  attribution_s       double precision NOT NULL CHECK (attribution_s > 0),
  -- Rows in the dataset per version that served them: {"1": 800, "2": 200}.
  versions            jsonb NOT NULL,
  predictions         bigint NOT NULL,
  with_features       bigint NOT NULL,
  labelled            bigint NOT NULL,
  production_rows     bigint NOT NULL,
  label_coverage      double precision NOT NULL,
  -- The reference dataset mixed in, if any: {"source": "builtin:iris", "share": 0.3, "rows": 120}.
  mix                 jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  -- The same window snapshotted again (a retried activity) is the same row.
  UNIQUE (digest, model, from_at, to_at, window_text)
);
CREATE INDEX IF NOT EXISTS dataset_snapshots_model ON dataset_snapshots (model, created_at DESC);
CREATE INDEX IF NOT EXISTS dataset_snapshots_digest ON dataset_snapshots (digest);

-- Feature drift of served traffic against the serving champion's training data (lib/drift/feature-drift.ts):
-- one row per check that flagged at least one feature, before any label has arrived.
CREATE TABLE IF NOT EXISTS feature_drift_events (
  id                bigserial PRIMARY KEY,
  model             text NOT NULL,
  -- The version whose training data was the reference, and that data.
  champion_version  text NOT NULL,
  reference_digest  text NOT NULL,
  -- Served rows judged (the newest with logged features) and the newest one's time.
  window_rows       int NOT NULL,
  window_end        timestamptz NOT NULL,
  -- [{"name": "age", "psi": 0.41, "ks": 0.22, "pvalue": 1e-9}, …], largest PSI first.
  features          jsonb NOT NULL CHECK (jsonb_typeof(features) = 'array'),
  thresholds        jsonb NOT NULL,
  -- Who checked: `cli` or a monitor's workflow id; and the retraining it started, if any.
  source            text NOT NULL,
  retraining_workflow_id text,
  detected_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS feature_drift_events_model ON feature_drift_events (model, detected_at DESC);
