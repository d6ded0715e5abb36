/**
 * The gateway's HTTP contract (serving/contract.ts, serving/schemas.ts), on a real gateway with
 * authentication on: /openapi.json lists every route fastify has registered, each with its
 * schemas; every error answers one body, `{ error, field? }`; and the single feedback route takes
 * every channel the batch route takes (one item schema for both), stored as sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBody } from '../../serving/schemas';
import { FEATURES, startLocalGateway, type LocalGateway } from './helpers/local-gateway';

let g: LocalGateway;

beforeAll(async () => {
  g = await startLocalGateway('contract');
});

afterAll(async () => {
  await g?.close();
});

async function send(method: string, route: string, init: { body?: string | Uint8Array; type?: string; key?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (init.key !== null) headers['authorization'] = `Bearer ${init.key ?? g.apiKey}`;
  if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
  const res = await fetch(`${g.baseUrl}${route}`, { method, headers, body: init.body });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body };
}

/** The routes fastify has registered, read from its own route tree (printRoutes), HEAD left out. */
function registeredRoutes(): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of g.gateway.app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│├└─\s]*)(\S[^(]*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = Math.floor(m[1]!.length / 4);
    stack.length = depth;
    stack.push(m[2]!.trim());
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) out.push(`${method} ${stack.join('')}`);
  }
  return out.sort();
}

describe('the OpenAPI document', () => {
  it('lists every registered route, each with its schemas, and needs no credential', async () => {
    const res = await send('GET', '/openapi.json', { key: null });
    expect(res.status).toBe(200);
    const doc = res.body as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, { content?: Record<string, { schema: unknown }> }>; security: unknown[] }>> };
    expect(doc.openapi).toMatch(/^3\.0\./);
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`))
      .sort();
    const registered = registeredRoutes();
    expect(registered.length).toBeGreaterThanOrEqual(10);
    expect(documented).toEqual(registered);
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const where = `${m.toUpperCase()} ${p}`;
        // A route declared without a response schema is documented as `default: undocumented`.
        expect(op.responses['default'], where).toBeUndefined();
        const ok = Object.keys(op.responses).filter((c) => c.startsWith('2'));
        expect(ok.length, where).toBeGreaterThan(0);
        for (const c of ok) expect(op.responses[c]!.content, where).toBeDefined();
        if (m === 'post') expect(op.requestBody, where).toBeDefined();
        const isPublic = ['/healthz', '/openapi.json', '/docs'].includes(p);
        expect(op.security.length === 0, where).toBe(isPublic);
      }
    }
    // The document states what the checks do: the single feedback route takes every channel.
    const single = JSON.stringify(doc.paths['/v1/feedback']!['post']!.requestBody);
    for (const kind of ['copy', 'event', 'comment']) expect(single).toContain(`"${kind}"`);
  });

  it('serves a self-contained docs page without credentials', async () => {
    const res = await send('GET', '/docs', { key: null });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/html/);
    expect(res.body).toContain("fetch('openapi.json')");
    // No asset from elsewhere: the gateway may have no outside network.
    expect(res.body).not.toMatch(/(src|href)="https?:/);
    // Its script renders every operation of the document (run here with the document it would fetch).
    const doc = (await send('GET', '/openapi.json', { key: null })).body as { paths: Record<string, Record<string, unknown>> };
    const script = /<script>([\s\S]*?)<\/script>/.exec(res.body as string)![1]!;
    const el = { innerHTML: '', textContent: '' };
    const fakeFetch = async () => ({ json: async () => doc });
    new Function('fetch', 'document', script)(fakeFetch, { getElementById: () => el });
    for (let i = 0; i < 10 && el.innerHTML === ''; i++) await new Promise((r) => setImmediate(r));
    expect(el.textContent).toBe('');
    for (const [p, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) expect(el.innerHTML).toContain(`${m.toUpperCase()}</span> <code>${p}</code>`);
  });
});

describe('one error body everywhere', () => {
  it('validation, fastify’s own refusals, bad URLs, unknown routes, auth and route errors', async () => {
    const predict = `/v1/models/${g.model}/predict`;
    const big = JSON.stringify({ unitKey: 'x'.repeat(2 * 1024 * 1024), features: FEATURES });
    const invalidUtf8 = Uint8Array.from([...Buffer.from('{"unitKey":"'), 0xc3, 0x28, ...Buffer.from('","features":[1,2,3,4]}')]);
    const cases: Array<[string, Awaited<ReturnType<typeof send>>, number, string | undefined]> = [
      ['schema', await send('POST', predict, { body: '{"features":"x"}' }), 400, 'features'],
      ['row length', await send('POST', predict, { body: '{"features":[1,2]}' }), 400, 'features'],
      ['NUL', await send('POST', predict, { body: JSON.stringify({ unitKey: 'a\u0000', features: FEATURES }) }), 400, 'unitKey'],
      ['lone surrogate', await send('POST', predict, { body: '{"unitKey":"\\udc00","features":[1,2,3,4]}' }), 400, 'unitKey'],
      ['invalid UTF-8', await send('POST', predict, { body: invalidUtf8 }), 400, 'body'],
      ['malformed JSON', await send('POST', predict, { body: '{"features": [1,' }), 400, 'body'],
      ['too large', await send('POST', predict, { body: big }), 413, 'body'],
      ['media type', await send('POST', predict, { body: '<x/>', type: 'application/xml' }), 415, 'body'],
      ['bad URL', await send('GET', '/v1/models%ED%A0%80'), 400, 'url'],
      ['unknown route', await send('GET', '/v1/nothing-here'), 404, undefined],
      ['unknown route, no credential', await send('GET', '/v1/nothing-here', { key: null }), 401, undefined],
      ['no credential', await send('POST', predict, { body: '{}', key: null }), 401, undefined],
      ['unknown model', await send('POST', '/v1/models/no-such-model/predict', { body: JSON.stringify({ features: FEATURES }) }), 404, undefined],
      ['unknown prediction', await send('POST', '/v1/feedback', { body: JSON.stringify({ predictionId: '01a2185b-2c3b-7e20-a48c-d90d344c29d7', kind: 'click' }) }), 404, undefined],
      ['unknown online model', await send('POST', '/v1/online/nope/predict', { body: JSON.stringify({ features: FEATURES }) }), 404, undefined],
    ];
    for (const [name, res, status, field] of cases) {
      expect([name, res.status, res.type.split(';')[0]]).toEqual([name, status, 'application/json']);
      // Exactly the documented shape: no statusCode, code or message from fastify's defaults.
      const parsed = errorBody.strict().safeParse(res.body);
      expect(parsed.success, `${name}: ${JSON.stringify(res.body)}`).toBe(true);
      expect([name, (res.body as { field?: string }).field]).toEqual([name, field]);
      if (field && field !== 'url') expect((res.body as { error: string }).error.startsWith(`${field}: `), name).toBe(true);
    }
    // Refusals are still counted per route: by its schema (features, NUL, lone surrogate), by the route (row length, unknown model).
    const metrics = (await send('GET', '/metrics')).body as string;
    expect(metrics).toContain('flywheel_gateway_bad_requests_total{route="predict"} 5');
  });
});

describe('the single feedback route', () => {
  it('takes every channel the batch route takes, and stores it as sent', async () => {
    const p = await send('POST', `/v1/models/${g.model}/predict`, { body: JSON.stringify({ unitKey: 'contract-u', features: FEATURES }) });
    expect(p.status).toBe(200);
    const predictionId = (p.body as { predictionId: string }).predictionId;
    const items = [
      { predictionId, kind: 'copy', source: 'web', unitKey: 'contract-u', idempotencyKey: 'contract-copy' },
      { predictionId, kind: 'event', event: 'add_to_cart', value: 2, idempotencyKey: 'contract-event' },
      { predictionId, kind: 'comment', comment: 'a clear, helpful answer 😀', idempotencyKey: 'contract-comment' },
    ];
    for (const it of items) {
      const res = await send('POST', '/v1/feedback', { body: JSON.stringify(it) });
      expect([it.kind, res.status]).toEqual([it.kind, 201]);
      expect(res.body).toMatchObject(it);
    }
    // A retry with the same key and content is a repeat, not a second row.
    const again = await send('POST', '/v1/feedback', { body: JSON.stringify(items[2]) });
    expect(again.status).toBe(200);
    const comment = again.body as { sentimentLabel: string | null };
    expect(comment.sentimentLabel).toBe('positive');
    const { rows } = await g.db.query<{ kind: string; event: string | null; comment: string | null; source: string | null; unit_key: string | null; value: number | null }>(
      'SELECT kind, event, comment, source, unit_key, value FROM feedback WHERE prediction_id = $1 ORDER BY id',
      [predictionId],
    );
    expect(rows).toEqual([
      { kind: 'copy', event: null, comment: null, source: 'web', unit_key: 'contract-u', value: null },
      { kind: 'event', event: 'add_to_cart', comment: null, source: null, unit_key: null, value: 2 },
      { kind: 'comment', event: null, comment: 'a clear, helpful answer 😀', source: null, unit_key: null, value: null },
    ]);
  });
});
