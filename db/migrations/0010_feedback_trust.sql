-- Which clients' feedback may move decisions, and the index the gateway's per-batch
-- client-contradiction check reads (serving/feedback-trust.ts).

-- A client's own recent labels, newest first: bounded by the client's volume, not everyone's.
CREATE INDEX IF NOT EXISTS feedback_label_client_created ON feedback (client_id, created_at) WHERE kind = 'label';

-- Per model, the only clients whose feedback canary, A/B and drift decisions count (client ids
-- such as `key:<id>` / `oidc:<subject>`, or API key names). No row: every client counts.
-- Set with `flywheel feedback-clients set <model> <client>…`; changes are written to audit_log.
CREATE TABLE IF NOT EXISTS decision_feedback_clients (
  model       text PRIMARY KEY,
  clients     text[] NOT NULL CHECK (cardinality(clients) > 0),
  updated_by  text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
