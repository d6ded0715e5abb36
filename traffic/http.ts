/**
 * A minimal keep-alive JSON client over node:http: the load generator measures the server, so the
 * client spends as little CPU per request as it can (fetch costs several times more here).
 */
import http from 'node:http';

export interface JsonResponse {
  status: number;
  body: unknown;
}

export class JsonClient {
  readonly agent: http.Agent;
  private readonly url: URL;
  private readonly auth: Record<string, string>;

  /** `apiKey`: an API key or OIDC access token, sent as `Authorization: Bearer …` on every request. */
  constructor(baseUrl: string, connections: number, opts: { apiKey?: string } = {}) {
    this.url = new URL(baseUrl);
    this.auth = opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {};
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  }

  request(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10_000): Promise<JsonResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.url.hostname,
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
