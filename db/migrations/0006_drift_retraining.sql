-- Drift detection and retraining: what the drift monitors found and what each retraining decided.

-- One row per change ADWIN found in a model's error stream. Numbered per model across monitors
-- (a restarted monitor continues the numbering), so (model, event) names the retraining it started.
CREATE TABLE drift_events (
  model               text NOT NULL,
  event               int NOT NULL CHECK (event > 0),
  monitor_workflow_id text NOT NULL,
  detector            text NOT NULL DEFAULT 'adwin',
  direction           text NOT NULL CHECK (direction IN ('increase', 'decrease')),
  -- Position in the monitor's error stream (labelled outcomes in prediction order) where it fired.
  sample              bigint NOT NULL,
  error_before        double precision,
  error_after         double precision,
  width_before        bigint,
  width_after         bigint,
  -- The retraining started for it; NULL when none was (a decrease, or one already running).
  retraining_workflow_id text,
  note                text,
  detected_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, event)
);

-- One row per Retraining workflow run, updated as it goes: who started it, the comparison on the
-- challenger's holdout and the decision with its reason (also tagged on the challenger in MLflow).
CREATE TABLE retraining_runs (
  workflow_id        text PRIMARY KEY,
  model              text NOT NULL,
  trigger            text NOT NULL CHECK (trigger IN ('manual', 'schedule', 'drift')),
  trigger_detail     text,
  dataset            text NOT NULL,
  status             text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  challenger_version text,
  champion_version   text,
  champion_source    text,
  metric             text NOT NULL,
  margin             double precision NOT NULL,
  challenger_metrics jsonb,
  champion_metrics   jsonb,
  decision           text,
  reason             text,
  canary_workflow_id text,
  canary_outcome     text,
  started_at         timestamptz NOT NULL DEFAULT now(),
  finished_at        timestamptz
);
CREATE INDEX retraining_runs_model_started ON retraining_runs (model, started_at DESC);
