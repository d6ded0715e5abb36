-- Training data from production (issue 15): each `flywheel data snapshot` writes a content-addressed
-- dataset (table datasets, the store under the data folder) and its lineage here, so a model version
-- trained on it can say which traffic it learned from (`flywheel models show`).
CREATE TABLE IF NOT EXISTS dataset_snapshots (
  digest              text PRIMARY KEY REFERENCES datasets (digest),
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
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dataset_snapshots_model ON dataset_snapshots (model, created_at DESC);
