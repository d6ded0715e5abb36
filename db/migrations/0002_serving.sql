-- Serving: which model versions the gateway may load, how traffic is split between them,
-- what it predicted and what users said about it.

-- One row per model version that was ever offered to the gateway. A version is served only while
-- active; 'rejected' (failed its checks or a canary) and 'retired' ones keep their row as history.
CREATE TABLE deployments (
  model       text NOT NULL,
  version     text NOT NULL,
  -- An MLflow artifact URI (mlflow-artifacts:/…/model.onnx) or a local file path.
  onnx_uri    text NOT NULL,
  onnx_sha256 text NOT NULL,
  n_features  int NOT NULL CHECK (n_features > 0),
  classes     jsonb NOT NULL CHECK (jsonb_typeof(classes) = 'array'),
  state       text NOT NULL CHECK (state IN ('active', 'rejected', 'retired')),
  reason      text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, version)
);

-- Weights in basis points; a model's weights sum to 10000 after every change. `ranges` are the
-- hash buckets ([start, end) pairs in [0, 10000)) each version owns: kept from one change to the
-- next, so a unit moves only from a version that lost weight to one that gained weight.
CREATE TABLE traffic_weights (
  model      text NOT NULL,
  version    text NOT NULL,
  weight     int NOT NULL CHECK (weight BETWEEN 0 AND 10000),
  ranges     jsonb NOT NULL DEFAULT '[]',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, version),
  FOREIGN KEY (model, version) REFERENCES deployments (model, version)
);

-- One row per model: locked by every weight change (so changes to one model are serialised) and
-- bumped by it, so a gateway can tell which routing table it serves. previous_weights are the
-- weights the last change replaced: a retried change returns them again, so a rollout can always
-- roll back to what was there before it.
CREATE TABLE traffic_revisions (
  model            text PRIMARY KEY,
  revision         bigint NOT NULL DEFAULT 0,
  previous_weights jsonb NOT NULL DEFAULT '{}',
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Makes a version worse on purpose (demos, tests, benchmarks of rollbacks): extra latency, HTTP 500s,
-- and served labels swapped for another class.
CREATE TABLE fault_injection (
  model            text NOT NULL,
  version          text NOT NULL,
  error_rate       double precision NOT NULL DEFAULT 0 CHECK (error_rate BETWEEN 0 AND 1),
  extra_latency_ms int NOT NULL DEFAULT 0 CHECK (extra_latency_ms BETWEEN 0 AND 60000),
  wrong_label_rate double precision NOT NULL DEFAULT 0 CHECK (wrong_label_rate BETWEEN 0 AND 1),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, version)
);

-- Written by the gateway in batches, after the response; created_at is when it was served.
CREATE TABLE predictions (
  id              uuid PRIMARY KEY,
  model           text NOT NULL,
  version         text NOT NULL,
  unit_key        text,
  latency_ms      real NOT NULL,
  outcome         text NOT NULL CHECK (outcome IN ('ok', 'error')),
  predicted_label text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
-- Canary analysis reads one version's recent window.
CREATE INDEX predictions_model_version_created ON predictions (model, version, created_at);

-- No foreign key to predictions: feedback may arrive before its prediction's batch is written.
CREATE TABLE feedback (
  id              bigserial PRIMARY KEY,
  prediction_id   uuid NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('rating', 'click', 'dismiss', 'dwell', 'label')),
  value           double precision CHECK (value IS NULL OR value NOT IN ('NaN', 'Infinity', '-Infinity')),
  label           text,
  idempotency_key text UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (kind <> 'rating' OR value BETWEEN 1 AND 5),
  CHECK (kind <> 'dwell' OR value >= 0),
  CHECK (kind <> 'label' OR label IS NOT NULL)
);
CREATE INDEX feedback_prediction ON feedback (prediction_id);

-- Gateways LISTEN on flywheel_traffic and reload at once (they also poll, for missed
-- notifications). The payload is the model; PostgreSQL sends one per distinct payload per
-- transaction, on commit.
CREATE FUNCTION flywheel_notify_traffic() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('flywheel_traffic', CASE WHEN TG_OP = 'DELETE' THEN OLD.model ELSE NEW.model END);
  RETURN NULL;
END;
$$;

CREATE TRIGGER deployments_notify AFTER INSERT OR UPDATE OR DELETE ON deployments
  FOR EACH ROW EXECUTE FUNCTION flywheel_notify_traffic();
CREATE TRIGGER traffic_weights_notify AFTER INSERT OR UPDATE OR DELETE ON traffic_weights
  FOR EACH ROW EXECUTE FUNCTION flywheel_notify_traffic();
CREATE TRIGGER fault_injection_notify AFTER INSERT OR UPDATE OR DELETE ON fault_injection
  FOR EACH ROW EXECUTE FUNCTION flywheel_notify_traffic();
