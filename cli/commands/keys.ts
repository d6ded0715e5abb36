/**
 * `flywheel keys create|list|revoke` (the gateway's API keys) and `flywheel audit` (who did what).
 * A key's secret is printed once, by create; the store keeps only its SHA-256 (clients/api-keys.ts).
 */
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { createApiKey, listApiKeys, revokeApiKey } from '../../clients/api-keys';
import { auditQuietly, listAudit, localActor } from '../../clients/audit';
import { closePools, getPool } from '../../clients/db';
import { migrate } from '../../db/migrate';
import { parseScopes } from '../../lib/auth/credentials';
import { json } from '../command-kit';
import { CliError, printFields, printJson, printTable } from '../output';
import { asCliError, type WithConfig } from './serving';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$/;
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** `30d`, `12h`, `90m` → milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+)([dhm])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new CliError(`${flag}: a duration such as 90d, 12h or 30m, got ${JSON.stringify(text)}`, 2);
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
}

async function withStore<T>(config: FlywheelConfig, fn: (db: ReturnType<typeof getPool>) => Promise<T>): Promise<T> {
  const db = getPool(config.postgres.url);
  try {
    // The key store came with a migration: a stack started before it still works.
    await migrate(config.postgres.url);
    return await fn(db);
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
}

interface CreateOptions {
  name: string;
  scopes: string;
  models?: string;
  expiresIn?: string;
  json?: boolean;
}

export async function createKeyCommand(config: FlywheelConfig, opts: CreateOptions): Promise<void> {
  if (!NAME.test(opts.name)) throw new CliError(`--name: letters, digits and . _ : @ - (up to 100), got ${JSON.stringify(opts.name)}`, 2);
  const scopes = parseScopes(opts.scopes);
  if (!scopes.ok) throw new CliError(scopes.message, 2);
  let models: string[] | null = null;
  if (opts.models !== undefined) {
    models = opts.models.split(',').map((m) => m.trim()).filter((m) => m.length > 0);
    const bad = models.find((m) => !MODEL.test(m));
    if (models.length === 0 || bad !== undefined) throw new CliError(`--models: comma-separated model names, got ${JSON.stringify(opts.models)}`, 2);
  }
  const expiresAt = opts.expiresIn === undefined ? null : new Date(Date.now() + parseDuration('--expires-in', opts.expiresIn));
  const actor = localActor(config);
  const { key, record } = await withStore(config, async (db) => {
    const created = await createApiKey(db, { name: opts.name, scopes: scopes.value, models, expiresAt, createdBy: actor });
    await auditQuietly(db, { actor, action: 'keys.create', target: `key:${created.record.id}`, outcome: 'ok', detail: { name: opts.name, scopes: scopes.value, models, expiresAt } });
    return created;
  });
  if (opts.json) return printJson({ key, ...record });
  printFields({
    key,
    id: record.id,
    name: record.name,
    scopes: record.scopes,
    models: record.models ?? 'all',
    expires: record.expiresAt ?? 'never',
  });
  process.stderr.write('This is the only time the key is shown: store it now (it is kept only as a SHA-256 digest).\n');
}

export async function listKeysCommand(config: FlywheelConfig, opts: { all?: boolean; json?: boolean }): Promise<void> {
  const keys = await withStore(config, (db) => listApiKeys(db, { all: opts.all }));
  if (opts.json) return printJson({ keys });
  const now = Date.now();
  printTable(
    keys.map((k) => ({
      id: k.id,
      name: k.name,
      scopes: k.scopes,
      models: k.models ?? 'all',
      expires: k.expiresAt ?? 'never',
      state: k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt.getTime() <= now ? 'expired' : 'active',
      created: k.createdAt,
    })),
  );
}

export async function revokeKeyCommand(config: FlywheelConfig, idOrKey: string, opts: { json?: boolean }): Promise<void> {
  // The id, or the whole key (its id is the part after fw_).
  const id = /^fw_([0-9a-f]{16})_/.exec(idOrKey)?.[1] ?? idOrKey;
  if (!/^[0-9a-f]{16}$/.test(id)) throw new CliError(`key id: 16 hex digits (as \`flywheel keys list\` shows), got ${JSON.stringify(idOrKey)}`, 2);
  const actor = localActor(config);
  const result = await withStore(config, async (db) => {
    const r = await revokeApiKey(db, id);
    await auditQuietly(db, { actor, action: 'keys.revoke', target: `key:${id}`, outcome: r === 'revoked' ? 'ok' : r });
    return r;
  });
  if (result === 'unknown') throw new CliError(`no API key has id ${id} (flywheel keys list --all)`, 2);
  if (opts.json) return printJson({ id, revoked: true, already: result === 'already' });
  printFields({ revoked: `key ${id}${result === 'already' ? ' (already revoked)' : ''}`, effective: `within ${config.gateway.auth.keyCacheMs / 1000} s on every gateway` });
}

export async function auditCommand(config: FlywheelConfig, opts: { limit: string; action?: string; json?: boolean }): Promise<void> {
  const limit = Number(opts.limit);
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) throw new CliError(`--limit: an integer from 1 to 10000, got ${opts.limit}`, 2);
  const rows = await withStore(config, (db) => listAudit(db, { limit, action: opts.action }));
  if (opts.json) return printJson({ entries: rows });
  printTable(rows.map((r) => ({ at: r.at, actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, detail: Object.keys(r.detail).length > 0 ? r.detail : undefined })));
}

/**
 * `flywheel feedback-clients set|clear|show <model>`: the only clients whose feedback that model's
 * decisions and production snapshots count (datasets/decision-feedback.ts). Entries are client ids (`key:<id>`,
 * `oidc:<subject>`) or API key names. Changes are written to the audit log.
 */
export async function feedbackClientsCommand(config: FlywheelConfig, what: 'set' | 'clear' | 'show', model: string, clients: string[], opts: { json?: boolean }): Promise<void> {
  if (!MODEL.test(model)) throw new CliError(`<model>: a model name, got ${JSON.stringify(model)}`, 2);
  const bad = clients.find((c) => !NAME.test(c));
  if (bad !== undefined) throw new CliError(`<clients>: client ids (key:<id>, oidc:<subject>) or key names, got ${JSON.stringify(bad)}`, 2);
  if (what === 'set' && clients.length === 0) throw new CliError('set: name at least one client (clear removes the list)', 2);
  const actor = localActor();
  const now = await withStore(config, async (db) => {
    if (what === 'set') {
      await db.query(
        `insert into decision_feedback_clients (model, clients, updated_by) values ($1, $2, $3)
         on conflict (model) do update set clients = excluded.clients, updated_by = excluded.updated_by, updated_at = now()`,
        [model, clients, actor],
      );
      await auditQuietly(db, { actor, action: 'feedback-clients.set', target: `model:${model}`, outcome: 'ok', detail: { clients } });
    } else if (what === 'clear') {
      await db.query('delete from decision_feedback_clients where model = $1', [model]);
      await auditQuietly(db, { actor, action: 'feedback-clients.clear', target: `model:${model}`, outcome: 'ok' });
    }
    const { rows } = await db.query<{ clients: string[] }>('select clients from decision_feedback_clients where model = $1', [model]);
    return rows[0]?.clients ?? null;
  });
  if (opts.json) return printJson({ model, clients: now });
  printFields({ model, 'decisions count feedback from': now ? now.join(', ') : 'every authenticated client (no list)' });
}

export function registerKeysCommands(program: Command, withConfig: WithConfig): void {
  const fc = program.command('feedback-clients').description("the only clients whose feedback a model's canary, A/B and drift decisions and its production snapshots count");
  json(fc.command('set <model> <clients...>').description('count only these clients (client ids key:<id> / oidc:<subject>, or key names)')).action(
    withConfig((config, model: string, clients: string[], opts: { json?: boolean }) => feedbackClientsCommand(config, 'set', model, clients, opts)),
  );
  json(fc.command('clear <model>').description("count every client's feedback again")).action(
    withConfig((config, model: string, opts: { json?: boolean }) => feedbackClientsCommand(config, 'clear', model, [], opts)),
  );
  json(fc.command('show <model>').description('the list, if any')).action(withConfig((config, model: string, opts: { json?: boolean }) => feedbackClientsCommand(config, 'show', model, [], opts)));

  const keys = program.command('keys').description("the serving gateway's API keys (scopes: predict, feedback, metrics, admin)");
  json(
    keys
      .command('create')
      .description('create a key; its secret is printed once')
      .requiredOption('--name <name>', 'who or what uses it (e.g. checkout-service)')
      .requiredOption('--scopes <list>', 'comma-separated: predict, feedback, metrics, admin')
      .option('--models <list>', 'only these models (default: every model)')
      .option('--expires-in <duration>', 'e.g. 90d, 12h (default: never)'),
  ).action(withConfig((config, opts: CreateOptions) => createKeyCommand(config, opts)));
  json(keys.command('list').description('keys that can be used (with --all: revoked and expired too)').option('--all', 'include revoked and expired keys')).action(
    withConfig((config, opts: { all?: boolean; json?: boolean }) => listKeysCommand(config, opts)),
  );
  json(keys.command('revoke').description('revoke a key (by id, or the key itself); gateways refuse it within seconds').argument('<id>', 'key id')).action(
    withConfig((config, id: string, opts: { json?: boolean }) => revokeKeyCommand(config, id, opts)),
  );
  json(
    program
      .command('audit')
      .description('the audit trail: who did what, when, to what, and how it ended')
      .option('--limit <n>', 'newest entries to show', '50')
      .option('--action <name>', 'only this action (e.g. keys.create, keys.revoke, traffic.fault)'),
  ).action(withConfig((config, opts: { limit: string; action?: string; json?: boolean }) => auditCommand(config, opts)));
}
