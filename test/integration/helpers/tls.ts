/**
 * Throwaway certificates (openssl) and a TLS-terminating gRPC proxy (Debian's nginx) for the
 * transport-security tests. Everything lives in a temporary folder the caller removes; nginx runs
 * in the foreground as a child of the test (never the system service), bound to loopback.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { NGINX, nginxPreamble, runNginx } from './nginx';

export interface Pki {
  dir: string;
  caPem: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by another CA, which the server must not accept. */
  strangerCert: string;
  strangerKey: string;
  strangerCaPem: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newCa(dir: string, name: string): { pem: string; key: string } {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  return { pem: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

function newLeaf(dir: string, name: string, ca: { pem: string; key: string }, extensions: string): { cert: string; key: string } {
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`,
    '-keyout', `${name}.key`, '-out', `${name}.csr`);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\n${extensions}\n`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', ca.pem, '-CAkey', ca.key, '-CAcreateserial', '-days', '2',
    '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

/** A CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a stranger's. */
export function makePki(dir: string): Pki {
  const ca = newCa(dir, 'flywheel-test-ca');
  const server = newLeaf(dir, 'server', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  const client = newLeaf(dir, 'client', ca, 'extendedKeyUsage=clientAuth');
  const otherCa = newCa(dir, 'stranger-ca');
  const stranger = newLeaf(dir, 'stranger', otherCa, 'extendedKeyUsage=clientAuth');
  return {
    dir,
    caPem: ca.pem,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    strangerCert: stranger.cert,
    strangerKey: stranger.key,
    strangerCaPem: otherCa.pem,
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export { NGINX };

export interface GrpcProxy {
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * nginx terminating TLS on 127.0.0.1:<free port>, requiring a client certificate signed by the
 * test CA (`ssl_verify_client on`), and passing gRPC in clear text to `upstream` (host:port).
 */
export async function startGrpcMtlsProxy(pki: Pki, upstream: string): Promise<GrpcProxy> {
  const port = await freePort();
  const prefix = fs.mkdtempSync(path.join(pki.dir, 'nginx-'));
  const { main, http } = nginxPreamble(prefix);
  const nginx = await runNginx(
    prefix,
    `# written by test/integration/helpers/tls.ts
${main}
events { worker_connections 256; }
http {
  access_log off;
${http}
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${pki.serverCert};
    ssl_certificate_key ${pki.serverKey};
    ssl_client_certificate ${pki.caPem};
    ssl_verify_client on;
    client_max_body_size 0;
    keepalive_requests 100000;
    location / {
      # Temporal's long polls last up to about 70 s.
      grpc_read_timeout 300s;
      grpc_send_timeout 300s;
      grpc_pass grpc://${upstream};
    }
  }
}
`,
    port,
  );
  return { port, process: nginx.process, stop: nginx.stop };
}
