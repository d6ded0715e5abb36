-- Hyperparameter searches: one row per study (keyed by its workflow id, which continue-as-new
-- keeps), one row per trial. Written by idempotent upserts, so retries and replays converge.
create table if not exists hpo_studies (
  workflow_id text primary key,
  model text not null,
  dataset_digest text not null references datasets (digest),
  family text not null,
  sampler text not null,
  pruner text not null,
  metric text not null,
  direction text not null check (direction in ('minimize', 'maximize')),
  space jsonb not null,
  n_trials integer not null,
  parallel integer not null,
  mlflow_run_id text,
  status text not null check (status in ('running', 'completed', 'failed')),
  best_trial integer,
  best_value double precision,
  best_params jsonb,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);

create table if not exists hpo_trials (
  study_workflow_id text not null references hpo_studies (workflow_id),
  number integer not null,
  params jsonb not null,
  state text not null check (state in ('running', 'complete', 'pruned', 'failed')),
  value double precision,
  intermediate jsonb not null default '[]',
  mlflow_run_id text,
  error text,
  updated_at timestamptz not null default now(),
  primary key (study_workflow_id, number)
);
