-- Rows a batched writer of the gateway (predictions, feedback, online predictions) could not store
-- because of what the row itself holds (SQLSTATE 22xxx data exception, 23xxx integrity violation,
-- 54xxx limit exceeded): isolated from their batch and kept here with the database's error, so one
-- poisoned row never blocks the honest rows written with it. Additive and idempotent.
CREATE TABLE IF NOT EXISTS dead_letters (
  id         bigserial PRIMARY KEY,
  -- Which writer refused it: 'predictions', 'feedback', 'online_predictions'.
  writer     text NOT NULL,
  -- The row as JSON text: JSON.stringify escapes NUL and lone surrogates as \uXXXX, so any row fits
  -- in text even when jsonb (which refuses \u0000) would not.
  payload    text NOT NULL,
  error      text NOT NULL,
  sqlstate   text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS dead_letters_writer_created ON dead_letters (writer, created_at);
