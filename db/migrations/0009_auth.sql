-- Who may call the gateway, who did what, and who sent each feedback item.

-- Scoped API keys for services. The secret itself is never stored: `secret_sha256` is the SHA-256
-- of the whole key (`fw_<id>_<43 base64url chars of 32 random bytes>`). A fast hash is enough here
-- because the secret has 256 bits of entropy: there is no dictionary to try, so the slow,
-- salted hashes that passwords need (bcrypt, scrypt, argon2) would only cost every request.
CREATE TABLE api_keys (
  id             text PRIMARY KEY,
  name           text NOT NULL,
  secret_sha256  bytea NOT NULL,
  scopes         text[] NOT NULL CHECK (scopes <@ ARRAY['predict', 'feedback', 'admin', 'metrics']::text[] AND cardinality(scopes) > 0),
  -- NULL: every model; otherwise the only models this key may predict with.
  models         text[],
  expires_at     timestamptz,
  revoked_at     timestamptz,
  created_by     text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz
);

-- Mutating actions: who, when, what, on what, and how it ended.
CREATE TABLE audit_log (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL DEFAULT now(),
  actor    text NOT NULL,
  action   text NOT NULL,
  target   text,
  outcome  text NOT NULL,
  detail   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at DESC);

-- The authenticated client that sent each item (NULL: stored before authentication existed, or by
-- a gateway running with FLYWHEEL_GATEWAY_AUTH=off). Nullable with no default: a catalog change,
-- and older writers that do not name it keep working.
ALTER TABLE feedback ADD COLUMN client_id text;
