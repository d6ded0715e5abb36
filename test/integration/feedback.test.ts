/**
 * Feedback ingestion end to end on the real PostgreSQL, through a gateway on a real port: every
 * channel stored with its quality and sentiment, group commit of concurrent requests, and the
 * promise that matters: an acknowledged item is stored, even when the gateway's connections are
 * killed mid-ingestion (clients get 503 and retry with their idempotency keys).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../serving/app';
import { feedbackApplicationName } from '../../serving/feedback-routes';
import { uuidv7 } from '../../serving/uuid';
import { JsonClient } from '../../traffic/http';
import { openTestEnv, type TestEnv } from './helpers/env';
import { testApiKey } from './helpers/auth';

let env: TestEnv;
let gateway: Gateway;
let client: JsonClient;
const run = randomUUID().slice(0, 8);

async function metric(name: string): Promise<number> {
  const text = (await client.request('GET', '/metrics')).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 0);
}

beforeAll(async () => {
  env = await openTestEnv('feedback');
  // Authentication on, as everywhere; the prediction checks off: these tests exercise how feedback is
  // committed and acknowledged, with synthetic prediction ids (the checks: auth-matrix.test.ts).
  gateway = await createGateway({ ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 5_000 } }, { port: 0, logger: false, verifyFeedback: false });
  client = new JsonClient(await gateway.listen(), 64, { apiKey: await testApiKey(env, 'feedback') });
});

afterAll(async () => {
  client?.close();
  await gateway?.close();
  await env?.db.query('DELETE FROM feedback WHERE source = $1 OR idempotency_key LIKE $2', [`test-${run}`, `${run}-%`]);
  await env?.close();
});

describe('feedback ingestion on the real stack', () => {
  it('stores every channel in one batch, with quality and comment sentiment', async () => {
    const p = uuidv7();
    const source = `test-${run}`;
    const items = [
      { predictionId: p, kind: 'rating', value: 5, source, unitKey: 'u1' },
      { predictionId: p, kind: 'click', source },
      { predictionId: p, kind: 'dwell', value: 42, source },
      { predictionId: p, kind: 'copy', source },
      { predictionId: p, kind: 'event', event: 'add_to_cart', value: 2, source },
      { predictionId: p, kind: 'label', label: 'setosa', source },
      { predictionId: p, kind: 'comment', comment: 'This answer was wonderful, thank you!', source },
      { predictionId: p, kind: 'comment', comment: 'Terrible, useless and wrong.', source },
      { predictionId: p, kind: 'dwell', value: 10 ** 6, source },
      { predictionId: p, kind: 'dismiss', source },
    ];
    const res = await client.post('/v1/feedback/batch', { items });
    expect(res.status).toBe(200);
    const body = res.body as { stored: number; items: Array<{ status: number; id: string; quality: number; qualityFlags?: string[]; sentimentLabel?: string }> };
    expect(body.stored).toBe(items.length);
    expect(body.items[6]).toMatchObject({ status: 201, sentimentLabel: 'positive' });
    expect(body.items[7]).toMatchObject({ status: 201, sentimentLabel: 'negative' });
    expect(body.items[8]).toMatchObject({ qualityFlags: ['impossible'] });
    expect(body.items[9]).toMatchObject({ qualityFlags: ['disagreement'] });
    expect(body.items[0]!.quality).toBe(1);

    const { rows } = await env.db.query(
      'SELECT id::text, kind, value, label, event, comment IS NOT NULL AS has_comment, sentiment_label, quality, quality_flags FROM feedback WHERE prediction_id = $1 ORDER BY feedback.id',
      [p],
    );
    expect(rows.map((r) => r.id)).toEqual(body.items.map((i) => i.id));
    expect(rows.map((r) => r.kind)).toEqual(items.map((i) => i.kind));
    expect(rows[4]).toMatchObject({ event: 'add_to_cart', value: 2 });
    expect(rows[6]).toMatchObject({ has_comment: true, sentiment_label: 'positive' });
    expect(rows[8]!.quality).toBeLessThan(0.05);
    expect(rows[8]!.quality_flags).toEqual(['impossible']);
  });

  it('refuses a batch with one bad item, naming it, and stores none of it', async () => {
    const p = uuidv7();
    const res = await client.post('/v1/feedback/batch', {
      items: [
        { predictionId: p, kind: 'click' },
        { predictionId: p, kind: 'rating', value: 9 },
      ],
    });
    expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: { error: 'items[1].value: a rating must be a number from 1 to 5', field: 'items[1].value' } });
    expect((await env.db.query('SELECT 1 FROM feedback WHERE prediction_id = $1', [p])).rowCount).toBe(0);
  });

  it('answers repeats by idempotency key from the stored row, and conflicts per item', async () => {
    const p = uuidv7();
    const items = [
      { predictionId: p, kind: 'rating', value: 3, idempotencyKey: `${run}-a` },
      { predictionId: p, kind: 'label', label: 'x', idempotencyKey: `${run}-b` },
    ];
    const first = (await client.post('/v1/feedback/batch', { items })).body as { stored: number; items: Array<{ id: string; status: number }> };
    expect(first.stored).toBe(2);
    const again = (await client.post('/v1/feedback/batch', { items: [...items, { predictionId: p, kind: 'click', idempotencyKey: `${run}-c` }] })).body as {
      stored: number;
      repeated: number;
      conflicts: number;
      items: Array<{ id?: string; status: number; error?: string }>;
    };
    expect(again).toMatchObject({ stored: 1, repeated: 2, conflicts: 0 });
    expect(again.items.slice(0, 2).map((i) => [i.status, i.id])).toEqual(first.items.map((i) => [200, i.id]));
    const conflict = (await client.post('/v1/feedback/batch', { items: [{ ...items[0]!, value: 4 }] })).body as { conflicts: number; items: unknown[] };
    expect(conflict).toMatchObject({ conflicts: 1, items: [{ status: 409, error: `idempotencyKey: already used for different feedback (id ${first.items[0]!.id})` }] });
    expect((await env.db.query('SELECT 1 FROM feedback WHERE prediction_id = $1', [p])).rowCount).toBe(3);
  });

  it('group-commits concurrent single requests: fewer INSERTs than requests, each answered after its row is stored', async () => {
    const commitsBefore = await metric('flywheel_gateway_feedback_commits_total');
    const n = 400;
    const ids = Array.from({ length: n }, () => uuidv7());
    const answers = await Promise.all(ids.map((id, i) => client.post('/v1/feedback', { predictionId: id, kind: 'rating', value: 1 + (i % 5), idempotencyKey: `${run}-g${i}` })));
    expect(answers.every((a) => a.status === 201)).toBe(true);
    const commits = (await metric('flywheel_gateway_feedback_commits_total')) - commitsBefore;
    expect(commits).toBeLessThan(n / 4);
    const { rows } = await env.db.query<{ id: string }>('SELECT id::text FROM feedback WHERE prediction_id = ANY($1::uuid[])', [ids]);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(answers.map((a) => (a.body as { id: string }).id)));
  });

  it('loses nothing acknowledged when its PostgreSQL connections are killed mid-ingestion', async () => {
    const acknowledged = new Set<string>();
    const statuses: Record<number, number> = {};
    let stop = false;
    let sent = 0;
    // Clients retry what was not acknowledged (503 or a dropped connection) with the same key.
    const clients = Array.from({ length: 16 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const key = `${run}-k${c}-${i}`;
        const single = i % 2 === 0;
        const body = single
          ? { predictionId: uuidv7(), kind: 'click', idempotencyKey: key }
          : { items: Array.from({ length: 20 }, (_, j) => ({ predictionId: uuidv7(), kind: 'copy', idempotencyKey: `${key}-${j}` })) };
        for (let attempt = 0; ; attempt++) {
          sent++;
          let status = 0;
          try {
            status = (await client.post(single ? '/v1/feedback' : '/v1/feedback/batch', body)).status;
          } catch {
            status = -1;
          }
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200 || status === 201) {
            if (single) acknowledged.add(key);
            else for (let j = 0; j < 20; j++) acknowledged.add(`${key}-${j}`);
            break;
          }
          if (attempt > 200) throw new Error(`gave up on ${key}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    const killer = (async () => {
      for (let k = 0; k < 5; k++) {
        await new Promise((r) => setTimeout(r, 300));
        await env.db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [feedbackApplicationName()]);
      }
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
    })();
    await Promise.all([...clients, killer]);
    expect(statuses[503] ?? 0).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThan(500);
    const keys = [...acknowledged];
    const { rows } = await env.db.query<{ idempotency_key: string }>('SELECT idempotency_key FROM feedback WHERE idempotency_key = ANY($1::text[])', [keys]);
    expect(rows.length).toBe(keys.length);
    expect(sent).toBeGreaterThan(acknowledged.size / 20);
  });
});
