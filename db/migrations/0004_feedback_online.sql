-- Feedback channels beyond the first five, a quality score and comment sentiment stored with each
-- item, and the state of online models that learn from labelled feedback inside the gateway.

-- copy (implicit), event (behavioural: a named action on the unit) and comment (free text).
ALTER TABLE feedback DROP CONSTRAINT feedback_kind_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_kind_check
  CHECK (kind IN ('rating', 'click', 'dismiss', 'dwell', 'copy', 'event', 'label', 'comment'));

-- Constant defaults: adding these is a catalog change, not a rewrite of the table.
ALTER TABLE feedback
  -- Who sent it (a client, device or integration): bursts are counted per source.
  ADD COLUMN source          text,
  -- The unit (user, session) it is about: disagreement is judged against the unit's history.
  ADD COLUMN unit_key        text,
  ADD COLUMN event           text,
  ADD COLUMN comment         text,
  ADD COLUMN sentiment       real,
  ADD COLUMN sentiment_label text CHECK (sentiment_label IS NULL OR sentiment_label IN ('positive', 'negative', 'neutral')),
  -- 1 = trustworthy, 0 = ignore; consumers weight by it rather than have it filtered away.
  ADD COLUMN quality         real NOT NULL DEFAULT 1 CHECK (quality BETWEEN 0 AND 1),
  ADD COLUMN quality_flags   text[] NOT NULL DEFAULT '{}',
  ADD CONSTRAINT feedback_event_named CHECK (kind <> 'event' OR event IS NOT NULL),
  ADD CONSTRAINT feedback_comment_text CHECK (kind <> 'comment' OR comment IS NOT NULL);

-- One row per online model the gateway serves at /v1/online/<name>/predict. `generation` changes
-- when the model is (re)started from a version: a gateway's checkpoint of an older generation is
-- refused, so it cannot overwrite the fresh start.
CREATE TABLE online_models (
  name             text PRIMARY KEY,
  base_model       text NOT NULL,
  base_version     text NOT NULL,
  generation       bigint NOT NULL DEFAULT 1,
  options          jsonb NOT NULL DEFAULT '{}',
  -- An OnlineSoftmaxRegression snapshot (lib/online toJSON).
  state            jsonb NOT NULL,
  -- Labelled items learnt since the warm start, and the feedback ids they span.
  learned          bigint NOT NULL DEFAULT 0,
  learned_from     bigint,
  learned_through  bigint NOT NULL DEFAULT 0,
  active           boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- What an online model was asked: its features are what a later label teaches it.
CREATE TABLE online_predictions (
  id              uuid PRIMARY KEY,
  model           text NOT NULL,
  generation      bigint NOT NULL,
  features        double precision[] NOT NULL,
  predicted_label text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX online_predictions_model ON online_predictions (model, created_at);

-- Each registered snapshot, keyed by the feedback it had learnt through: a retry finds it here.
CREATE TABLE online_snapshots (
  name             text NOT NULL,
  generation       bigint NOT NULL,
  learned_through  bigint NOT NULL,
  learned_from     bigint,
  learned          bigint NOT NULL,
  registered_model text NOT NULL,
  version          text NOT NULL,
  mlflow_run_id    text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, generation, learned_through)
);
