/**
 * Who may do what on the gateway, on the real stack: every route × {no credentials, malformed,
 * expired, wrong issuer, wrong audience, wrong scope, revoked key, valid} against a gateway with
 * authentication on, API keys from the real key store (PostgreSQL) and OIDC tokens from a real
 * issuer over HTTP (a local JWKS issuer with jose-generated keys, and Keycloak when installed:
 * scripts/stack/keycloak.ts). Then: forged feedback changes nothing, first label wins, feedback
 * for predictions never made is refused, revocation takes effect within the key cache window, and
 * rate limits count per client.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../clients/api-keys';
import { PROJECT_ROOT, type GatewayAuthConfig } from '../../config/index';
import { ensureCliKey } from '../../scripts/stack/cli-key';
import { clientApiKey } from '../../traffic/credentials';
import { createGateway, type Gateway } from '../../serving/app';
import { FeedbackGuard } from '../../serving/feedback-guard';
import { uuidv7 } from '../../serving/uuid';
import { keycloakAvailable, startKeycloak, type RunningKeycloak } from '../../scripts/stack/keycloak';
import { ensureMigrated, testApiKey } from './helpers/auth';
import { openTestEnv, type TestEnv } from './helpers/env';
import { startLocalIssuer, type LocalIssuer } from './helpers/oidc-issuer';

let env: TestEnv;
let issuer: LocalIssuer;
let gateway: Gateway;
let url: string;
const run = randomUUID().slice(0, 8);
const model = `auth-matrix-${run}`;
let predictionId: string;
const keys: Record<string, string> = {};

type Scope = 'predict' | 'feedback' | 'metrics' | 'public';
interface Route {
  method: 'GET' | 'POST';
  path: () => string;
  body?: () => unknown;
  scope: Scope;
  /** What a valid credential gets: the route itself answering. */
  ok: number;
}

// Feedback bodies name a real prediction (inserted below); predict routes name a model that is
// not deployed, so a request that passes authentication is answered 404 by the route itself.
const ROUTES: Route[] = [
  { method: 'POST', path: () => `/v1/models/${model}/predict`, body: () => ({ features: [1, 2, 3, 4] }), scope: 'predict', ok: 404 },
  { method: 'POST', path: () => `/v1/online/${model}/predict`, body: () => ({ features: [1, 2, 3, 4] }), scope: 'predict', ok: 404 },
  { method: 'GET', path: () => '/v1/models', scope: 'predict', ok: 200 },
  { method: 'GET', path: () => '/v1/online', scope: 'predict', ok: 200 },
  { method: 'POST', path: () => '/v1/feedback', body: () => ({ predictionId, kind: 'click' }), scope: 'feedback', ok: 201 },
  { method: 'POST', path: () => '/v1/feedback/batch', body: () => ({ items: [{ predictionId, kind: 'dwell', value: 3 }] }), scope: 'feedback', ok: 200 },
  { method: 'GET', path: () => '/metrics', scope: 'metrics', ok: 200 },
  { method: 'GET', path: () => '/healthz', scope: 'public', ok: 200 },
  // The HTTP contract (serving/contract.ts): public, like /healthz.
  { method: 'GET', path: () => '/openapi.json', scope: 'public', ok: 200 },
  { method: 'GET', path: () => '/docs', scope: 'public', ok: 200 },
];

/** A key/token holding a scope other than the one the route needs. */
const WRONG_SCOPE: Record<Exclude<Scope, 'public'>, 'predict' | 'feedback' | 'metrics'> = { predict: 'metrics', feedback: 'predict', metrics: 'feedback' };

async function call(base: string, r: Route, headers: Record<string, string>): Promise<{ status: number; body: { error?: string } }> {
  const res = await fetch(`${base}${r.path()}`, {
    method: r.method,
    headers: { ...headers, ...(r.body ? { 'content-type': 'application/json' } : {}) },
    body: r.body ? JSON.stringify(r.body()) : undefined,
  });
  const text = await res.text();
  let body: { error?: string } = {};
  try {
    body = JSON.parse(text) as { error?: string };
  } catch {
    /* /metrics is text */
  }
  return { status: res.status, body };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function authGateway(auth: Partial<GatewayAuthConfig>): Promise<{ gateway: Gateway; url: string }> {
  const g = await createGateway(
    { ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 5_000, auth: { ...env.config.gateway.auth, enabled: true, ...auth } } },
    { port: 0, logger: false },
  );
  return { gateway: g, url: await g.listen() };
}

beforeAll(async () => {
  env = await openTestEnv('auth');
  await ensureMigrated(env);
  issuer = await startLocalIssuer();
  for (const s of ['predict', 'feedback', 'metrics'] as const) keys[s] = await testApiKey(env, `matrix-${s}`, [s]);
  keys['all'] = await testApiKey(env, 'matrix-all');
  keys['revoked'] = await testApiKey(env, 'matrix-revoked');
  await revokeApiKey(env.db, keys['revoked']!.split('_')[1]!);
  keys['expired'] = (await createApiKey(env.db, { name: 'test:matrix-expired', scopes: ['predict', 'feedback', 'metrics'], expiresAt: new Date(Date.now() - 1000) })).key;
  keys['other-model'] = await testApiKey(env, 'matrix-other-model', ['predict'], { models: ['some-other-model'] });
  predictionId = uuidv7();
  await env.db.query(`INSERT INTO predictions (id, model, version, latency_ms, outcome, predicted_label) VALUES ($1, $2, '1', 1, 'ok', 'a')`, [predictionId, model]);
  ({ gateway, url } = await authGateway({ keyCacheMs: 500, oidc: { issuer: issuer.issuer, audience: 'flywheel-gateway', clockToleranceS: 2 } }));
});

afterAll(async () => {
  await gateway?.close();
  await issuer?.close();
  await env?.close();
});

describe('authorisation matrix (API keys, local OIDC issuer)', () => {
  // Each credential case → how to make it for a route, and the status every protected route must give.
  const cases: Array<{ name: string; headers: (r: Route) => Promise<Record<string, string>>; expect: (r: Route) => number }> = [
    { name: 'no credentials', headers: async () => ({}), expect: () => 401 },
    { name: 'malformed header', headers: async () => ({ authorization: 'Basic dXNlcjpwYXNz' }), expect: () => 401 },
    { name: 'malformed key', headers: async () => bearer('fw_not-a-key'), expect: () => 401 },
    { name: 'forged key (right shape, unknown)', headers: async () => bearer(`fw_${'0'.repeat(16)}_${'A'.repeat(43)}`), expect: () => 401 },
    { name: 'malformed token', headers: async () => bearer('eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln'), expect: () => 401 },
    { name: 'expired key', headers: async () => bearer(keys['expired']!), expect: () => 401 },
    { name: 'revoked key', headers: async () => bearer(keys['revoked']!), expect: () => 401 },
    { name: 'expired token', headers: async () => bearer(await issuer.token({ azp: 'svc', scope: 'predict feedback metrics' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 })), expect: () => 401 },
    { name: 'wrong issuer', headers: async () => bearer(await issuer.token({ azp: 'svc', scope: 'predict feedback metrics' }, { issuer: 'http://evil.example/realms/flywheel' })), expect: () => 401 },
    { name: 'wrong audience', headers: async () => bearer(await issuer.token({ azp: 'svc', scope: 'predict feedback metrics' }, { audience: 'another-api' })), expect: () => 401 },
    { name: 'token signed by a stranger key', headers: async () => bearer(await issuer.token({ azp: 'svc', scope: 'predict feedback metrics' }, { key: 'stranger' })), expect: () => 401 },
    { name: 'wrong scope (key)', headers: async (r) => bearer(keys[r.scope === 'public' ? 'all' : WRONG_SCOPE[r.scope]]!), expect: () => 403 },
    { name: 'wrong scope (token)', headers: async (r) => bearer(await issuer.token({ azp: 'svc', scope: r.scope === 'public' ? '' : WRONG_SCOPE[r.scope] })), expect: () => 403 },
    { name: 'valid key', headers: async () => bearer(keys['all']!), expect: (r) => r.ok },
    { name: 'valid key in x-api-key', headers: async () => ({ 'x-api-key': keys['all']! }), expect: (r) => r.ok },
    { name: 'valid token (scope claim)', headers: async () => bearer(await issuer.token({ azp: 'svc', scope: 'openid predict feedback metrics' })), expect: (r) => r.ok },
    { name: 'valid token (realm roles)', headers: async () => bearer(await issuer.token({ azp: 'svc', realm_access: { roles: ['admin'] } })), expect: (r) => r.ok },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const r of ROUTES) {
        const res = await call(url, r, await c.headers(r));
        const expected = r.scope === 'public' ? 200 : c.expect(r);
        got.push(`${r.method} ${r.path()} ${res.status}`);
        want.push(`${r.method} ${r.path()} ${expected}`);
        if (res.status === 401 || res.status === 403) {
          // One line of JSON with a reason, never a stack trace.
          expect(Object.keys(res.body)).toEqual(['error']);
          expect(res.body.error).not.toMatch(/\n|at .*\.ts:/);
        }
      }
      expect(got).toEqual(want);
    });
  }

  it('a key restricted to other models may not predict with this one', async () => {
    const res = await call(url, ROUTES[0]!, bearer(keys['other-model']!));
    expect(res.status).toBe(403);
    expect(res.body.error).toContain(`may not use model ${model}`);
  });

  it('a revoked key stops working within the key cache window', async () => {
    const key = await testApiKey(env, 'matrix-revoke-live');
    expect((await call(url, ROUTES[2]!, bearer(key))).status).toBe(200);
    // The key is verified and kept for the window; the same id with another secret is not let through by it.
    const forged = key.slice(0, -4) + (key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await call(url, ROUTES[2]!, bearer(forged))).status).toBe(401);
    expect((await call(url, ROUTES[2]!, bearer(key))).status).toBe(200);
    await revokeApiKey(env.db, key.split('_')[1]!);
    await new Promise((r) => setTimeout(r, 700)); // keyCacheMs 500
    const res = await call(url, ROUTES[2]!, bearer(key));
    expect(res.status).toBe(401);
    expect(res.body.error).toContain('revoked');
  });

  it('follows a key rotation at the issuer (the JWKS is fetched again for an unknown kid)', async () => {
    // jose fetches the JWKS again at most once per cooldown (serving/auth.ts JWKS_COOLDOWN_MS).
    await new Promise((r) => setTimeout(r, 5_100));
    const before = issuer.jwksFetches();
    await issuer.rotate();
    const res = await call(url, ROUTES[2]!, bearer(await issuer.token({ azp: 'svc', scope: 'predict' })));
    expect(res.status).toBe(200);
    expect(issuer.jwksFetches()).toBe(before + 1);
  });
});

describe('feedback nobody can forge', () => {
  const count = async (pid: string) => (await env.db.query<{ n: number }>('SELECT count(*)::int AS n FROM feedback WHERE prediction_id = $1', [pid])).rows[0]!.n;

  it('unauthenticated or unscoped labels are refused and nothing is stored', async () => {
    const pid = uuidv7();
    await env.db.query(`INSERT INTO predictions (id, model, version, latency_ms, outcome, predicted_label) VALUES ($1, $2, '1', 1, 'ok', 'a')`, [pid, model]);
    const label = { method: 'POST' as const, path: () => '/v1/feedback', body: () => ({ predictionId: pid, kind: 'label', label: 'b' }), scope: 'feedback' as const, ok: 201 };
    const batch = { ...label, path: () => '/v1/feedback/batch', body: () => ({ items: Array.from({ length: 50 }, () => ({ predictionId: pid, kind: 'label', label: 'b' })) }) };
    expect((await call(url, label, {})).status).toBe(401);
    expect((await call(url, batch, {})).status).toBe(401);
    expect((await call(url, label, bearer(`fw_${'1'.repeat(16)}_${'B'.repeat(43)}`))).status).toBe(401);
    expect((await call(url, label, bearer(keys['predict']!))).status).toBe(403);
    expect((await call(url, label, bearer(await issuer.token({ azp: 'forger', scope: 'feedback' }, { key: 'stranger' })))).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(await count(pid)).toBe(0);
    // An honest client's label is stored, with who sent it.
    expect((await call(url, label, bearer(keys['feedback']!))).status).toBe(201);
    const { rows } = await env.db.query<{ client_id: string }>('SELECT client_id FROM feedback WHERE prediction_id = $1', [pid]);
    expect(rows).toEqual([{ client_id: `key:${keys['feedback']!.split('_')[1]}` }]);
  });

  it('first label wins: a second label is refused (409), a retry of the first is a repeat (200)', async () => {
    const pid = uuidv7();
    await env.db.query(`INSERT INTO predictions (id, model, version, latency_ms, outcome, predicted_label) VALUES ($1, $2, '1', 1, 'ok', 'a')`, [pid, model]);
    const post = (label: string, key: string) =>
      call(url, { method: 'POST', path: () => '/v1/feedback', body: () => ({ predictionId: pid, kind: 'label', label, idempotencyKey: key }), scope: 'feedback', ok: 201 }, bearer(keys['feedback']!));
    expect((await post('a', `${run}-first`)).status).toBe(201);
    const second = await post('b', `${run}-second`);
    expect(second.status).toBe(409);
    expect(second.body.error).toContain('first label stands');
    expect((await post('a', `${run}-first`)).status).toBe(200);
    const { rows } = await env.db.query<{ label: string }>(`SELECT label FROM feedback WHERE prediction_id = $1 AND kind = 'label'`, [pid]);
    expect(rows).toEqual([{ label: 'a' }]);
  });

  it('feedback for a prediction never made is refused (404), and nothing is stored', async () => {
    // That it is not held for the grace window is lib/feedback/grace.ts's rule, unit-tested there.
    const old = uuidv7(Date.now() - 60_000);
    const res = await call(url, { method: 'POST', path: () => '/v1/feedback', body: () => ({ predictionId: old, kind: 'label', label: 'a' }), scope: 'feedback', ok: 201 }, bearer(keys['feedback']!));
    expect(res.status).toBe(404);
    expect(await count(old)).toBe(0);
  });

  it('holds a fresh unknown id for the grace window: a prediction written meanwhile (another replica) is found', async () => {
    const pid = uuidv7();
    setTimeout(() => void env.db.query(`INSERT INTO predictions (id, model, version, latency_ms, outcome, predicted_label) VALUES ($1, $2, '1', 1, 'ok', 'a')`, [pid, model]), 400);
    const res = await call(url, { method: 'POST', path: () => '/v1/feedback', body: () => ({ predictionId: pid, kind: 'click' }), scope: 'feedback', ok: 201 }, bearer(keys['feedback']!));
    expect(res.status).toBe(201);
  });

  it('a label that is not one of the model version\'s classes is refused (422)', async () => {
    const pid = uuidv7();
    const guard = new FeedbackGuard(env.db, { recent: (id) => (id === pid ? ['setosa', 'versicolor', 'virginica'] : undefined), classesOf: () => undefined, graceMs: 100 });
    const item = { predictionId: pid, kind: 'label' as const, value: null, event: null, comment: null, source: null, unitKey: null, idempotencyKey: null };
    const [bad, good] = await guard.check([{ ...item, label: 'not-a-species' }, { ...item, label: 'setosa' }]);
    expect(bad).toMatchObject({ status: 422, message: expect.stringContaining("not one of the model's classes") });
    expect(good).toBeUndefined();
  });
});

describe('rate limits', () => {
  it('count per authenticated client: one client is limited, another is not', async () => {
    const { gateway: g, url: u } = await authGateway({ rateLimitPerMinute: 3 });
    try {
      const a = await testApiKey(env, 'rate-a');
      const b = await testApiKey(env, 'rate-b');
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(u, ROUTES[2]!, bearer(a))).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await call(u, ROUTES[2]!, bearer(a));
      expect(limited.body.error).toMatch(/^rate limit: key:[0-9a-f]{16} may send 3 requests per minute/);
      expect((await call(u, ROUTES[2]!, bearer(b))).status).toBe(200);
      expect((await call(u, ROUTES[7]!, {})).status).toBe(200); // /healthz is never limited
    } finally {
      await g.close();
    }
  });
});

describe('the local CLI key and `flywheel keys` / `flywheel audit`', () => {
  function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...extraEnv } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  it('flywheel up\'s key: created once, 0600 in a 0700 folder, read by clients, accepted by the gateway', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-cred-'));
    const config = { ...env.config, dataDir };
    const { apiKey: _, ...noEnvKey } = config;
    const first = await ensureCliKey(noEnvKey);
    expect(first.state).toBe('created');
    expect((await ensureCliKey(noEnvKey)).state).toBe('present');
    expect(fs.statSync(first.file!).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(first.file!)).mode & 0o777).toBe(0o700);
    const key = clientApiKey(noEnvKey)!;
    expect(key).toMatch(/^fw_[0-9a-f]{16}_/);
    expect(clientApiKey({ ...noEnvKey, apiKey: 'fw_from_env' })).toBe('fw_from_env');
    expect((await call(url, ROUTES[6]!, bearer(key))).status).toBe(200); // admin: /metrics too
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates, lists and revokes keys with --json, refuses bad input with exit 2, and audits it', async () => {
    const name = `cli-${run}`;
    const created = await cli(['keys', 'create', '--name', name, '--scopes', 'predict,feedback', '--expires-in', '1d', '--json']);
    expect(created.code).toBe(0);
    const k = JSON.parse(created.stdout) as { key: string; id: string; scopes: string[] };
    expect(k.scopes).toEqual(['predict', 'feedback']);
    expect((await call(url, ROUTES[2]!, bearer(k.key))).status).toBe(200);
    const listed = JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as { keys: Array<{ id: string }> };
    expect(listed.keys.some((x) => x.id === k.id)).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(k.key.slice(20));
    const bad = await cli(['keys', 'create', '--name', name, '--scopes', 'predict,root']);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, "flywheel: --scopes: unknown scope 'root' (one of predict, feedback, admin, metrics)"]);
    expect((await cli(['keys', 'revoke', 'not-an-id'])).code).toBe(2);
    expect((await cli(['keys', 'revoke', k.id, '--json'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 700));
    expect((await call(url, ROUTES[2]!, bearer(k.key))).status).toBe(401);
    const audit = JSON.parse((await cli(['audit', '--limit', '50', '--json'])).stdout) as { entries: Array<{ action: string; target: string; outcome: string }> };
    const mine = audit.entries.filter((e) => e.target === `key:${k.id}`).map((e) => `${e.action} ${e.outcome}`);
    expect(mine).toEqual(['keys.revoke ok', 'keys.create ok']);
  });
});

describe.skipIf(!keycloakAvailable())('authorisation with Keycloak tokens (real IdP)', () => {
  let kc: RunningKeycloak;
  let g: Gateway;
  let u: string;

  beforeAll(async () => {
    kc = await startKeycloak(env.config);
    // 1 s of skew: exp has one-second resolution, so a 1 s token may have under a second left when issued.
    ({ gateway: g, url: u } = await authGateway({ oidc: { issuer: kc.issuer, audience: 'flywheel-gateway', clockToleranceS: 1 } }));
  }, 420_000);

  afterAll(async () => {
    await g?.close();
    await kc?.stop();
  });

  it('service tokens (client credentials) and an operator token (password grant) are accepted by scope', async () => {
    const service = await kc.clientToken('flywheel-service', 'dev-only-service-secret');
    const metrics = await kc.clientToken('flywheel-metrics', 'dev-only-metrics-secret');
    const operator = await kc.passwordToken('flywheel-cli', 'operator', 'dev-only-operator-password');
    for (const r of ROUTES) {
      const expected = r.scope === 'public' ? 200 : r.scope === 'metrics' ? 403 : r.ok;
      expect(`${r.path()} ${(await call(u, r, bearer(service))).status}`).toBe(`${r.path()} ${expected}`);
      expect(`${r.path()} ${(await call(u, r, bearer(operator))).status}`).toBe(`${r.path()} ${r.ok}`);
      const m = r.scope === 'public' || r.scope === 'metrics' ? r.ok : 403;
      expect(`${r.path()} ${(await call(u, r, bearer(metrics))).status}`).toBe(`${r.path()} ${m}`);
    }
  });

  it('refuses wrong audience, wrong issuer, expired and absent tokens', async () => {
    const other = await kc.clientToken('other-app', 'dev-only-other-secret');
    const viaLocalhost = await kc.clientToken('flywheel-service', 'dev-only-service-secret', kc.issuer.replace('127.0.0.1', 'localhost'));
    const r = ROUTES[2]!;
    // Lives 1 s (realm: access.token.lifespan): asked for right before it is used.
    const short = await kc.clientToken('flywheel-short-lived', 'dev-only-short-secret');
    expect((await call(u, r, bearer(short))).status).toBe(200);
    const a = await call(u, r, bearer(other));
    expect([a.status, a.body.error]).toEqual([401, 'token is not meant for this gateway (audience)']);
    const i = await call(u, r, bearer(viaLocalhost));
    expect([i.status, i.body.error]).toEqual([401, 'token was not issued by the accepted issuer']);
    await new Promise((res) => setTimeout(res, 3_300)); // lifespan 1 s + skew 1 s + exp's rounding
    const e = await call(u, r, bearer(short));
    expect([e.status, e.body.error]).toEqual([401, 'token has expired']);
    expect((await call(u, r, {})).status).toBe(401);
  });
});
