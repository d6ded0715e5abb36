/**
 * What a gateway credential is and what it grants, without I/O: the API key format, scopes, and
 * the mapping from an OIDC token's claims to scopes. Used by the gateway (serving/auth.ts), the
 * key store (clients/api-keys.ts) and the CLI.
 */

/** predict: the predict routes and what is served; feedback: labels and signals; metrics: /metrics; admin: everything. */
export const SCOPES = ['predict', 'feedback', 'admin', 'metrics'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

/** `predict,feedback` → scopes; one message naming the bad one otherwise. */
export function parseScopes(text: string): { ok: true; value: Scope[] } | { ok: false; message: string } {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) return { ok: false, message: `--scopes: at least one of ${SCOPES.join(', ')}` };
  for (const p of parts) if (!isScope(p)) return { ok: false, message: `--scopes: unknown scope '${p}' (one of ${SCOPES.join(', ')})` };
  return { ok: true, value: [...new Set(parts as Scope[])] };
}

/** admin holds every scope; otherwise the scope itself is needed. */
export function grants(held: ReadonlySet<Scope>, required: Scope): boolean {
  return held.has(required) || held.has('admin');
}

/**
 * `fw_<16 hex id>_<43 base64url chars: 32 random bytes>`. The id finds the row; only the
 * SHA-256 of the whole key is stored. The prefix lets secret scanners and people recognise it.
 */
export const API_KEY_PATTERN = /^fw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function apiKeyId(key: string): string | undefined {
  return API_KEY_PATTERN.exec(key)?.[1];
}

export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/**
 * Scopes a token grants: Keycloak realm roles (`realm_access.roles`), client roles of the audience
 * (`resource_access[aud].roles`) and the OAuth `scope` claim (space separated). A role counts
 * as `predict`, `flywheel:predict` or `flywheel-predict`; anything else is ignored.
 */
export function scopesFromClaims(claims: Record<string, unknown>, audience: string): Set<Scope> {
  const names: string[] = [];
  const realm = claims['realm_access'];
  if (realm && typeof realm === 'object' && Array.isArray((realm as { roles?: unknown }).roles)) names.push(...((realm as { roles: unknown[] }).roles.filter((r) => typeof r === 'string') as string[]));
  const resource = claims['resource_access'];
  if (resource && typeof resource === 'object') {
    const mine = (resource as Record<string, unknown>)[audience];
    if (mine && typeof mine === 'object' && Array.isArray((mine as { roles?: unknown }).roles)) names.push(...((mine as { roles: unknown[] }).roles.filter((r) => typeof r === 'string') as string[]));
  }
  const scope = claims['scope'];
  if (typeof scope === 'string') names.push(...scope.split(' '));
  const out = new Set<Scope>();
  for (const n of names) {
    const bare = n.replace(/^flywheel[:-]/, '');
    if (bare !== n || isScope(n)) if (isScope(bare)) out.add(bare);
  }
  return out;
}

/** `Authorization: Bearer x` or `x-api-key: x` → x; a malformed Authorization header is an error. */
export function credentialOf(headers: { authorization?: string | undefined; 'x-api-key'?: string | string[] | undefined }):
  | { ok: true; token: string | undefined }
  | { ok: false; message: string } {
  const auth = headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer +(\S+)\s*$/i.exec(auth);
    if (!m) return { ok: false, message: 'Authorization header: expected "Bearer <API key or OIDC access token>"' };
    return { ok: true, token: m[1] };
  }
  const key = headers['x-api-key'];
  if (Array.isArray(key)) return { ok: false, message: 'x-api-key: send one key' };
  if (key !== undefined) return { ok: true, token: key.trim() };
  return { ok: true, token: undefined };
}
