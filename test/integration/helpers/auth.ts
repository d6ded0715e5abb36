/**
 * Credentials for test gateways: every test gateway runs with authentication on (the default), and
 * its clients send a real API key created in the real key store.
 */
import { createApiKey, type NewApiKey } from '../../../clients/api-keys';
import { migrate } from '../../../db/migrate';
import type { Scope } from '../../../lib/auth/credentials';
import type { TestEnv } from './env';

const migrated = new Map<string, Promise<unknown>>();

/** Applies migrations this database lacks (the key store and audit log came with 0009_auth). */
export function ensureMigrated(env: Pick<TestEnv, 'config'>): Promise<unknown> {
  const url = env.config.postgres.url;
  if (!migrated.has(url)) migrated.set(url, migrate(url));
  return migrated.get(url)!;
}

/** A fresh API key (the secret) for a test client; by default it may predict and send feedback, and expires in a day. */
export async function testApiKey(
  env: Pick<TestEnv, 'config' | 'db'>,
  name: string,
  scopes: Scope[] = ['predict', 'feedback', 'metrics'],
  extra: Partial<NewApiKey> = {},
): Promise<string> {
  await ensureMigrated(env);
  const { key } = await createApiKey(env.db, { name: `test:${name}`, scopes, expiresAt: new Date(Date.now() + 86_400_000), createdBy: 'integration-test', ...extra });
  return key;
}

/** Headers for fetch() with a key. */
export function bearer(key: string, json = true): Record<string, string> {
  return { authorization: `Bearer ${key}`, ...(json ? { 'content-type': 'application/json' } : {}) };
}
