/**
 * Who is calling the gateway. Every route declares the scope it needs next to itself
 * (`{ config: { auth: { scope: 'predict', modelParam: 'model' } } }`); a route that declares none
 * needs `admin`, so a route added without thought is closed, not open. `public` (/healthz,
 * /openapi.json, /docs) needs nothing. A path no route matches answers 401 without a valid
 * credential and 404 with one.
 *
 * Credentials, in `Authorization: Bearer <credential>` or `x-api-key: <key>`:
 *  - API keys (`fw_<id>_<secret>`, clients/api-keys.ts): looked up by id, compared by SHA-256 in
 *    constant time; a verified key is trusted for `keyCacheMs` (default 3 s) before it is read again,
 *    so a revocation or expiry takes effect within that, and a flood of forged keys costs one
 *    query per id per window, not one per request.
 *  - OIDC access tokens (JWTs): verified with jose against the issuer's JWKS (from its discovery
 *    document): signature, issuer, audience, expiry and not-before with `clockToleranceS` of skew.
 *    A token signed with a key the cached JWKS lacks makes jose fetch the JWKS again (key
 *    rotation), at most once per JWKS_COOLDOWN_MS (5 s): a burst of tokens with made-up key ids
 *    costs the issuer one JWKS request per 5 s, and a real rotation is followed within 5 s. Roles map to scopes (lib/auth/credentials.ts).
 *
 * Checked in onRequest, before the body is read: an unauthenticated request costs no parsing.
 * 401 (who are you?) and 403 (not allowed) answer one line of JSON; 503 when the key store or
 * the identity provider cannot be reached (the client may retry; nothing is let through).
 * Rate limits (@fastify/rate-limit) count per authenticated client id, after authentication.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import client from 'prom-client';
import type { GatewayAuthConfig } from '../config/index';
import { findApiKey, sha256, type StoredApiKey } from '../clients/api-keys';
import { apiKeyId, credentialOf, grants, looksLikeJwt, scopesFromClaims, SCOPES, type Scope } from '../lib/auth/credentials';
import { BoundedMap } from '../lib/feedback/bounded-map';

export interface Principal {
  /** `key:<id>`, `oidc:<azp or sub>`, or `anonymous` when authentication is off. */
  clientId: string;
  kind: 'api-key' | 'oidc' | 'anonymous';
  scopes: ReadonlySet<Scope>;
  /** null: any model. */
  models: readonly string[] | null;
}

export interface RouteAuth {
  scope: Scope | 'public';
  /** The route parameter naming the model, for keys restricted to some models. */
  modelParam?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export const JWKS_COOLDOWN_MS = 5_000;
/** How long a key read from the store is honoured when the store cannot be read again. */
export const STALE_MS = 5 * 60_000;

const ANONYMOUS: Principal = { clientId: 'anonymous', kind: 'anonymous', scopes: new Set(SCOPES), models: null };

class AuthError extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

export interface AuthOptions {
  config: GatewayAuthConfig;
  db: pg.Pool;
  registry: client.Registry;
  log: { warn(obj: object, msg: string): void };
}

/** Verifies API keys against the store, with a short cache (see above). */
export class ApiKeyVerifier {
  private readonly cache = new BoundedMap<string, { rec: StoredApiKey | null; at: number }>(20_000);
  private readonly loading = new Map<string, Promise<StoredApiKey | null>>();
  /**
   * Keys whose secret matched, with the record it matched and the principal made for it. While
   * the record is the one cached (re-read every ttl: a new object), a key seen again skips the
   * SHA-256 and the new Principal: a client sends one key with every request, and the hash was
   * about 2 % of the gateway's CPU per prediction. A key that fails is never kept here.
   */
  private readonly verified = new BoundedMap<string, { rec: StoredApiKey; principal: Principal }>(20_000);

  constructor(
    private readonly db: pg.Pool,
    private readonly ttlMs: number,
  ) {}

  private async lookup(id: string): Promise<StoredApiKey | null> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < this.ttlMs) return hit.rec;
    let p = this.loading.get(id);
    if (!p) {
      p = findApiKey(this.db, id)
        .then(
          (rec) => {
            this.cache.set(id, { rec: rec ?? null, at: Date.now() });
            return rec ?? null;
          },
          (err: Error) => {
            // Stale-if-error: while PostgreSQL is unreachable, a key read in the last STALE_MS is
            // still honoured, so predictions keep being served through an outage as before
            // authentication (a revocation made during the outage cannot be read until it ends).
            if (hit && Date.now() - hit.at < STALE_MS) return hit.rec;
            throw err;
          },
        )
        .finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  async verify(key: string): Promise<Principal> {
    const id = apiKeyId(key);
    if (!id) throw new AuthError(401, 'API key is malformed (expected fw_<id>_<secret>)', 'malformed');
    let rec: StoredApiKey | null;
    try {
      rec = await this.lookup(id);
    } catch {
      throw new AuthError(503, 'API keys cannot be checked right now (key store unreachable); retry', 'store-unavailable');
    }
    const seen = rec ? this.verified.get(key) : undefined;
    if (seen && seen.rec === rec) {
      // Verified against this very record; only the clock has moved since.
      if (rec.expiresAt && rec.expiresAt.getTime() <= Date.now()) throw new AuthError(401, `API key ${id} has expired`, 'expired');
      return seen.principal;
    }
    // The same answer for an unknown id and a wrong secret: a caller learns nothing about which ids exist.
    if (!rec || !timingSafeEqual(rec.secretSha256, sha256(key))) throw new AuthError(401, 'API key is not valid', 'invalid-key');
    if (rec.revokedAt) throw new AuthError(401, `API key ${id} has been revoked`, 'revoked');
    if (rec.expiresAt && rec.expiresAt.getTime() <= Date.now()) throw new AuthError(401, `API key ${id} has expired`, 'expired');
    const principal: Principal = { clientId: `key:${id}`, kind: 'api-key', scopes: new Set(rec.scopes), models: rec.models };
    this.verified.set(key, { rec, principal });
    return principal;
  }
}

/** Verifies OIDC access tokens against one issuer. */
export class OidcVerifier {
  private jwks: Promise<JWTVerifyGetKey> | undefined;
  /**
   * Tokens already verified → who they are and until when (their exp). A client sends the same
   * token for minutes: its RS256 signature (~0.1–0.2 ms) is checked once, not on every request.
   * Safe because a verified token's claims cannot change; expiry is still checked on every hit.
   */
  private readonly verified = new BoundedMap<string, { principal: Principal; expMs: number }>(10_000);

  constructor(private readonly oidc: NonNullable<GatewayAuthConfig['oidc']>) {}

  /** The JWKS named by the issuer's discovery document, fetched on first use (again after a failure). */
  private keys(): Promise<JWTVerifyGetKey> {
    if (!this.jwks) {
      const url = `${this.oidc.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      this.jwks = (async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
        const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
        if (doc.issuer !== this.oidc.issuer) throw new Error(`${url} names issuer ${doc.issuer}, not ${this.oidc.issuer}`);
        if (!doc.jwks_uri) throw new Error(`${url} names no jwks_uri`);
        return createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: 5_000, cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: 10 * 60_000 });
      })();
      this.jwks.catch(() => {
        this.jwks = undefined;
      });
    }
    return this.jwks;
  }

  async verify(token: string): Promise<Principal> {
    const hit = this.verified.get(token);
    if (hit) {
      if (Date.now() < hit.expMs + this.oidc.clockToleranceS * 1000) return hit.principal;
      this.verified.delete(token);
      throw new AuthError(401, 'token has expired', 'expired');
    }
    const { principal, expMs } = await this.verifyUncached(token);
    this.verified.set(token, { principal, expMs });
    return principal;
  }

  /** Signature and claims, every time (the cache above sits in front of it). */
  async verifyUncached(token: string): Promise<{ principal: Principal; expMs: number }> {
    let keys: JWTVerifyGetKey;
    try {
      keys = await this.keys();
    } catch {
      throw new AuthError(503, 'the identity provider cannot be reached to check tokens; retry', 'idp-unavailable');
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.oidc.issuer,
        audience: this.oidc.audience,
        clockTolerance: this.oidc.clockToleranceS,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
        requiredClaims: ['exp'],
      });
      const who = typeof payload['azp'] === 'string' ? payload['azp'] : payload.sub;
      if (!who) throw new AuthError(401, 'token names no client (azp) nor subject (sub)', 'claims');
      return {
        principal: { clientId: `oidc:${who}`, kind: 'oidc', scopes: scopesFromClaims(payload as Record<string, unknown>, this.oidc.audience), models: null },
        expMs: payload.exp! * 1000,
      };
    } catch (err) {
      if (err instanceof AuthError) throw err;
      throw tokenError(err);
    }
  }
}

function tokenError(err: unknown): AuthError {
  if (err instanceof joseErrors.JWTExpired) return new AuthError(401, 'token has expired', 'expired');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return new AuthError(401, 'token was not issued by the accepted issuer', 'issuer');
    if (err.claim === 'aud') return new AuthError(401, 'token is not meant for this gateway (audience)', 'audience');
    if (err.claim === 'nbf') return new AuthError(401, 'token is not valid yet', 'not-before');
    return new AuthError(401, `token claim ${err.claim} is not valid`, 'claims');
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new AuthError(401, 'token is signed with a key the issuer does not publish', 'unknown-key');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new AuthError(401, 'token signature is not valid', 'signature');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new AuthError(401, 'token algorithm is not accepted', 'algorithm');
  if (err instanceof joseErrors.JWKSTimeout) return new AuthError(503, 'the identity provider cannot be reached to check tokens; retry', 'idp-unavailable');
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JOSEError) return new AuthError(401, 'token is malformed', 'malformed');
  return new AuthError(503, 'the identity provider cannot be reached to check tokens; retry', 'idp-unavailable');
}

/**
 * Installs authentication (onRequest) and per-client rate limits on the root instance; call it
 * before any route is declared. With `config.enabled` false every request is `anonymous` with
 * every scope (the explicit opt-out, FLYWHEEL_GATEWAY_AUTH=off).
 */
export async function installAuth(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  const { config } = opts;
  const failures = new client.Counter({
    name: 'flywheel_gateway_auth_failures_total',
    help: 'Requests refused by authentication (401), authorisation (403) or an unreachable key store / IdP (503)',
    labelNames: ['status', 'reason'] as const,
    registers: [opts.registry],
  });
  const keys = new ApiKeyVerifier(opts.db, config.keyCacheMs);
  const oidc = config.oidc ? new OidcVerifier(config.oidc) : undefined;
  app.decorateRequest('principal', undefined);

  const deny = (reply: FastifyReply, e: AuthError) => {
    failures.inc({ status: String(e.status), reason: e.reason });
    if (e.status === 401) void reply.header('www-authenticate', `Bearer realm="flywheel"${e.reason === 'missing' ? '' : ', error="invalid_token"'}`);
    return reply.code(e.status).send({ error: e.message });
  };

  async function authenticate(req: FastifyRequest): Promise<Principal> {
    const cred = credentialOf(req.headers as Parameters<typeof credentialOf>[0]);
    if (!cred.ok) throw new AuthError(401, cred.message, 'malformed');
    const token = cred.token;
    if (!token) throw new AuthError(401, 'authentication required: send Authorization: Bearer <API key or OIDC access token>', 'missing');
    if (token.startsWith('fw_')) return keys.verify(token);
    if (looksLikeJwt(token)) {
      if (!oidc) throw new AuthError(401, 'OIDC tokens are not accepted by this gateway (FLYWHEEL_OIDC_ISSUER is not set); use an API key', 'oidc-off');
      return oidc.verify(token);
    }
    throw new AuthError(401, 'credential is malformed: neither an API key (fw_…) nor a JWT', 'malformed');
  }

  app.addHook('onRequest', async (req, reply) => {
    const route: RouteAuth = req.routeOptions.config?.auth ?? { scope: 'admin' };
    if (route.scope === 'public') return;
    if (!config.enabled) {
      req.principal = ANONYMOUS;
      return;
    }
    let principal: Principal;
    try {
      principal = await authenticate(req);
    } catch (err) {
      if (err instanceof AuthError) return deny(reply, err);
      opts.log.warn({ err: (err as Error).message }, 'authentication failed unexpectedly');
      return deny(reply, new AuthError(503, 'authentication is unavailable; retry', 'error'));
    }
    // No such route: any valid credential may learn that (404); scopes guard routes that exist.
    if (req.is404) {
      req.principal = principal;
      return;
    }
    if (!grants(principal.scopes, route.scope)) return deny(reply, new AuthError(403, `${principal.clientId} lacks the '${route.scope}' scope this route needs`, 'scope'));
    if (route.modelParam && principal.models) {
      const model = (req.params as Record<string, string | undefined>)[route.modelParam];
      if (model !== undefined && !principal.models.includes(model)) return deny(reply, new AuthError(403, `${principal.clientId} may not use model ${model}`, 'model'));
    }
    req.principal = principal;
  });

  if (config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      max: config.rateLimitPerMinute,
      timeWindow: 60_000,
      // After authentication: the limit is the client's, whichever address it comes from.
      hook: 'preHandler',
      keyGenerator: (req) => req.principal?.clientId ?? req.ip,
      allowList: (req) => req.routeOptions.config?.auth?.scope === 'public',
      errorResponseBuilder: (req, ctx) => ({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `rate limit: ${req.principal?.clientId ?? req.ip} may send ${ctx.max} requests per minute; retry in ${ctx.after}`,
      }),
    });
  }
}
