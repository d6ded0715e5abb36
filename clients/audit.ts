/** The audit trail (table audit_log): who did what to what, when, and how it ended. */
import os from 'node:os';
import type pg from 'pg';
import type { FlywheelConfig } from '../config/index';
import { readLogin } from '../traffic/credentials';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  outcome: 'ok' | 'denied' | 'failed' | string;
  detail?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'target'>> {
  id: string;
  at: Date;
  target: string | null;
}

export async function audit(db: pg.Pool, e: AuditEntry): Promise<void> {
  await db.query('INSERT INTO audit_log (actor, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5)', [
    e.actor,
    e.action,
    e.target ?? null,
    e.outcome,
    JSON.stringify(e.detail ?? {}),
  ]);
}

/** Never lets a failed audit write fail the action it describes (the action already happened). */
export async function auditQuietly(db: pg.Pool, e: AuditEntry, warn: (msg: string) => void = () => undefined): Promise<void> {
  try {
    await audit(db, e);
  } catch (err) {
    warn(`audit log not written: ${(err as Error).message}`);
  }
}

export async function listAudit(db: pg.Pool, opts: { limit: number; action?: string }): Promise<AuditRecord[]> {
  const { rows } = await db.query<{ id: string; at: Date; actor: string; action: string; target: string | null; outcome: string; detail: Record<string, unknown> }>(
    `SELECT id, at, actor, action, target, outcome, detail FROM audit_log ${opts.action ? 'WHERE action = $2' : ''} ORDER BY id DESC LIMIT $1`,
    opts.action ? [opts.limit, opts.action] : [opts.limit],
  );
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

/** Who runs the CLI on this machine: an operator, not a gateway client. */
/**
 * Who a CLI action is attributed to: the person logged in with `flywheel login` (their name at the
 * issuer that vouched for it), else the operating-system user on this host.
 */
export function localActor(config?: FlywheelConfig): string {
  const login = config ? readLogin(config) : undefined;
  if (login) return `oidc:${login.subject}@${new URL(login.issuer).host}`;
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return `cli:${user}@${os.hostname()}`;
}

/** Runs an action and records it, whether it succeeded (`ok`, with `detail(result)`) or failed (`failed`, with the error). */
export async function audited<T>(
  db: pg.Pool,
  entry: Omit<AuditEntry, 'outcome'>,
  fn: () => Promise<T>,
  detail: (result: T) => Record<string, unknown> = () => ({}),
): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await auditQuietly(db, { ...entry, outcome: 'failed', detail: { ...entry.detail, error: (err as Error).message.split('\n')[0] } });
    throw err;
  }
  await auditQuietly(db, { ...entry, outcome: 'ok', detail: { ...entry.detail, ...detail(result) } });
  return result;
}
