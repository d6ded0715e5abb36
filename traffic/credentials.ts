/**
 * The credential a client on this machine (the CLI, `flywheel traffic replay`, the demo) sends to
 * the gateway: FLYWHEEL_API_KEY, else the local admin key `flywheel up` wrote to
 * <data folder>/credentials/cli.key (0600). Undefined when neither exists (a gateway running with
 * FLYWHEEL_GATEWAY_AUTH=off needs none). A person who ran `flywheel login` sends their own token
 * instead of the admin key (`clientCredential`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataPaths, type FlywheelConfig } from '../config/index';
import { discover, refresh, type TokenSet } from '../clients/oidc-login';

export function cliKeyFile(config: FlywheelConfig): string {
  return path.join(dataPaths(config).credentials, 'cli.key');
}

export function clientApiKey(config: FlywheelConfig): string | undefined {
  if (config.apiKey) return config.apiKey;
  try {
    const key = fs.readFileSync(cliKeyFile(config), 'utf8').trim();
    return key.length > 0 ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the key with 0600 in a 0700 folder (created if needed); never overwrites another key. */
export function writeCliKey(config: FlywheelConfig, key: string): string {
  const file = cliKeyFile(config);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

// ── a person's login (`flywheel login`) ──────────────────────────────────────────────────────
export function loginFile(config: FlywheelConfig): string {
  return path.join(dataPaths(config).credentials, 'login.json');
}

export function readLogin(config: FlywheelConfig): TokenSet | undefined {
  try {
    const t = JSON.parse(fs.readFileSync(loginFile(config), 'utf8')) as TokenSet;
    return typeof t.accessToken === 'string' && typeof t.issuer === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the login atomically: 0600 in a 0700 folder. */
export function writeLogin(config: FlywheelConfig, tokens: TokenSet): string {
  const file = loginFile(config);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(tokens)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
  return file;
}

export function clearLogin(config: FlywheelConfig): boolean {
  const file = loginFile(config);
  const had = fs.existsSync(file);
  fs.rmSync(file, { force: true });
  return had;
}

/**
 * What a CLI call sends to the gateway: FLYWHEEL_API_KEY, else the person's login (refreshed when
 * it has less than 30 s left), else the local admin key. A login that can no longer be refreshed
 * is an error that says to log in again, never a silent fall-back to the admin key.
 */
export async function clientCredential(config: FlywheelConfig): Promise<string | undefined> {
  if (config.apiKey) return config.apiKey;
  const login = readLogin(config);
  if (login) {
    if (login.expiresAt - Date.now() > 30_000) return login.accessToken;
    const fresh = await refresh(await discover(login.issuer), login);
    writeLogin(config, fresh);
    return fresh.accessToken;
  }
  return clientApiKey(config);
}
