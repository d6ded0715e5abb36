/**
 * Who may move a decision, on the real stack: a real gateway (authentication on, feedback checks on)
 * in front of the real PostgreSQL, and the canary's real collectRolloutWindow activity reading what
 * it stored.
 *
 *  - an unauthenticated client changes no decision input: its forged labels are refused and the
 *    rollout window's counts stay what they were;
 *  - an authenticated client's burst of labels contradicting what other clients say about the same
 *    version is stored, flagged `client_burst_contradiction` with its quality cut, and left out of
 *    the window;
 *  - a model's allow-list (decision_feedback_clients) restricts the window to the clients it names.
 *
 * The predictions are rows in the real predictions table (as another replica's recorder would have
 * written them); the gateway's guard finds them there.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { createCanaryActivities } from '../../activities/canary';
import { createExperimentActivities } from '../../activities/experiment';
import { createGateway, type Gateway } from '../../serving/app';
import { clientContradictionFlags, MineCache, OthersCache, type JudgedLabel } from '../../serving/feedback-trust';
import { uuidv7 } from '../../serving/uuid';
import { storeFeedbackGroup } from '../../serving/feedback';
import { bearer, ensureMigrated, testApiKey } from './helpers/auth';
import { openTestEnv, uniqueModelName, type TestEnv } from './helpers/env';

let env: TestEnv;
let gateway: Gateway;
let base: string;
const model = uniqueModelName('trust');
const t0 = Date.now();
const keys: Record<string, string> = {};
const ids = { stable: [] as string[], candidate: [] as string[] };
let next = { stable: 0, candidate: 0 };

const clientIdOf = (key: string) => `key:${key.split('_')[1]}`;

/** Predictions as the recorder writes them: every one predicted 'a'. */
async function predict(version: 'stable' | 'candidate', n: number): Promise<void> {
  const rows = Array.from({ length: n }, () => uuidv7());
  await env.db.query(
    `insert into predictions (id, model, version, latency_ms, outcome, predicted_label) select unnest($1::uuid[]), $2, $3, 5, 'ok', 'a'`,
    [rows, model, version === 'stable' ? '1' : '2'],
  );
  ids[version].push(...rows);
}

/** Labels for the next `n` unlabelled predictions of a version, `wrong` of them 'b' (contradicting). */
async function label(key: string | null, version: 'stable' | 'candidate', n: number, wrong: number): Promise<Response> {
  const items = ids[version].slice(next[version], next[version] + n).map((predictionId, i) => ({ predictionId, kind: 'label', label: i < wrong ? 'b' : 'a' }));
  const res = await fetch(`${base}/v1/feedback/batch`, { method: 'POST', headers: key ? bearer(key) : { 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
  if (res.status === 200) next[version] += n;
  return res;
}

function flywheel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function windowCounts() {
  const canary = createCanaryActivities(env.config);
  const w = await canary.collectRolloutWindow({
    model,
    versions: [{ version: '1', thresholds: {} }, { version: '2', thresholds: {} }],
    fromMs: t0 - 60_000,
    toMs: Date.now() + 1_000,
    predictionsSinceMs: t0 - 60_000,
  });
  return { stable: { labelled: w['1']!.labelled, incorrect: w['1']!.incorrect }, candidate: { labelled: w['2']!.labelled, incorrect: w['2']!.incorrect } };
}

/** What an A/B test's look would count: accuracy observations per version. */
async function abCounts() {
  const arms = await createExperimentActivities(env.config).collectExperimentMetrics({ model, versions: ['1', '2'], sinceMs: t0 - 60_000, primaryMetric: 'accuracy' });
  return arms.map((a) => ({ version: a.version, n: a.n, correct: a.sum }));
}

beforeAll(async () => {
  env = await openTestEnv('feedback-trust');
  await ensureMigrated(env);
  for (const name of ['honest-a', 'honest-b', 'forger', 'forger-single']) keys[name] = await testApiKey(env, `${name}-${model}`);
  gateway = await createGateway({ ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 5_000 } }, { port: 0, logger: false, contradictionCacheMs: 0 });
  base = await gateway.listen();
  await predict('stable', 200);
  await predict('candidate', 200);
  // The unit's history: two honest clients, 10 % of their labels contradicting the prediction.
  for (const k of ['honest-a', 'honest-b']) {
    for (const v of ['stable', 'candidate'] as const) expect((await label(keys[k]!, v, 20, 2)).status).toBe(200);
  }
});

afterAll(async () => {
  await gateway?.close().catch(() => undefined);
  await env?.db.query('delete from feedback where prediction_id = any($1::uuid[])', [[...ids.stable, ...ids.candidate]]);
  await env?.db.query('delete from predictions where model = $1', [model]);
  await env?.db.query('delete from decision_feedback_clients where model = $1', [model]);
  await env?.db.query('delete from deployments where model = $1', [model]);
  await env?.close();
});

describe('feedback from clients that may not move a decision', () => {
  it('forged anonymous feedback is refused and the rollout window does not move', async () => {
    const before = await windowCounts();
    expect(before).toEqual({ stable: { labelled: 40, incorrect: 4 }, candidate: { labelled: 40, incorrect: 4 } });
    const stored = await env.db.query<{ n: string }>('select count(*) as n from feedback where prediction_id = any($1::uuid[])', [ids.candidate]);

    expect((await label(null, 'candidate', 30, 30)).status).toBe(401);
    const forgedKey = `fw_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    expect((await label(forgedKey, 'candidate', 30, 30)).status).toBe(401);
    const single = await fetch(`${base}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ predictionId: ids.candidate[next.candidate], kind: 'label', label: 'b' }) });
    expect(single.status).toBe(401);

    expect(await windowCounts()).toEqual(before);
    const after = await env.db.query<{ n: string }>('select count(*) as n from feedback where prediction_id = any($1::uuid[])', [ids.candidate]);
    expect(after.rows[0]!.n).toBe(stored.rows[0]!.n);
  });

  it("an authenticated client's burst of contradicting labels is stored, flagged and left out of the window (and of an A/B look)", async () => {
    const before = await windowCounts();
    const abBefore = await abCounts();
    expect(abBefore).toEqual([{ version: '1', n: 40, correct: 36 }, { version: '2', n: 40, correct: 36 }]);
    const res = await label(keys.forger!, 'candidate', 30, 30);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { stored: number; items: Array<{ status: number; quality: number; qualityFlags?: string[] }> };
    expect(body.stored).toBe(30);
    for (const it of body.items) {
      expect(it.qualityFlags).toContain('client_burst_contradiction');
      expect(it.quality).toBeLessThanOrEqual(0.1);
    }
    const { rows } = await env.db.query<{ n: string }>(
      `select count(*) as n from feedback where client_id = $1 and 'client_burst_contradiction' = any(quality_flags)`,
      [clientIdOf(keys.forger!)],
    );
    expect(Number(rows[0]!.n)).toBe(30);
    expect(await windowCounts()).toEqual(before);
    expect(await abCounts()).toEqual(abBefore);
  });

  it('a client agreeing with the history is not flagged, and counts', async () => {
    const before = await windowCounts();
    const res = await label(keys['honest-a']!, 'candidate', 20, 2);
    const body = (await res.json()) as { items: Array<{ qualityFlags?: string[] }> };
    expect(body.items.every((it) => !it.qualityFlags?.includes('client_burst_contradiction'))).toBe(true);
    expect(await windowCounts()).toEqual({ ...before, candidate: { labelled: before.candidate.labelled + 20, incorrect: before.candidate.incorrect + 2 } });
  });

  it("a model's allow-list restricts the window to the clients it names (by key name or client id)", async () => {
    const all = await windowCounts();
    const set = await flywheel(['feedback-clients', 'set', model, `test:honest-a-${model}`, '--json']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ model, clients: [`test:honest-a-${model}`] });
    const audit = await env.db.query(`select actor, outcome, detail from audit_log where action = 'feedback-clients.set' and target = $1`, [`model:${model}`]);
    expect(audit.rows).toHaveLength(1);
    // honest-a: 20 + 20 + 20 labels (2 + 2 + 2 wrong); honest-b's are left out.
    expect(await windowCounts()).toEqual({ stable: { labelled: 20, incorrect: 2 }, candidate: { labelled: 40, incorrect: 4 } });
    await env.db.query(`update decision_feedback_clients set clients = $2 where model = $1`, [model, [clientIdOf(keys['honest-b']!)]]);
    expect(await windowCounts()).toEqual({ stable: { labelled: 20, incorrect: 2 }, candidate: { labelled: 20, incorrect: 2 } });
    expect((await flywheel(['feedback-clients', 'clear', model, '--json'])).code).toBe(0);
    expect(await windowCounts()).toEqual(all);
  });

  it("with the gateway's caches (its default), a burst sent one label per request is flagged from the label that makes it one", async () => {
    // The counts are read once per TTL; the labels judged in between are counted by the gateway
    // itself (MineCache). Stable's history: 40 labels from others, 4 contradicting, so by
    // clientBurstContradiction five contradicting labels are a burst (5 × ln(42/5) ≥ ln 1e4) and four are not.
    const cached = await createGateway({ ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 5_000 } }, { port: 0, logger: false });
    try {
      const url = await cached.listen();
      const fresh = Array.from({ length: 8 }, () => uuidv7());
      await env.db.query(
        `insert into predictions (id, model, version, latency_ms, outcome, predicted_label) select unnest($1::uuid[]), $2, '1', 5, 'ok', 'a'`,
        [fresh, model],
      );
      ids.stable.push(...fresh);
      const flagged: boolean[] = [];
      for (const predictionId of fresh) {
        const res = await fetch(`${url}/v1/feedback/batch`, { method: 'POST', headers: bearer(keys['forger-single']!), body: JSON.stringify({ items: [{ predictionId, kind: 'label', label: 'b' }] }) });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { items: Array<{ qualityFlags?: string[] }> };
        flagged.push(body.items[0]!.qualityFlags?.includes('client_burst_contradiction') === true);
      }
      expect(flagged).toEqual([false, false, false, false, true, true, true, true]);
    } finally {
      await cached.close();
    }
  });

  it("a label that lost its prediction to another gateway's is refused, and that gateway's client retrying through this one gets its repeat", async () => {
    const other = await createGateway({ ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 5_000 } }, { port: 0, logger: false });
    try {
      const url = await other.listen();
      const p = uuidv7();
      await env.db.query(`insert into predictions (id, model, version, latency_ms, outcome, predicted_label) values ($1, $2, '1', 5, 'ok', 'a')`, [p, model]);
      // The label another gateway stored a moment ago, which this gateway's guard does not see
      // (its time moved out of the guard's read): the state two gateways' simultaneous labels leave,
      // where the guard let the second through and the first label's claim refuses it.
      const winner = `winner-${p}`;
      const [won] = await storeFeedbackGroup(env.db, [{ predictionId: p, kind: 'label', value: null, label: 'a', event: null, comment: null, source: null, unitKey: null, idempotencyKey: winner, quality: 1, qualityFlags: [], sentiment: null, sentimentLabel: null }]);
      expect(won!.status).toBe(201);
      await env.db.query(`update feedback set created_at = created_at - interval '3 hours' where idempotency_key = $1`, [winner]);
      await env.db.query(`update feedback_keys set created_at = created_at - interval '3 hours' where idempotency_key = $1`, [winner]);
      await env.db.query(`update first_labels set feedback_at = feedback_at - interval '3 hours' where prediction_id = $1`, [p]);
      const post = (body: object) => fetch(`${url}/v1/feedback`, { method: 'POST', headers: bearer(keys['honest-b']!), body: JSON.stringify(body) });
      const lost = await post({ predictionId: p, kind: 'label', label: 'b', idempotencyKey: `loser-${p}` });
      expect(lost.status).toBe(409);
      expect(((await lost.json()) as { error: string }).error).toMatch(/first label stands/);
      // The winner's client, its answer lost, retries through this gateway: the label is stored, so a repeat.
      const retry = await post({ predictionId: p, kind: 'label', label: 'a', idempotencyKey: winner });
      expect(retry.status).toBe(200);
      const { rows } = await env.db.query<{ label: string }>(`select label from feedback where prediction_id = $1`, [p]);
      expect(rows).toEqual([{ label: 'a' }]);
    } finally {
      await other.close();
    }
  });

  it("a burst on a version with no history yet (a canary's start) is judged against the model's served versions", async () => {
    // The gateway is done; this reads the same query it runs, against the same tables.
    await gateway.close();
    const fresh = Array.from({ length: 15 }, () => uuidv7());
    await env.db.query(
      `insert into predictions (id, model, version, latency_ms, outcome, predicted_label) select unnest($1::uuid[]), $2, '3', 5, 'ok', 'a'`,
      [fresh, model],
    );
    const items = fresh.map((predictionId) => ({ predictionId, kind: 'label' as const, value: null, label: 'b', event: null, comment: null, source: null, unitKey: null, idempotencyKey: null }));
    const forger = 'key:early-forger';
    // Version 3 has no labels from anyone else, and nothing says which versions are served: no history.
    expect(await clientContradictionFlags(env.db, forger, items)).toEqual(items.map(() => false));
    // Versions 1 and 2 are served (active deployments): their labels are the history.
    await env.db.query(
      `insert into deployments (model, version, onnx_uri, onnx_sha256, n_features, classes, state) values ($1, '1', 'file:///none', 'x', 4, '["a","b"]', 'active'), ($1, '2', 'file:///none', 'x', 4, '["a","b"]', 'active')`,
      [model],
    );
    expect(await clientContradictionFlags(env.db, forger, items)).toEqual(items.map(() => true));
    // Agreeing labels are not a contradiction, whatever the history.
    expect(await clientContradictionFlags(env.db, forger, items.map((it) => ({ ...it, label: 'a' })))).toEqual(items.map(() => false));
  });

  it("hands a batch's judged labels to the caller, and leaves the client's cached counts to the caller, which adds only stored labels", async () => {
    const ids = Array.from({ length: 3 }, () => uuidv7());
    await env.db.query(`insert into predictions (id, model, version, latency_ms, outcome, predicted_label) select unnest($1::uuid[]), $2, '1', 5, 'ok', 'a'`, [ids, model]);
    const items = ids.map((predictionId, i) => ({ predictionId, kind: 'label' as const, value: null, label: i === 0 ? 'a' : 'b', event: null, comment: null, source: null, unitKey: null, idempotencyKey: null }));
    const client = 'key:judged-by-caller';
    const mine = new MineCache(60_000);
    const wanted = new Map([[model, new Set(['1'])]]);
    let judged: JudgedLabel[] = [];
    await clientContradictionFlags(env.db, client, items, undefined, { mine, judged: (j) => (judged = j) });
    expect(judged.map((j) => [j.item, j.version, j.wrong])).toEqual([[0, '1', false], [1, '1', true], [2, '1', true]]);
    // Read, but nothing of this batch counted: it may yet be answered 503 and sent again.
    expect(mine.get(client, wanted, Date.now())).toEqual([]);
    // Once stored, the caller adds them (the gateway's route does so for the 201s), and the cache counts them.
    mine.judged(client, judged);
    expect(mine.get(client, wanted, Date.now())).toMatchObject([{ model, version: '1', labels: 3, contradicting: 2 }]);
  });

  it("judges a client against the other clients' labels, never its own, whichever client's check filled the shared cache", async () => {
    // Version 6: an honest client's 30 labels (3 contradicting) and a forger's 20 earlier
    // contradicting ones; then the forger's burst of 10 more.
    const honest = 'key:cache-honest';
    const forger = 'key:cache-forger';
    const ids = Array.from({ length: 62 }, () => uuidv7());
    await env.db.query(`insert into predictions (id, model, version, latency_ms, outcome, predicted_label) select unnest($1::uuid[]), $2, '6', 5, 'ok', 'a'`, [ids, model]);
    await env.db.query(
      `insert into feedback (prediction_id, kind, label, client_id) select id, 'label', case when n <= 3 or n > 30 then 'b' else 'a' end, case when n <= 30 then $2 else $3 end
         from unnest($1::uuid[]) with ordinality as t(id, n)`,
      [ids.slice(0, 50), honest, forger],
    );
    const item = (predictionId: string, label: string) => ({ predictionId, kind: 'label' as const, value: null, label, event: null, comment: null, source: null, unitKey: null, idempotencyKey: null });
    const burst = ids.slice(52).map((id) => item(id, 'b'));
    // Read afresh, the forger's history is the honest client's labels: a burst.
    expect(await clientContradictionFlags(env.db, forger, burst)).toEqual(burst.map(() => true));
    // With the cache the gateway shares between clients, filled by the honest client's check first:
    // the same verdict (before, the cache held "everyone but the honest client", the forger's own 20).
    const others = new OthersCache(60_000);
    expect(await clientContradictionFlags(env.db, honest, [item(ids[50]!, 'a')], undefined, { others })).toEqual([false]);
    expect(await clientContradictionFlags(env.db, forger, burst, undefined, { others })).toEqual(burst.map(() => true));
    // And the honest client, judged from the cache the forger's check left, is still not flagged.
    expect(await clientContradictionFlags(env.db, honest, [item(ids[51]!, 'b')], undefined, { others })).toEqual([false]);
  });

  it("leaves labels flagged as a burst out of the history, so a second key's burst is judged against the honest labels", async () => {
    // Version 7: an honest client's 30 labels (3 contradicting), a first forger key's 20
    // contradicting labels, stored flagged (as the gateway flagged them), then a second key's 10.
    const honest = 'key:collude-honest';
    const first = 'key:collude-first';
    const second = 'key:collude-second';
    const ids = Array.from({ length: 60 }, () => uuidv7());
    await env.db.query(`insert into predictions (id, model, version, latency_ms, outcome, predicted_label) select unnest($1::uuid[]), $2, '7', 5, 'ok', 'a'`, [ids, model]);
    await env.db.query(
      `insert into feedback (prediction_id, kind, label, client_id, quality, quality_flags)
       select id, 'label', case when n <= 3 or n > 30 then 'b' else 'a' end, case when n <= 30 then $2 else $3 end,
              case when n <= 30 then 1 else 0.1 end, case when n <= 30 then '{}'::text[] else '{client_burst_contradiction}'::text[] end
         from unnest($1::uuid[]) with ordinality as t(id, n)`,
      [ids.slice(0, 50), honest, first],
    );
    const burst = ids.slice(50).map((predictionId) => ({ predictionId, kind: 'label' as const, value: null, label: 'b', event: null, comment: null, source: null, unitKey: null, idempotencyKey: null }));
    // Counted as history, the first key's 20 would make 23 of 50 contradicting, and 10 of 10 no burst.
    expect(await clientContradictionFlags(env.db, second, burst)).toEqual(burst.map(() => true));
  });
});
