/**
 * A minimal keep-alive JSON client over node:http (node:https for an https URL): the load generator
 * measures the server, so the client spends as little CPU per request as it can (fetch costs
 * several times more here).
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { FlywheelConfig } from '../config/index';

/**
 * The CA an https gateway's certificate is checked against: FLYWHEEL_GATEWAY_CA added to Node's
 * roots (which already include NODE_EXTRA_CA_CERTS); undefined means Node's roots alone.
 */
export function gatewayCa(config: FlywheelConfig): string[] | undefined {
  const file = config.gateway.caPath;
  if (!file) return undefined;
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`FLYWHEEL_GATEWAY_CA: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return [...tls.rootCertificates, ...(process.env.NODE_EXTRA_CA_CERTS ? [fs.readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8')] : []), pem];
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

export class JsonClient {
  readonly agent: http.Agent | https.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly url: URL;
  private readonly auth: Record<string, string>;

  /**
   * `apiKey`: an API key or OIDC access token, sent as `Authorization: Bearer …` on every request.
   * `ca`: for an https URL, the certificates the server's is checked against (see gatewayCa).
   */
  constructor(baseUrl: string, connections: number, opts: { apiKey?: string; ca?: string[] } = {}) {
    this.url = new URL(baseUrl);
    this.auth = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
    const agentOptions = { keepAlive: true, maxSockets: connections, maxFreeSockets: connections };
    if (this.url.protocol === 'https:') {
      this.transport = https;
      this.agent = new https.Agent({ ...agentOptions, ...(opts.ca ? { ca: opts.ca } : {}) });
    } else if (this.url.protocol === 'http:') {
      this.transport = http;
      this.agent = new http.Agent(agentOptions);
    } else {
      throw new Error(`${baseUrl}: the gateway URL must be http:// or https://`);
    }
  }

  request(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10_000): Promise<JsonResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = this.transport.request(
        {
          // An IPv6 literal comes bracketed from URL.
          host: this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.url.port,
          method,
          path,
          agent: this.agent,
          headers: payload === undefined ? this.auth : { ...this.auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* a non-JSON body is returned as text */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  post(path: string, body: unknown): Promise<JsonResponse> {
    return this.request('POST', path, body);
  }

  close(): void {
    this.agent.destroy();
  }
}
