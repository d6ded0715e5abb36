/** TEMPORAL_TLS_* / TEMPORAL_API_KEY and FLYWHEEL_GATEWAY_TLS_* parsing (config/index.ts, clients/temporal.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporalConnectionOptions } from '../../clients/temporal';
import { ConfigError, loadConfig } from '../../config/index';

const load = (env: Record<string, string>) => loadConfig(env as NodeJS.ProcessEnv);

describe('Temporal transport settings', () => {
  it('plain text by default: no tls, no api key in the connection options', () => {
    const config = load({});
    expect(config.temporal.tls).toBeUndefined();
    expect(temporalConnectionOptions(config)).toEqual({ address: '127.0.0.1:7233' });
  });

  it('TEMPORAL_TLS=on alone is TLS with the system roots', () => {
    expect(temporalConnectionOptions(load({ TEMPORAL_TLS: 'on' }))).toEqual({ address: '127.0.0.1:7233', tls: {} });
  });

  it('an API key implies TLS and is passed on', () => {
    const options = temporalConnectionOptions(load({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'secret' }));
    expect(options).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'secret' });
  });

  it('reads CA, client pair and server name into the SDK options', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fw-tls-unit-'));
    try {
      for (const f of ['ca.pem', 'c.pem', 'c.key']) fs.writeFileSync(path.join(dir, f), `contents of ${f}`);
      const options = temporalConnectionOptions(
        load({ TEMPORAL_TLS_CA: path.join(dir, 'ca.pem'), TEMPORAL_TLS_CERT: path.join(dir, 'c.pem'), TEMPORAL_TLS_KEY: path.join(dir, 'c.key'), TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }),
      );
      expect(options.tls?.serverNameOverride).toBe('temporal.internal');
      expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toBe('contents of ca.pem');
      expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe('contents of c.pem');
      expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toBe('contents of c.key');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing file is a ConfigError naming the variable', () => {
    const config = load({ TEMPORAL_TLS_CA: '/nonexistent/ca.pem' });
    expect(() => temporalConnectionOptions(config)).toThrow(/TEMPORAL_TLS_CA: cannot read \/nonexistent\/ca.pem \(ENOENT\)/);
  });

  it('a certificate without its key (or the reverse) is one clear error at load', () => {
    expect(() => load({ TEMPORAL_TLS_CERT: 'c.pem' })).toThrow(ConfigError);
    expect(() => load({ TEMPORAL_TLS_KEY: 'c.key' })).toThrow(/TEMPORAL_TLS_CERT\/TEMPORAL_TLS_KEY: a client certificate needs its key/);
  });

  it('TEMPORAL_TLS=off with TLS files or an API key is refused rather than sending the key in clear', () => {
    expect(() => load({ TEMPORAL_TLS: 'off', TEMPORAL_API_KEY: 'k' })).toThrow(/TEMPORAL_TLS: off/);
    expect(() => load({ TEMPORAL_TLS: 'maybe' })).toThrow(/TEMPORAL_TLS/);
  });
});

describe('gateway HTTPS settings', () => {
  it('http by default; https (and an https client URL) with a certificate and key', () => {
    expect(load({}).gateway.url).toBe('http://127.0.0.1:8088');
    const config = load({ FLYWHEEL_GATEWAY_TLS_CERT: '/x/cert.pem', FLYWHEEL_GATEWAY_TLS_KEY: '/x/key.pem', FLYWHEEL_GATEWAY_CA: '/x/ca.pem' });
    expect(config.gateway.url).toBe('https://127.0.0.1:8088');
    expect(config.gateway.tls).toEqual({ certPath: '/x/cert.pem', keyPath: '/x/key.pem' });
    expect(config.gateway.caPath).toBe('/x/ca.pem');
  });

  it('a certificate without its key is one clear error', () => {
    expect(() => load({ FLYWHEEL_GATEWAY_TLS_CERT: '/x/cert.pem' })).toThrow(/FLYWHEEL_GATEWAY_TLS_CERT\/FLYWHEEL_GATEWAY_TLS_KEY/);
  });
});
