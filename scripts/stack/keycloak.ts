/**
 * A local Keycloak (the OIDC identity provider) for `flywheel up --auth-idp` and the authorisation
 * tests: the Quarkus distribution from Maven Central (`org.keycloak:keycloak-quarkus-dist:26.5.6`,
 * zip), unpacked under <data folder>/keycloak, run in dev mode (H2 database) on 127.0.0.1 with the
 * Temurin JDK 25, importing config/keycloak/flywheel-realm.json at start. Dev mode is for local use
 * and tests only: production runs Keycloak (or any OIDC issuer) on its own, and the gateway needs
 * only FLYWHEEL_OIDC_ISSUER and FLYWHEEL_OIDC_AUDIENCE.
 *
 * Fetch the zip once with: mvn dependency:get -Dartifact=org.keycloak:keycloak-quarkus-dist:26.5.6:zip -Dtransitive=false
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT, type FlywheelConfig } from '../../config/index';
import { StackError } from './errors';
import { isHttpOk } from './health';
import { launch, stopProcess } from './processes';

export const KEYCLOAK_VERSION = '26.5.6';
export const KEYCLOAK_PORT = 8180;
export const REALM = 'flywheel';
const JAVA_HOME = '/usr/lib/jvm/temurin-25-jdk-amd64';
const ZIP = path.join(os.homedir(), '.m2', 'repository', 'org', 'keycloak', 'keycloak-quarkus-dist', KEYCLOAK_VERSION, `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`);
export const REALM_FILE = path.join(PROJECT_ROOT, 'config', 'keycloak', 'flywheel-realm.json');

function javaHome(): string | undefined {
  const candidates = [process.env['KEYCLOAK_JAVA_HOME'], JAVA_HOME].filter((x): x is string => !!x);
  return candidates.find((j) => fs.existsSync(path.join(j, 'bin', 'java')));
}

function distDir(dataDir: string): string {
  return path.join(dataDir, 'keycloak', `keycloak-${KEYCLOAK_VERSION}`);
}

/** Installed (or installable from the local Maven repository) and a JDK ≥ 21 to run it. */
export function keycloakAvailable(dataDir = path.join(PROJECT_ROOT, '.flywheel')): boolean {
  return javaHome() !== undefined && (fs.existsSync(path.join(distDir(dataDir), 'bin', 'kc.sh')) || fs.existsSync(ZIP));
}

export interface RunningKeycloak {
  /** http://127.0.0.1:8180/realms/flywheel */
  issuer: string;
  /** Client-credentials grant; `viaHost` asks through another host name (a different issuer). */
  clientToken(clientId: string, secret: string, viaIssuer?: string): Promise<string>;
  passwordToken(clientId: string, username: string, password: string): Promise<string>;
  /** Stops it if this call started it. */
  stop(): Promise<void>;
}

function tokenRequest(issuer: string, connectTo: URL, form: Record<string, string>): Promise<string> {
  const body = new URLSearchParams(form).toString();
  const u = new URL(`${issuer}/protocol/openid-connect/token`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: connectTo.hostname,
        port: connectTo.port,
        method: 'POST',
        path: u.pathname,
        // The issuer Keycloak writes follows the Host the token was asked for.
        headers: { host: u.host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { access_token?: string; error_description?: string; error?: string };
          if (res.statusCode === 200 && json.access_token) resolve(json.access_token);
          else reject(new Error(`Keycloak token request for ${form['client_id']}: HTTP ${res.statusCode} ${json.error_description ?? json.error ?? ''}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function startKeycloak(config: FlywheelConfig, port = KEYCLOAK_PORT): Promise<RunningKeycloak> {
  const base = `http://127.0.0.1:${port}`;
  const issuer = `${base}/realms/${REALM}`;
  const discovery = `${issuer}/.well-known/openid-configuration`;
  let started = false;
  if (!(await isHttpOk(discovery))) {
    const java = javaHome();
    if (!java) throw new StackError(`Keycloak ${KEYCLOAK_VERSION} needs a JDK ≥ 21 (looked for ${JAVA_HOME}; or set KEYCLOAK_JAVA_HOME)`);
    const home = distDir(config.dataDir);
    if (!fs.existsSync(path.join(home, 'bin', 'kc.sh'))) {
      if (!fs.existsSync(ZIP)) throw new StackError(`Keycloak is not installed: mvn dependency:get -Dartifact=org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip -Dtransitive=false`);
      fs.mkdirSync(path.dirname(home), { recursive: true });
      execFileSync('unzip', ['-q', '-o', ZIP, '-d', path.dirname(home)]);
    }
    const imports = path.join(home, 'data', 'import');
    fs.mkdirSync(imports, { recursive: true });
    // --import-realm skips a realm that exists: when the realm file changed, the dev database
    // (H2, nothing in it but what the file says) starts over so the change takes effect.
    const realm = fs.readFileSync(REALM_FILE);
    const stamp = path.join(imports, '.realm-sha256');
    const digest = createHash('sha256').update(realm).digest('hex');
    if (fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() !== digest : fs.existsSync(path.join(home, 'data', 'h2'))) {
      fs.rmSync(path.join(home, 'data', 'h2'), { recursive: true, force: true });
    }
    fs.writeFileSync(path.join(imports, 'flywheel-realm.json'), realm);
    fs.writeFileSync(stamp, `${digest}\n`);
    await launch(
      config,
      {
        name: 'keycloak',
        // kc.sh execs java (twice, on a first start that builds): through a shell that waits for it,
        // the recorded process keeps its command line, so it stays recognisably ours (processes.ts).
        command: '/bin/bash',
        args: ['-c', '"$0" "$@"; exit $?', path.join(home, 'bin', 'kc.sh'), 'start-dev', '--http-port', String(port), '--http-host', '127.0.0.1', '--import-realm'],
        cwd: home,
        env: {
          ...process.env,
          JAVA_HOME: java,
          // Local dev only: the bootstrap admin of the master realm (the flywheel realm has its own users).
          KC_BOOTSTRAP_ADMIN_USERNAME: 'admin',
          KC_BOOTSTRAP_ADMIN_PASSWORD: 'dev-only-admin-password',
        },
      },
      // The first start builds the Quarkus application (about 100 s on a busy 2-core machine).
      { what: 'Keycloak', healthy: () => isHttpOk(discovery), timeoutMs: 300_000 },
    );
    started = true;
  }
  const connectTo = new URL(base);
  return {
    issuer,
    clientToken: (clientId, secret, viaIssuer) => tokenRequest(viaIssuer ?? issuer, connectTo, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
    passwordToken: (clientId, username, password) => tokenRequest(issuer, connectTo, { grant_type: 'password', client_id: clientId, username, password, scope: 'openid' }),
    async stop() {
      if (started) await stopProcess(config, 'keycloak');
    },
  };
}
