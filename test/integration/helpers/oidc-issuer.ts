/**
 * A real OIDC issuer over HTTP for tests: a discovery document and a JWKS served on a local port,
 * keys generated with jose, tokens signed by it. The gateway fetches and verifies against it
 * exactly as it would against Keycloak (serving/auth.ts); nothing in jose is mocked.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface LocalIssuer {
  issuer: string;
  /** Signs a token with the published key (or `key: 'stranger'`, a key the JWKS does not hold). */
  token(claims: Record<string, unknown>, opts?: { key?: 'published' | 'stranger'; expiresIn?: string | number; issuer?: string; audience?: string | null }): Promise<string>;
  /** Publishes a new key and signs with it from now on (the old one is dropped from the JWKS). */
  rotate(): Promise<void>;
  /** JWKS requests served so far (a cached JWKS is fetched once). */
  jwksFetches(): number;
  close(): Promise<void>;
}

interface Key {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export async function startLocalIssuer(audience = 'flywheel-gateway'): Promise<LocalIssuer> {
  let published = await newKey('k1');
  const stranger = await newKey('k1'); // same kid, another key: only the signature can tell
  let fetches = 0;
  let generation = 1;
  const server = http.createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (req.url === '/jwks') {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [published.jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    async token(claims, opts = {}) {
      const key = opts.key === 'stranger' ? stranger : published;
      let jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(opts.issuer ?? issuer)
        .setIssuedAt()
        .setExpirationTime(opts.expiresIn ?? '5m');
      if (opts.audience !== null) jwt = jwt.setAudience(opts.audience ?? audience);
      return jwt.sign(key.privateKey);
    },
    async rotate() {
      published = await newKey(`k${++generation}`);
    },
    jwksFetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
