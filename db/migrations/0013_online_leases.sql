-- Several gateways serve the same online models; exactly one learns and checkpoints each of them:
-- the holder of its lease (serving/online-models.ts). A lease not renewed by `lease_until` may be
-- taken by any other gateway, which then resumes from the checkpoint and replays the labels past it.
ALTER TABLE online_models ADD COLUMN leader text;
ALTER TABLE online_models ADD COLUMN lease_until timestamptz;
-- The feedback ids the leader learnt lately (its late window), checkpointed with the state: a new
-- leader looking back for labels committed out of id order skips the ones already in the state.
ALTER TABLE online_models ADD COLUMN learnt_recent bigint[] NOT NULL DEFAULT '{}';
