/**
 * The gateway serves HTTPS when FLYWHEEL_GATEWAY_TLS_CERT/KEY are set: a real gateway (its own
 * throwaway database, a deployed model, authentication on) with a throwaway certificate made by
 * openssl; the client side (traffic/http.ts, used by the CLI and the load generator) speaks https
 * for an https URL and trusts FLYWHEEL_GATEWAY_CA.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../config/index';
import { isGatewayHealthy } from '../../scripts/stack/gateway';
import { gatewayCa, JsonClient } from '../../traffic/http';
import { FEATURES, startLocalGateway, type LocalGateway } from './helpers/local-gateway';
import { makePki, type Pki } from './helpers/tls';

let dir: string;
let pki: Pki;
let g: LocalGateway;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-gw-https-'));
  pki = makePki(dir);
  // This file's own worker process: the gateway and its clients load these from the environment.
  process.env.FLYWHEEL_GATEWAY_TLS_CERT = pki.serverCert;
  process.env.FLYWHEEL_GATEWAY_TLS_KEY = pki.serverKey;
  process.env.FLYWHEEL_GATEWAY_CA = pki.caPem;
  g = await startLocalGateway('https');
});

afterAll(async () => {
  await g?.close();
  delete process.env.FLYWHEEL_GATEWAY_TLS_CERT;
  delete process.env.FLYWHEEL_GATEWAY_TLS_KEY;
  delete process.env.FLYWHEEL_GATEWAY_CA;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('listens on https, and a predict over https is answered and recorded', async () => {
  expect(g.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const client = new JsonClient(g.baseUrl, 1, { apiKey: g.apiKey, ca: gatewayCa(loadConfig()) });
  try {
    const res = await client.post(`/v1/models/${g.model}/predict`, { features: FEATURES });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as { predictionId: string; label: string };
    expect(g.classes).toContain(body.label);
    // Recorded like any prediction (the recorder flushes in batches).
    let n = 0;
    while (n === 0) {
      n = (await g.db.query<{ n: number }>('SELECT count(*)::int AS n FROM predictions WHERE id = $1', [body.predictionId])).rows[0]!.n;
      if (n === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(n).toBe(1);
  } finally {
    client.close();
  }
});

it("the stack's health check reaches the https gateway through FLYWHEEL_GATEWAY_CA", async () => {
  const port = new URL(g.baseUrl).port;
  const config = loadConfig({ ...process.env, FLYWHEEL_GATEWAY_PORT: port });
  expect(config.gateway.url).toBe(`https://127.0.0.1:${port}`);
  expect(await isGatewayHealthy(config)).toBe(true);
  // Without the CA the certificate is not trusted.
  const { FLYWHEEL_GATEWAY_CA: _ca, ...withoutCa } = process.env;
  expect(await isGatewayHealthy(loadConfig({ ...withoutCa, FLYWHEEL_GATEWAY_PORT: port }))).toBe(false);
});

it('plain http to the same port fails', async () => {
  const client = new JsonClient(g.baseUrl.replace(/^https:/, 'http:'), 1, { apiKey: g.apiKey });
  try {
    await expect(client.post(`/v1/models/${g.model}/predict`, { features: FEATURES })).rejects.toThrow();
  } finally {
    client.close();
  }
});

it('a client that does not trust the certificate refuses the connection', async () => {
  const client = new JsonClient(g.baseUrl, 1, { apiKey: g.apiKey, ca: [fs.readFileSync(pki.strangerCaPem, 'utf8')] });
  try {
    await expect(client.post(`/v1/models/${g.model}/predict`, { features: FEATURES })).rejects.toThrow(/certificate/);
  } finally {
    client.close();
  }
});
