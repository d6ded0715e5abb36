/**
 * The API key store (table api_keys, db/migrations/0009_auth.sql). A key is shown once, when it is
 * created; only the SHA-256 of the whole key is kept (its 256 random bits make a slow password hash
 * pointless: nothing can be guessed from the digest, and a fast hash keeps verification cheap).
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Scope } from '../lib/auth/credentials';

export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: Scope[];
  models: string[] | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
}

export interface StoredApiKey extends ApiKeyRecord {
  secretSha256: Buffer;
}

interface Row {
  id: string;
  name: string;
  secret_sha256: Buffer;
  scopes: Scope[];
  models: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_by: string | null;
  created_at: Date;
}

function fromRow(r: Row): StoredApiKey {
  return {
    id: r.id,
    name: r.name,
    secretSha256: r.secret_sha256,
    scopes: r.scopes,
    models: r.models,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export interface NewApiKey {
  name: string;
  scopes: Scope[];
  models?: string[] | null;
  expiresAt?: Date | null;
  createdBy?: string | null;
}

/** Creates a key; the returned `key` is the only time the secret exists outside the caller. */
export async function createApiKey(db: pg.Pool, k: NewApiKey): Promise<{ key: string; record: ApiKeyRecord }> {
  const id = randomBytes(8).toString('hex');
  const key = `fw_${id}_${randomBytes(32).toString('base64url')}`;
  const { rows } = await db.query<Row>(
    `INSERT INTO api_keys (id, name, secret_sha256, scopes, models, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [id, k.name, sha256(key), k.scopes, k.models ?? null, k.expiresAt ?? null, k.createdBy ?? null],
  );
  const { secretSha256: _, ...record } = fromRow(rows[0]!);
  return { key, record };
}

export async function findApiKey(db: pg.Pool, id: string): Promise<StoredApiKey | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM api_keys WHERE id = $1', [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listApiKeys(db: pg.Pool, opts: { all?: boolean } = {}): Promise<ApiKeyRecord[]> {
  const { rows } = await db.query<Row>(
    `SELECT * FROM api_keys ${opts.all ? '' : 'WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())'} ORDER BY created_at`,
  );
  return rows.map((r) => {
    const { secretSha256: _, ...rec } = fromRow(r);
    return rec;
  });
}

/** Revokes a key; 'unknown' when no key has this id, 'already' when it was revoked before. */
export async function revokeApiKey(db: pg.Pool, id: string): Promise<'revoked' | 'already' | 'unknown'> {
  const { rows } = await db.query<{ id: string }>('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id]);
  if (rows.length > 0) return 'revoked';
  const exists = await db.query('SELECT 1 FROM api_keys WHERE id = $1', [id]);
  return exists.rowCount ? 'already' : 'unknown';
}
