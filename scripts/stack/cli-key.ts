/**
 * The local admin key for the CLI and the demo: created by `flywheel up` on its first start, kept
 * in <data folder>/credentials/cli.key (0600, folder 0700), read by the CLI's gateway calls and
 * `flywheel traffic replay` (traffic/credentials.ts). FLYWHEEL_API_KEY, when set, wins and no file
 * is written.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { FlywheelConfig } from '../../config/index';
import { createApiKey } from '../../clients/api-keys';
import { auditQuietly } from '../../clients/audit';
import pg from 'pg';
import { cliKeyFile, writeCliKey } from '../../traffic/credentials';

export async function ensureCliKey(config: FlywheelConfig): Promise<{ state: 'created' | 'present' | 'env'; file?: string }> {
  if (config.apiKey) return { state: 'env' };
  const file = cliKeyFile(config);
  if (fs.existsSync(file)) {
    // A key file someone loosened is tightened again: it holds an admin credential.
    fs.chmodSync(file, 0o600);
    return { state: 'present', file };
  }
  // Its own short-lived pool: an idle shared pool would keep `flywheel up` from exiting.
  const db = new pg.Pool({ connectionString: config.postgres.url, max: 1 });
  db.on('error', () => undefined);
  try {
    const { key, record } = await createApiKey(db, { name: `local-cli@${os.hostname()}`, scopes: ['admin'], createdBy: 'flywheel up' });
    try {
      writeCliKey(config, key);
    } catch (err) {
      // Another `flywheel up` wrote one first (wx): this key is never used, so it is revoked.
      await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [record.id]);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { state: 'present', file };
      throw err;
    }
    await auditQuietly(db, { actor: 'flywheel up', action: 'keys.create', target: `key:${record.id}`, outcome: 'ok', detail: { name: record.name, scopes: record.scopes, file } });
    return { state: 'created', file };
  } finally {
    await db.end();
  }
}
