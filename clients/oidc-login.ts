/**
 * A person's login against an OIDC issuer (Keycloak's flywheel realm in the local stack), for the
 * CLI: the device authorization grant (RFC 8628: the CLI shows a code, the person approves it in a
 * browser, the CLI polls) or, for scripts and terminals without a browser, the resource-owner
 * password grant of the public `flywheel-cli` client. Tokens are refreshed with the refresh token.
 * Endpoints come from the issuer's discovery document, never from guessed paths.
 */
import { decodeJwt } from 'jose';

export interface OidcEndpoints {
  issuer: string;
  token_endpoint: string;
  device_authorization_endpoint?: string;
}

export interface TokenSet {
  issuer: string;
  clientId: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  /** Who: preferred_username, else sub (read from the access token the issuer just gave us). */
  subject: string;
}

export interface DeviceChallenge {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresAt: number;
  intervalMs: number;
}

export class OidcLoginError extends Error {
  override name = 'OidcLoginError';
}

async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form), signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new OidcLoginError(`cannot reach ${new URL(url).origin}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* an HTML error page: the status says enough */
  }
  return { status: res.status, json };
}

const oauthError = (json: Record<string, unknown>, status: number) => `${String(json.error_description ?? json.error ?? `HTTP ${status}`)}`;

export async function discover(issuer: string): Promise<OidcEndpoints> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new OidcLoginError(`cannot reach the issuer ${issuer}: ${(err as Error).message}`);
  }
  if (!res.ok) throw new OidcLoginError(`${issuer} is not an OIDC issuer (discovery answered HTTP ${res.status})`);
  const doc = (await res.json()) as OidcEndpoints;
  if (doc.issuer !== issuer.replace(/\/+$/, '')) throw new OidcLoginError(`the discovery document of ${issuer} names another issuer (${doc.issuer})`);
  return doc;
}

function toTokenSet(issuer: string, clientId: string, json: Record<string, unknown>, now = Date.now()): TokenSet {
  const accessToken = String(json.access_token);
  const claims = decodeJwt(accessToken);
  return {
    issuer,
    clientId,
    accessToken,
    ...(typeof json.refresh_token === 'string' ? { refreshToken: json.refresh_token } : {}),
    expiresAt: now + Number(json.expires_in ?? 60) * 1000,
    subject: String(claims.preferred_username ?? claims.sub ?? 'unknown'),
  };
}

export async function passwordLogin(endpoints: OidcEndpoints, clientId: string, username: string, password: string): Promise<TokenSet> {
  const { status, json } = await postForm(endpoints.token_endpoint, { grant_type: 'password', client_id: clientId, username, password, scope: 'openid' });
  if (status !== 200 || typeof json.access_token !== 'string') throw new OidcLoginError(`login refused: ${oauthError(json, status)}`);
  return toTokenSet(endpoints.issuer, clientId, json);
}

export async function startDeviceLogin(endpoints: OidcEndpoints, clientId: string): Promise<DeviceChallenge> {
  if (!endpoints.device_authorization_endpoint) throw new OidcLoginError(`${endpoints.issuer} offers no device login: use --username with --password-stdin`);
  const { status, json } = await postForm(endpoints.device_authorization_endpoint, { client_id: clientId, scope: 'openid' });
  if (status !== 200 || typeof json.device_code !== 'string') throw new OidcLoginError(`device login refused: ${oauthError(json, status)}`);
  return {
    deviceCode: json.device_code,
    userCode: String(json.user_code),
    verificationUri: String(json.verification_uri),
    ...(typeof json.verification_uri_complete === 'string' ? { verificationUriComplete: json.verification_uri_complete } : {}),
    expiresAt: Date.now() + Number(json.expires_in ?? 600) * 1000,
    intervalMs: Number(json.interval ?? 5) * 1000,
  };
}

/** Polls the token endpoint until the person approves (or denies, or the code expires). */
export async function finishDeviceLogin(endpoints: OidcEndpoints, clientId: string, challenge: DeviceChallenge, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<TokenSet> {
  let interval = challenge.intervalMs;
  while (Date.now() < challenge.expiresAt) {
    await sleep(interval);
    const { status, json } = await postForm(endpoints.token_endpoint, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: challenge.deviceCode, client_id: clientId });
    if (status === 200 && typeof json.access_token === 'string') return toTokenSet(endpoints.issuer, clientId, json);
    if (json.error === 'authorization_pending') continue;
    if (json.error === 'slow_down') {
      interval += 5_000;
      continue;
    }
    throw new OidcLoginError(`device login ended: ${oauthError(json, status)}`);
  }
  throw new OidcLoginError('the device code expired before it was approved: run flywheel login again');
}

export async function refresh(endpoints: OidcEndpoints, tokens: TokenSet): Promise<TokenSet> {
  if (!tokens.refreshToken) throw new OidcLoginError('the login has expired and cannot be refreshed: run flywheel login');
  const { status, json } = await postForm(endpoints.token_endpoint, { grant_type: 'refresh_token', client_id: tokens.clientId, refresh_token: tokens.refreshToken });
  if (status !== 200 || typeof json.access_token !== 'string') throw new OidcLoginError(`the login has expired (${oauthError(json, status)}): run flywheel login`);
  return toTokenSet(tokens.issuer, tokens.clientId, json);
}
