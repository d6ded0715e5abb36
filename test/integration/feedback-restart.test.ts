/**
 * A real PostgreSQL crash during ingestion: a throwaway cluster of its own (initdb as the postgres
 * user, a free port), the gateway storing feedback into it, and `pg_ctl stop -m immediate` (no
 * shutdown checkpoint: recovery replays the WAL) while 16 clients send. Clients get 503 while it
 * is down and retry with their idempotency keys; afterwards every acknowledged item is stored,
 * exactly once.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { testApiKey } from './helpers/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index';
import { migrate } from '../../db/migrate';
import { createGateway, type Gateway } from '../../serving/app';
import { uuidv7 } from '../../serving/uuid';
import { JsonClient } from '../../traffic/http';

const run = promisify(execFile);
let bin: string;
let dir: string;
let port: number;
let url: string;
let gateway: Gateway | undefined;
let client: JsonClient;

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  if (versions.length === 0) throw new Error('this test needs the PostgreSQL server binaries under /usr/lib/postgresql/<version>/bin');
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

// initdb and postgres refuse to run as root: the cluster belongs to the postgres user.
const asPostgres = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { timeout: 60_000 });
const pgCtl = (...args: string[]) => asPostgres('pg_ctl', ['-D', dir, ...args]);
const startCluster = () => pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', path.join(dir, 'log'), '-w', 'start');

// runuser needs root; as any other user the cluster would be started directly, which is not wired.
const root = process.getuid?.() === 0;

beforeAll(async () => {
  if (!root) return;
  bin = pgBin();
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flywheel-pg-'));
  await run('chown', ['postgres', dir]);
  port = await freePort();
  await asPostgres('initdb', ['-D', dir, '-A', 'trust', '-U', 'flywheel', '--no-sync']);
  await startCluster();
  const admin = new pg.Client({ connectionString: `postgres://flywheel@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE flywheel');
  await admin.end();
  url = `postgres://flywheel@127.0.0.1:${port}/flywheel`;
  await migrate(url);
  const base = loadConfig();
  const cfg = { ...base, postgres: { ...base.postgres, url }, gateway: { ...base.gateway, threads: 1, pollMs: 1_000 } };
  // Prediction checks off: this test is about acknowledging feedback across a PostgreSQL restart, with
  // synthetic prediction ids. Authentication stays on, with a key in this cluster's own key store.
  gateway = await createGateway(cfg, { port: 0, logger: false, verifyFeedback: false });
  const keyDb = new pg.Pool({ connectionString: url, max: 1 });
  const apiKey = await testApiKey({ config: cfg, db: keyDb }, 'feedback-restart');
  await keyDb.end();
  client = new JsonClient(await gateway.listen(), 32, { apiKey });
});

afterAll(async () => {
  client?.close();
  await gateway?.close();
  if (dir) {
    await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

describe.skipIf(!root)('feedback across a PostgreSQL crash (runs as root: the cluster belongs to the postgres user)', () => {
  it('loses nothing acknowledged when PostgreSQL crashes and restarts mid-ingestion', async () => {
    const acknowledged = new Set<string>();
    const statuses: Record<number, number> = {};
    let stop = false;
    const clients = Array.from({ length: 16 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const key = `k${c}-${i}`;
        const single = i % 2 === 0;
        const body = single
          ? { predictionId: uuidv7(), kind: 'rating', value: 4, idempotencyKey: key }
          : { items: Array.from({ length: 10 }, (_, j) => ({ predictionId: uuidv7(), kind: 'dwell', value: j, idempotencyKey: `${key}-${j}` })) };
        for (let attempt = 0; ; attempt++) {
          let status = -1;
          try {
            status = (await client.post(single ? '/v1/feedback' : '/v1/feedback/batch', body)).status;
          } catch {
            /* connection dropped: not acknowledged */
          }
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200 || status === 201) {
            if (single) acknowledged.add(key);
            else for (let j = 0; j < 10; j++) acknowledged.add(`${key}-${j}`);
            break;
          }
          if (attempt > 400) throw new Error(`gave up on ${key} (last status ${status})`);
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    });
    const crash = (async () => {
      await new Promise((r) => setTimeout(r, 700));
      const before = acknowledged.size;
      await pgCtl('-m', 'immediate', 'stop');
      await new Promise((r) => setTimeout(r, 1_500));
      await startCluster();
      await new Promise((r) => setTimeout(r, 1_500));
      stop = true;
      return before;
    })();
    const [ackedBeforeCrash] = await Promise.all([crash, ...clients]);
    expect(ackedBeforeCrash).toBeGreaterThan(100);
    expect(statuses[503] ?? 0).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThan(ackedBeforeCrash as number);

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      const keys = [...acknowledged];
      const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM feedback WHERE idempotency_key = ANY($1::text[])', [keys]);
      expect(Number(rows[0]!.n)).toBe(keys.length);
      const dup = await db.query('SELECT idempotency_key FROM feedback GROUP BY idempotency_key HAVING count(*) > 1');
      expect(dup.rowCount).toBe(0);
    } finally {
      await db.end();
    }
  });
});
