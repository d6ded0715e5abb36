/** A small shared pg pool per URL: activities in one worker reuse connections. */
import pg from 'pg';

const pools = new Map<string, pg.Pool>();

export function getPool(url: string): pg.Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 30_000 });
    // An idle client error (server restart) must not crash the worker; the next query reconnects.
    pool.on('error', () => undefined);
    pools.set(url, pool);
  }
  return pool;
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.end()));
}
