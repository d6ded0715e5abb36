/**
 * `flywheel login` against the real Keycloak of the local stack: a password login (scripts), a
 * device login approved the way a person does it (Keycloak's own login page, driven over HTTP
 * here), refresh of an expired token, `whoami`, the 0600 token file, and the audit trail naming
 * the person instead of the operating-system user. Each test has its own data folder, so the
 * user's own login is never touched.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../config/index';
import { keycloakAvailable, startKeycloak, type RunningKeycloak } from '../../scripts/stack/keycloak';
import { clientCredential, readLogin, writeLogin } from '../../traffic/credentials';
import { mlflowAuthEnv } from '../../clients/mlflow';
import { openTestEnv, type TestEnv } from './helpers/env';

const PASSWORD = 'dev-only-operator-password';
let env: TestEnv;
let kc: RunningKeycloak;
const dirs: string[] = [];

function dataDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'flywheel-login-'));
  dirs.push(d);
  return d;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], dir: string, stdin?: string, onStderr?: (text: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const { FLYWHEEL_API_KEY: _, ...inherited } = process.env;
    // The stack's logins live in its own data folder, not in this one: handed over explicitly.
    const stackLogins = { DATABASE_URL: env.config.postgres.url, ...mlflowAuthEnv(env.config.mlflow.auth) };
    const child = spawn(process.execPath, ['bin/flywheel.mjs', ...args], { cwd: PROJECT_ROOT, env: { ...inherited, ...stackLogins, FLYWHEEL_DATA_DIR: dir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      onStderr?.(stderr);
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** A person at a browser: opens the device link, signs in on Keycloak's page, and is done. */
async function approveInBrowser(link: string, username: string, password: string): Promise<string> {
  const jar = new Map<string, string>();
  const remember = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const go = async (url: string, init: RequestInit = {}): Promise<{ url: string; html: string }> => {
    for (let hops = 0; hops < 10; hops++) {
      const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: cookie() } });
      remember(res);
      const next = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && next) {
        url = new URL(next, url).toString();
        init = {};
        continue;
      }
      return { url, html: await res.text() };
    }
    throw new Error(`too many redirects from ${url}`);
  };
  const page = await go(link);
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(page.html)?.[1];
  if (!action) throw new Error(`no Keycloak login form at ${page.url}: ${page.html.slice(0, 300)}`);
  const form = (body: Record<string, string>): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
  const signedIn = await go(action.replaceAll('&amp;', '&'), form({ username, password, credentialId: '' }));
  // Keycloak asks a person to grant a device its access: they press "Yes".
  const consent = /<form[^>]*action="([^"]*login-actions\/consent[^"]*)"/.exec(signedIn.html)?.[1];
  const code = /name="code" value="([^"]+)"/.exec(signedIn.html)?.[1];
  if (!consent || !code) throw new Error(`no consent form after signing in at ${signedIn.url}`);
  const done = await go(new URL(consent.replaceAll('&amp;', '&'), signedIn.url).toString(), form({ code, accept: 'Yes' }));
  return done.html;
}

beforeAll(async () => {
  env = await openTestEnv('login');
  if (keycloakAvailable()) kc = await startKeycloak(env.config);
}, 420_000);

afterAll(async () => {
  await kc?.stop();
  await env?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!keycloakAvailable())('flywheel login (real Keycloak)', () => {
  it('a password login from stdin: whoami names the person, the token file is 0600, and actions are audited under their name', async () => {
    const dir = dataDir();
    const bad = await cli(['login', '--issuer', kc.issuer, '--username', 'operator', '--password-stdin'], dir, 'not-the-password\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^flywheel: login refused: Invalid user credentials/);
    expect(fs.existsSync(path.join(dir, 'credentials', 'login.json'))).toBe(false);
    expect((await cli(['login', '--issuer', kc.issuer, '--username', 'operator'], dir)).stderr).toMatch(/--password-stdin/);

    const ok = await cli(['login', '--issuer', kc.issuer, '--username', 'operator', '--password-stdin', '--json'], dir, `${PASSWORD}\n`);
    expect(ok.code).toBe(0);
    const logged = JSON.parse(ok.stdout) as { user: string; issuer: string; file: string; refreshable: boolean };
    expect(logged).toMatchObject({ user: 'operator', issuer: kc.issuer, refreshable: true });
    expect(fs.statSync(logged.file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(logged.file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse((await cli(['whoami', '--json'], dir)).stdout)).toMatchObject({ as: 'person', user: 'operator', expired: false });

    // A mutating action is attributed to the person, not to the OS user.
    const created = await cli(['keys', 'create', '--name', `login-${path.basename(dir)}`, '--scopes', 'predict', '--json'], dir);
    expect(created.code).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const audit = JSON.parse((await cli(['audit', '--limit', '20', '--json'], dir)).stdout) as { entries: Array<{ actor: string; target: string }> };
    expect(audit.entries.find((e) => e.target === `key:${id}`)?.actor).toBe(`oidc:operator@${new URL(kc.issuer).host}`);
    await cli(['keys', 'revoke', id], dir);

    expect((await cli(['logout'], dir)).stdout.trim()).toBe('logged out');
    expect(JSON.parse((await cli(['whoami', '--json'], dir)).stdout)).toMatchObject({ as: 'local-admin-key' });
  });

  it('an expired login is refreshed before it is sent, and one that cannot be refreshed says to log in again', async () => {
    const dir = dataDir();
    expect((await cli(['login', '--issuer', kc.issuer, '--username', 'operator', '--password-stdin'], dir, PASSWORD)).code).toBe(0);
    const config = { ...env.config, dataDir: dir, apiKey: undefined };
    const before = readLogin(config)!;
    writeLogin(config, { ...before, expiresAt: Date.now() - 1_000 });
    const token = await clientCredential(config);
    expect(token).not.toBe(before.accessToken);
    expect(readLogin(config)!.expiresAt).toBeGreaterThan(Date.now());
    writeLogin(config, { ...before, expiresAt: Date.now() - 1_000, refreshToken: 'revoked-or-forged' });
    await expect(clientCredential(config)).rejects.toThrow(/run flywheel login/);
  });

  it('a device login: the CLI shows a link and a code, the person signs in on Keycloak, the CLI is logged in', async () => {
    const dir = dataDir();
    let approved: Promise<string> | undefined;
    const run = await cli(['login', '--issuer', kc.issuer, '--json'], dir, undefined, (stderr) => {
      const link = /open (\S+)/.exec(stderr)?.[1];
      if (link && !approved) approved = approveInBrowser(link, 'operator', PASSWORD);
    });
    expect(approved).toBeDefined();
    await approved;
    expect([run.code, run.stderr]).toEqual([0, expect.stringMatching(/^To log in, open http.*\nand confirm the code [A-Z]{4}-[A-Z]{4}/)]);
    expect(JSON.parse(run.stdout)).toMatchObject({ user: 'operator', issuer: kc.issuer });
  });
});
