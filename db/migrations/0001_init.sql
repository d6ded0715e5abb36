-- Datasets are content-addressed: the digest names the exact rows a model was trained on.
CREATE TABLE datasets (
  digest        text PRIMARY KEY,
  uri           text NOT NULL,
  name          text NOT NULL,
  n_rows        int NOT NULL,
  n_features    int NOT NULL,
  feature_names jsonb NOT NULL,
  label_name    text NOT NULL,
  classes       jsonb NOT NULL,
  created_at    timestamptz DEFAULT now()
);

-- One row per TrainingPipeline run; keyed like Temporal keys the run, so an activity retried
-- with the same workflow and run id updates its row instead of adding one.
CREATE TABLE pipeline_runs (
  workflow_id     text NOT NULL,
  run_id          text NOT NULL,
  model           text NOT NULL,
  family          text NOT NULL,
  dataset_digest  text NOT NULL REFERENCES datasets (digest),
  hyperparameters jsonb NOT NULL,
  status          text NOT NULL,
  stage           text,
  model_version   text,
  mlflow_run_id   text,
  metrics         jsonb,
  error           text,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  PRIMARY KEY (workflow_id, run_id)
);

-- `flywheel runs --model iris` lists a model's runs newest first.
CREATE INDEX pipeline_runs_model_started ON pipeline_runs (model, started_at DESC);
