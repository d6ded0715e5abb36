-- Canary looks count the labels that arrived in their window (lib/rollout/sequential-judge.ts):
-- a partial index on arrival time serves that bounded query, so a look's cost follows the
-- window, not every label ever received.
CREATE INDEX IF NOT EXISTS feedback_label_created ON feedback (created_at) WHERE kind = 'label';
