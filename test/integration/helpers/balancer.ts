/**
 * Debian's nginx as an HTTP load balancer in front of several gateways: round robin, and a request
 * whose gateway fails (connection refused or reset, 502/503) is retried once on another, POSTs
 * included — what a production balancer in front of stateless replicas is configured to do.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nginxPreamble, runNginx } from './nginx';
import { freePort } from './tls';

export interface Balancer {
  url: string;
  stop(): Promise<void>;
}

export async function startHttpBalancer(upstreamPorts: readonly number[]): Promise<Balancer> {
  const port = await freePort();
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-balancer-'));
  const { main, http } = nginxPreamble(prefix, 'error');
  const nginx = await runNginx(
    prefix,
    `# written by test/integration/helpers/balancer.ts
${main}
events { worker_connections 1024; }
http {
  access_log off;
${http}
  upstream gateways {
${upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=30s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_connect_timeout 1s;
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 2;
    }
  }
}
`,
    port,
  );
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await nginx.stop();
      fs.rmSync(prefix, { recursive: true, force: true });
    },
  };
}
