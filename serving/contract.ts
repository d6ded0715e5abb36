/**
 * The gateway's HTTP contract, wired into fastify:
 *  - a type provider and a validator compiler for zod schemas (serving/schemas.ts): a route's
 *    `schema: { params, body, response }` is checked as declared, and the handler's `req.body` has
 *    the schema's type. A request that fails is a 400 `{ error: 'field: problem', field }`.
 *  - one error body everywhere, `{ error, field? }`: fastify's own refusals (bad JSON, invalid
 *    UTF-8, 413, 415), unknown routes (404) and unexpected failures (500) answer the same shape.
 *  - GET /openapi.json, an OpenAPI 3.0 document generated from the same schemas, and GET /docs,
 *    a self-contained page that renders it (no assets from elsewhere). Both are public.
 *
 * Responses are serialised with JSON.stringify, not checked at run time: the response schemas
 * document what the routes send, and the fuzz test (test/integration/http-contract.test.ts)
 * checks every answer against them.
 */
import type { FastifyInstance, FastifyReply, FastifyTypeProvider, RouteOptions } from 'fastify';
import { z } from 'zod';
import { firstProblem } from '../lib/schema/issues';
import { errorBody, errors, htmlPage, openApiDocument } from './schemas';

export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

export type ErrorBody = z.infer<typeof errorBody>;

/** The one error body. */
export function sendError(reply: FastifyReply, status: number, error: string, extra: object = {}) {
  return reply.code(status).send({ error, ...extra });
}

/** A 400 naming the field (the message starts with it: `features[2]: must be a finite number`). */
export function sendInvalid(reply: FastifyReply, message: string, field?: string) {
  return reply.code(400).send({ error: message, field: field ?? (message.slice(0, Math.max(0, message.indexOf(':'))) || 'body') });
}

class ValidationError extends Error {
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** A route as declared, for the document (HEAD routes fastify adds for each GET are left out). */
export interface DeclaredRoute {
  method: string;
  url: string;
  schema: RouteOptions['schema'];
  public: boolean;
  summary?: string;
}

const OPERATION_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Installs validation, the error handlers and the route collector; call before any route is
 * declared. Returns the routes declared so far (filled in as routes are added).
 */
export function installContract(
  app: FastifyInstance,
  log: { error(obj: object, msg: string): void },
  /** Told of each request its route's schema refused (the bad-request counter). */
  onInvalid: (route: string) => void = () => undefined,
): DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) {
      if (!OPERATION_METHODS.has(m)) continue;
      routes.push({
        method: m,
        url: r.url,
        schema: r.schema,
        public: (r.config as { auth?: { scope?: string } } | undefined)?.auth?.scope === 'public',
        summary: (r.config as { summary?: string } | undefined)?.summary,
      });
    }
  });

  app.setValidatorCompiler(({ schema, httpPart }) => {
    const s = schema as unknown as z.ZodType;
    return (data: unknown) => {
      const r = s.safeParse(data);
      if (r.success) return { value: r.data };
      const p = firstProblem(r.error);
      // Params: the field is the parameter's name (`model: …`), never `body`.
      if (httpPart !== 'body' && p.field === 'body') return { error: new ValidationError(`${httpPart}: ${r.error.issues[0]!.message}`, httpPart ?? 'body') };
      return { error: new ValidationError(p.message, p.field) };
    };
  });
  // Responses are documented, not checked per request (see above).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((err: { statusCode?: number; message: string; field?: string }, req, reply) => {
    if (err instanceof ValidationError) {
      onInvalid(req.routeOptions.url ?? '');
      return sendInvalid(reply, err.message, err.field);
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) log.error({ err: err.message }, 'request failed');
    // 429 comes from the rate limiter (serving/auth.ts), with its own message.
    if (status === 429) return sendError(reply, 429, err.message);
    if (status >= 500) return sendError(reply, 500, 'internal error');
    // fastify's own refusals are all about the body: malformed JSON, invalid UTF-8, too large, wrong media type.
    return sendError(reply, status, `body: ${err.message}`, { field: 'body' });
  });
  app.setNotFoundHandler({}, (req, reply) => sendError(reply, 404, `no route ${req.method} ${req.url.split('?')[0]} (the routes are listed at /openapi.json)`));
  return routes;
}

/**
 * For `Fastify({ frameworkErrors })`: errors fastify raises before any route or hook runs (a URL
 * that is not valid percent-encoded UTF-8, a path parameter too long), in the same body.
 */
export function frameworkErrors(error: { statusCode?: number; message: string }, _req: unknown, reply: FastifyReply) {
  return sendError(reply, error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400, `url: ${error.message}`, { field: 'url' });
}

type ZodSchema = z.ZodType;

function jsonSchema(s: unknown, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(s as ZodSchema, { target: 'openapi-3.0', io, unrepresentable: 'any', reused: 'inline' }) as Record<string, unknown>;
  delete out['$schema'];
  delete out['id'];
  return out;
}

function contentTypeOf(s: unknown): string {
  const meta = z.globalRegistry.get(s as ZodSchema) as { contentType?: string } | undefined;
  return meta?.contentType ?? 'application/json';
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'The request is invalid: the error names the field',
  401: 'No valid credential',
  403: 'The credential lacks the scope (or the model) this route needs',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Unsupported media type (send application/json)',
  422: 'The database refused the item',
  429: 'Rate limit for this client',
  500: 'Internal error',
  503: 'Unavailable for now (retry)',
};

/** The OpenAPI 3.0 document of the declared routes. */
export function openApiDocumentOf(routes: readonly DeclaredRoute[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const s = (r.schema ?? {}) as { params?: unknown; querystring?: unknown; body?: unknown; response?: Record<string, unknown>; summary?: string; description?: string };
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const op: Record<string, unknown> = { operationId: `${r.method.toLowerCase()} ${r.url}` };
    if (s.summary) op['summary'] = s.summary;
    if (s.description) op['description'] = s.description;
    const parameters: unknown[] = [];
    if (s.params) {
      const js = jsonSchema(s.params, 'input') as { properties?: Record<string, unknown> };
      for (const [name, schema] of Object.entries(js.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    }
    if (s.querystring) {
      const js = jsonSchema(s.querystring, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(js.properties ?? {})) parameters.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema });
    }
    if (parameters.length > 0) op['parameters'] = parameters;
    if (s.body) op['requestBody'] = { required: true, content: { 'application/json': { schema: jsonSchema(s.body, 'input') } } };
    const responses: Record<string, unknown> = {};
    for (const [code, schema] of Object.entries(s.response ?? {})) {
      responses[code] = { description: STATUS_TEXT[Number(code)] ?? code, content: { [contentTypeOf(schema)]: { schema: jsonSchema(schema, 'output') } } };
    }
    if (Object.keys(responses).length === 0) responses['default'] = { description: 'undocumented' };
    op['responses'] = responses;
    op['security'] = r.public ? [] : [{ bearer: [] }, { apiKey: [] }];
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.0.3',
    info: {
      ...info,
      description:
        'The Flywheel serving gateway. Every error answers `{ "error": "<one line>", "field"?: "<field>" }`; a 400 about the request names the field. ' +
        'Credentials: `Authorization: Bearer <API key or OIDC access token>` or `x-api-key: <API key>`; /healthz, /openapi.json and /docs are public.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (fw_<id>_<secret>) or an OIDC access token' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
    },
  };
}

/** GET /openapi.json and GET /docs (public); declare them after every other route. */
export function registerContractRoutes(app: FastifyInstance, routes: readonly DeclaredRoute[], info: { title: string; version: string }): void {
  let doc: ReturnType<typeof openApiDocumentOf> | undefined;
  // Built once, on first request: every route is declared by then.
  const document = () => (doc ??= openApiDocumentOf(routes, info));
  app.get(
    '/openapi.json',
    { config: { auth: { scope: 'public' } }, schema: { summary: 'This document', response: { 200: openApiDocument, ...errors([], { authenticated: false }) } } },
    async () => document(),
  );
  app.get('/docs', { config: { auth: { scope: 'public' } }, schema: { summary: 'A page that renders /openapi.json', response: { 200: htmlPage } } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(DOCS_PAGE),
  );
}

/** Self-contained: no script or style from elsewhere (the gateway may have no outside network). */
const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Flywheel gateway — HTTP API</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ddd}code,pre{font:12px ui-monospace,monospace;background:#f6f6f6}
pre{padding:.5rem;overflow:auto;max-height:24rem}.m{display:inline-block;min-width:3.5rem;font-weight:bold}
details{margin:.3rem 0}summary{cursor:pointer}
</style></head><body>
<h1>Flywheel gateway — HTTP API</h1>
<p>The machine-readable document is <a href="openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.0).</p>
<div id="api">Loading…</div>
<script>
fetch('openapi.json').then(r => r.json()).then(doc => {
  const el = document.getElementById('api');
  const esc = s => String(s).replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
  const block = (title, v) => '<details><summary>' + esc(title) + '</summary><pre>' + esc(JSON.stringify(v, null, 2)) + '</pre></details>';
  let html = '<p>' + esc(doc.info.description || '') + '</p>';
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      html += '<h2><span class="m">' + esc(method.toUpperCase()) + '</span> <code>' + esc(path) + '</code></h2>';
      if (op.summary) html += '<p>' + esc(op.summary) + '</p>';
      html += '<p>' + (op.security && op.security.length === 0 ? 'Public.' : 'Needs a credential.') + '</p>';
      if (op.parameters) html += block('parameters', op.parameters);
      if (op.requestBody) html += block('request body', op.requestBody.content['application/json'].schema);
      for (const [code, res] of Object.entries(op.responses)) {
        const c = res.content ? Object.values(res.content)[0] : undefined;
        html += block(code + ' — ' + res.description, c ? c.schema : {});
      }
    }
  }
  el.innerHTML = html;
}).catch(e => { document.getElementById('api').textContent = 'could not load openapi.json: ' + e; });
</script></body></html>
`;
