/**
 * Who Flywheel tells Temporal it is: the `identity` every client and worker sends, recorded in
 * workflow history (who started, signalled, updated or terminated a workflow; which worker ran a
 * task). Temporal's default is `<pid>@<host>`, which names no person.
 *
 *   CLI      flywheel-cli:<OS user>@<host>, plus ` oidc:<user>@<issuer host>` when a person
 *            logged in with `flywheel login`, else ` key:<id>` when the CLI holds an API key
 *            (FLYWHEEL_API_KEY or the local admin key): the key id, never the secret
 *   workers  flywheel-<role>:<pid>@<host>  (workflow-worker, cpu-worker, control-worker)
 *
 * Without mTLS to Temporal this is a claim, not a proof: it names who acted for a reader of the
 * history; it does not stop anyone who can reach the Temporal port (docs/security.md).
 */
import os from 'node:os';
import type { FlywheelConfig } from '../config/index';
import { clientApiKey, readLogin } from '../traffic/credentials';

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown'; // no passwd entry
  }
}

/** The id part of an API key `fw_<16 hex>_<secret>`; undefined for anything else. */
export function apiKeyId(key: string | undefined): string | undefined {
  const m = key ? /^fw_([0-9a-f]{16})_/.exec(key) : null;
  return m ? m[1] : undefined;
}

export function cliIdentity(config: FlywheelConfig): string {
  const base = `flywheel-cli:${osUser()}@${os.hostname()}`;
  const login = config.apiKey ? undefined : readLogin(config);
  if (login) return `${base} oidc:${login.subject}@${new URL(login.issuer).host}`;
  const id = apiKeyId(clientApiKey(config));
  return `${base}${id ? ` key:${id}` : ''}`;
}

export function workerIdentity(role: string): string {
  return `flywheel-${role}:${process.pid}@${os.hostname()}`;
}
