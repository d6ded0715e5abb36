-- Shadow before exposure (issue 15, item 5): a candidate version answers a share of live requests
-- beside the serving version, off the request's path; callers only ever get the serving version's
-- answer. (0014 is reserved for the partitioning of predictions and feedback.)

-- One row per shadow run; at most one running (stopped_at IS NULL) per model. Starting and stopping
-- are attributed, like every mutating action (audit_log of 0009_auth.sql records them too).
CREATE TABLE IF NOT EXISTS shadow_deployments (
  id          bigserial PRIMARY KEY,
  model       text NOT NULL,
  version     text NOT NULL,
  -- Share of the model's requests mirrored to the shadow, in (0, 1].
  share       double precision NOT NULL CHECK (share > 0 AND share <= 1),
  started_at  timestamptz NOT NULL DEFAULT now(),
  started_by  text NOT NULL,
  stopped_at  timestamptz,
  stopped_by  text,
  stop_reason text,
  FOREIGN KEY (model, version) REFERENCES deployments (model, version),
  CHECK ((stopped_at IS NULL) = (stopped_by IS NULL))
);
CREATE UNIQUE INDEX IF NOT EXISTS shadow_deployments_running ON shadow_deployments (model) WHERE stopped_at IS NULL;

-- What the shadow answered for a served prediction (prediction_id is the served row's id in
-- predictions; no foreign key: the two are written by separate batched writers, in either order).
-- A table of its own, so shadow answers never count where served predictions count (canary and A/B
-- analyses, served metrics, segments, production snapshots all read predictions).
CREATE TABLE IF NOT EXISTS shadow_predictions (
  prediction_id   uuid NOT NULL,
  model           text NOT NULL,
  version         text NOT NULL,
  predicted_label text,
  latency_ms      real NOT NULL,
  outcome         text NOT NULL CHECK (outcome IN ('ok', 'error')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- A retried batch that did commit writes nothing twice (ON CONFLICT DO NOTHING).
  PRIMARY KEY (prediction_id, version)
);
-- Comparisons read one shadow version's window.
CREATE INDEX IF NOT EXISTS shadow_predictions_model_version_created ON shadow_predictions (model, version, created_at);

-- A start or stop reaches the gateways at once, through the channel and function of 0002_serving.sql
-- (they also poll, for notifications missed).
DROP TRIGGER IF EXISTS shadow_deployments_notify ON shadow_deployments;
CREATE TRIGGER shadow_deployments_notify AFTER INSERT OR UPDATE OR DELETE ON shadow_deployments
  FOR EACH ROW EXECUTE FUNCTION flywheel_notify_traffic();
