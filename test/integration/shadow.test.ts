/**
 * Shadow before exposure on the real stack (issue 15): a real gateway (throwaway database of the
 * running PostgreSQL) serves v1; v2 — the same model made worse on purpose (60 % of its labels
 * swapped, serving/faults.ts) — is shadowed at 100 % with the real `flywheel shadow start`. Callers
 * must get v1's answers only; v2's answers must be stored beside each served prediction and never
 * among the served predictions; once labels come back, `flywheel shadow status` must report v2's
 * lower accuracy on the same requests and judge it worse. A full shadow queue drops shadow runs
 * (counted), never a caller's request; `flywheel shadow stop` ends the mirroring at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFault } from '../../activities/traffic';
import { JsonClient } from '../../traffic/http';
import { runFlywheel } from './helpers/cli';
import { FEATURES, startLocalGateway, type LocalGateway } from './helpers/local-gateway';

let g: LocalGateway;
let client: JsonClient;
/** Small, so that a burst overflows it. */
const SHADOW_QUEUE = 4;
const savedQueue = process.env.FLYWHEEL_GATEWAY_SHADOW_QUEUE;

beforeAll(async () => {
  process.env.FLYWHEEL_GATEWAY_SHADOW_QUEUE = String(SHADOW_QUEUE);
  g = await startLocalGateway('shadow');
  client = new JsonClient(g.baseUrl, 16, { apiKey: g.apiKey });
  // v2: v1's ONNX, deployed without traffic, with most of its labels swapped.
  await g.db.query(`INSERT INTO deployments (model, version, onnx_uri, onnx_sha256, n_features, classes, state)
    SELECT model, '2', onnx_uri, onnx_sha256, n_features, classes, 'active' FROM deployments WHERE model = $1 AND version = '1'`, [g.model]);
  await setFault(g.db, { model: g.model, version: '2', wrongLabelRate: 0.6 });
});

afterAll(async () => {
  if (savedQueue === undefined) delete process.env.FLYWHEEL_GATEWAY_SHADOW_QUEUE;
  else process.env.FLYWHEEL_GATEWAY_SHADOW_QUEUE = savedQueue;
  client?.close();
  await g?.close();
});

const cli = (args: string[]) => runFlywheel(args, { DATABASE_URL: g.dbUrl });

async function until(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function count(sql: string): Promise<number> {
  const { rows } = await g.db.query<{ n: number }>(sql, [g.model]);
  return rows[0]!.n;
}

describe('flywheel shadow', () => {
  let v1Label: string;

  it('refuses at the edge what cannot be shadowed, with one line and exit 2', async () => {
    const missing = await cli(['shadow', 'start', g.model, '9']);
    expect([missing.code, missing.out.trim()]).toEqual([2, `flywheel: model ${g.model} version 9 is not deployed: deploy it first (flywheel deploy ${g.model} 9); it gets no traffic`]);
    const serving = await cli(['shadow', 'start', g.model, '1']);
    expect([serving.code, serving.out.trim()]).toEqual([2, `flywheel: model ${g.model} version 1 already serves all traffic: there is nothing to compare it with`]);
    const share = await cli(['shadow', 'start', g.model, '2', '--share', '150%']);
    expect([share.code, share.out.trim()]).toEqual([2, 'flywheel: --share: "150%" must be a share above 0 and at most 100 %, like 100%, 25% or 0.25']);
    const none = await cli(['shadow', 'status', g.model]);
    expect(none.code).toBe(2);
  }, 60_000);

  it('answers callers with the serving version only, stores the shadow’s answers apart, and judges the worse shadow worse on the same labelled requests', async () => {
    const started = await cli(['shadow', 'start', g.model, '2', '--share', '100%', '--json']);
    expect(started.code, started.out).toBe(0);
    expect(JSON.parse(started.out)).toMatchObject({ created: true, shadow: { model: g.model, version: '2', share: 1, stoppedAt: null } });
    // Through NOTIFY (or the poll): the gateway mirrors from now on.
    await until('gateway sees the shadow', () => g.gateway.shadow.pick(g.model, '1') === '2');

    const ids: string[] = [];
    const served = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await client.post(`/v1/models/${g.model}/predict`, { instances: Array.from({ length: 100 }, () => FEATURES) });
      expect(res.status).toBe(200);
      const b = res.body as { version: string; predictionIds: string[]; labels: string[] };
      expect(b.version).toBe('1');
      ids.push(...b.predictionIds);
      for (const l of b.labels) served.add(l);
    }
    // v1 has no fault: one input, one label. A swapped shadow label reaching a caller would show here.
    expect(served.size).toBe(1);
    v1Label = [...served][0]!;
    await g.gateway.recorder.flush();
    await g.gateway.shadow.flush();

    expect(await count(`SELECT count(*)::int AS n FROM shadow_predictions WHERE model = $1 AND version = '2'`)).toBe(300);
    // Shadow answers never count as served predictions.
    expect(await count(`SELECT count(*)::int AS n FROM predictions WHERE model = $1 AND version = '2'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM predictions WHERE model = $1`)).toBe(300);
    const wrong = await count(`SELECT count(*)::int AS n FROM shadow_predictions WHERE model = $1 AND predicted_label <> '${v1Label}'`);
    expect(wrong).toBeGreaterThan(120); // 60 % swapped: about 180 of 300
    expect(wrong).toBeLessThan(240);

    // The true label is what v1 said: v1 is right on every request, v2 wrong where it differed.
    const fb = await client.post('/v1/feedback/batch', { items: ids.map((predictionId) => ({ predictionId, kind: 'label', label: v1Label })) });
    expect((fb.body as { stored: number }).stored).toBe(300);

    const status = await cli(['shadow', 'status', g.model, '--json']);
    expect(status.code, status.out).toBe(0);
    const s = JSON.parse(status.out) as {
      running: boolean;
      pairs: number;
      agreement: number;
      served: { correct: number; labelled: number; accuracy: number };
      shadow: { correct: number; labelled: number; accuracy: number };
      latencyMs: { shadow: { p50: number | null; p99: number | null } };
      judgement: { verdict: string; reason: string };
    };
    expect(s).toMatchObject({ running: true, pairs: 300, served: { correct: 300, labelled: 300, accuracy: 1 }, shadow: { correct: 300 - wrong, labelled: 300 } });
    expect(s.agreement).toBeCloseTo((300 - wrong) / 300);
    expect(s.latencyMs.shadow.p99).not.toBeNull();
    expect(s.judgement.verdict).toBe('worse');
    expect(s.judgement.reason).toMatch(/^accuracy: only the shadow wrong label on \d+, only the serving version on 0 labelled requests: shadow worse/);

    const text = await cli(['shadow', 'status', g.model]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/serving accuracy:\s+1\.0000 \(300\/300\)/);
    expect(text.out).toMatch(/verdict:\s+worse: /);

    const metrics = await client.request('GET', '/metrics');
    expect(String(metrics.body)).toContain(`flywheel_gateway_shadow_rows_total{model="${g.model}",version="2",outcome="ok"} 300`);
  }, 120_000);

  it('drops shadow runs past the queue bound, counted, and never a caller’s request', async () => {
    // A slow shadow: runs pile up behind it while callers are answered at once.
    await setFault(g.db, { model: g.model, version: '2', extraLatencyMs: 1000 });
    await until('gateway sees the slow shadow', () => g.gateway.catalog.route(g.model)?.versions.find((v) => v.version === '2')?.fault?.extraLatencyMs === 1000);
    const burst = await Promise.all(Array.from({ length: 40 }, () => client.post(`/v1/models/${g.model}/predict`, { features: FEATURES })));
    expect(burst.map((r) => r.status)).toEqual(burst.map(() => 200));
    expect(new Set(burst.map((r) => (r.body as { version: string; label: string }).version + (r.body as { label: string }).label))).toEqual(new Set([`1${v1Label}`]));
    const metrics = String((await client.request('GET', '/metrics')).body);
    const dropped = Number(new RegExp(`flywheel_gateway_shadow_dropped_rows_total\\{model="${g.model}",reason="queue-full"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect(dropped).toBeGreaterThan(0);
    await g.gateway.shadow.flush();
    await setFault(g.db, { model: g.model, version: '2', wrongLabelRate: 0.6 });
  }, 60_000);

  it('stops at once, attributed, and the audit trail names who started and stopped it', async () => {
    const stopped = await cli(['shadow', 'stop', g.model, '--reason', 'seen enough', '--json']);
    expect(stopped.code, stopped.out).toBe(0);
    expect(JSON.parse(stopped.out)).toMatchObject({ stopped: { version: '2', stopReason: 'seen enough' } });
    await until('gateway stops mirroring', () => g.gateway.shadow.pick(g.model, '1') === undefined);
    const before = await count(`SELECT count(*)::int AS n FROM shadow_predictions WHERE model = $1`);
    const res = await client.post(`/v1/models/${g.model}/predict`, { instances: Array.from({ length: 10 }, () => FEATURES) });
    expect(res.status).toBe(200);
    await g.gateway.shadow.flush();
    expect(await count(`SELECT count(*)::int AS n FROM shadow_predictions WHERE model = $1`)).toBe(before);

    const again = await cli(['shadow', 'stop', g.model]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/none running/);

    const { rows } = await g.db.query<{ action: string; actor: string; outcome: string }>(
      `SELECT action, actor, outcome FROM audit_log WHERE target LIKE $1 AND action LIKE 'shadow.%' ORDER BY id`,
      [`model:${g.model}%`],
    );
    expect(rows.filter((r) => r.outcome === 'ok').map((r) => r.action)).toEqual(['shadow.start', 'shadow.stop', 'shadow.stop']);
    expect(rows.every((r) => /^(cli|oidc):/.test(r.actor))).toBe(true);
    const d = await g.db.query<{ started_by: string; stopped_by: string }>('SELECT started_by, stopped_by FROM shadow_deployments WHERE model = $1', [g.model]);
    expect(d.rows).toHaveLength(1);
    expect(d.rows[0]!.started_by).toMatch(/^(cli|oidc):/);
    expect(d.rows[0]!.stopped_by).toBe(d.rows[0]!.started_by);
  }, 60_000);
});
