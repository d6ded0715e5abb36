/**
 * Traffic activities: the weights the gateway routes by, per model, in basis points. A change is
 * one transaction that locks the model's traffic_revisions row, so concurrent changes to one
 * model are serialised and a gateway never reads half of one. Bucket ranges are carried forward
 * (serving/routing.ts `rebalance`), so a change moves only the units it has to.
 *
 * The functions take a pg pool and work outside Temporal too: the CLI calls them directly.
 */
import type pg from 'pg';
import type { FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { invalidInput } from './errors';
import { checkWeights, compareVersions, rebalance, type Layout, type Range } from '../serving/routing';

export type DeploymentState = 'active' | 'rejected' | 'retired';
export const DEPLOYMENT_STATES: readonly DeploymentState[] = ['active', 'rejected', 'retired'];

export interface SetTrafficWeightsInput {
  model: string;
  /** version → basis points; versions left out get 0. Must sum to 10000. */
  weights: Record<string, number>;
}

export interface SetTrafficWeightsResult {
  model: string;
  /**
   * The weights this change replaced, every deployed version included. When the weights already
   * were these (a retried call), the weights the change that set them replaced: a retry returns
   * what the first attempt would have.
   */
  previous: Record<string, number>;
  weights: Record<string, number>;
  revision: number;
  /** False when the weights were already these (a retried call). */
  changed: boolean;
}

export interface TrafficWeights {
  model: string;
  revision: number;
  weights: Record<string, number>;
  versions: Array<{ version: string; state: DeploymentState; weight: number }>;
}

export interface MarkDeploymentInput {
  model: string;
  version: string;
  state: DeploymentState;
  reason?: string;
}

export interface FaultInput {
  model: string;
  version: string;
  /** Share of requests answered with HTTP 500, in [0, 1]. */
  errorRate?: number;
  extraLatencyMs?: number;
  /** Share of rows served with another class, in [0, 1]. */
  wrongLabelRate?: number;
}

interface VersionRow {
  version: string;
  state: DeploymentState;
  weight: number | null;
  ranges: Range[] | null;
}

export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** Locks the model's revision row (creating it) and returns its revision. */
export async function lockModel(client: pg.PoolClient, model: string): Promise<number> {
  await client.query('INSERT INTO traffic_revisions (model, revision) VALUES ($1, 0) ON CONFLICT (model) DO NOTHING', [model]);
  const { rows } = await client.query<{ revision: string }>('SELECT revision FROM traffic_revisions WHERE model = $1 FOR UPDATE', [model]);
  return Number(rows[0]!.revision);
}

/** Records a change: the revision goes up and remembers the weights it replaced. */
export async function bumpRevision(client: pg.PoolClient, model: string, previous: Record<string, number>): Promise<number> {
  const { rows } = await client.query<{ revision: string }>(
    'UPDATE traffic_revisions SET revision = revision + 1, previous_weights = $2, updated_at = now() WHERE model = $1 RETURNING revision',
    [model, JSON.stringify(previous)],
  );
  return Number(rows[0]!.revision);
}

async function versionRows(client: pg.PoolClient | pg.Pool, model: string): Promise<VersionRow[]> {
  const { rows } = await client.query<VersionRow>(
    `SELECT d.version, d.state, w.weight, w.ranges FROM deployments d
       LEFT JOIN traffic_weights w ON w.model = d.model AND w.version = d.version
      WHERE d.model = $1`,
    [model],
  );
  return rows.sort((a, b) => compareVersions(a.version, b.version));
}

/** Writes weights and their carried-forward ranges for every version of the model. */
export async function writeWeights(client: pg.PoolClient, model: string, previous: Layout, weights: Record<string, number>): Promise<void> {
  const layout = rebalance(previous, weights);
  for (const [version, weight] of Object.entries(weights)) {
    await client.query(
      `INSERT INTO traffic_weights (model, version, weight, ranges, updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (model, version) DO UPDATE SET weight = EXCLUDED.weight, ranges = EXCLUDED.ranges, updated_at = now()`,
      [model, version, weight, JSON.stringify(layout[version] ?? [])],
    );
  }
}

export async function setTrafficWeights(pool: pg.Pool, input: SetTrafficWeightsInput): Promise<SetTrafficWeightsResult> {
  const bad = checkWeights(input.weights);
  if (bad) throw invalidInput(`model ${input.model}: ${bad}`);
  return inTransaction(pool, async (client) => {
    const revision = await lockModel(client, input.model);
    const rows = await versionRows(client, input.model);
    if (rows.length === 0) throw invalidInput(`model ${input.model} has no deployments: deploy a version first`);
    const known = new Map(rows.map((r) => [r.version, r]));
    for (const [version, w] of Object.entries(input.weights)) {
      const row = known.get(version);
      if (!row) throw invalidInput(`model ${input.model} has no deployed version ${version} (deployed: ${rows.map((r) => r.version).join(', ')})`);
      if (w > 0 && row.state !== 'active') throw invalidInput(`model ${input.model} version ${version} is ${row.state}: only active versions can get traffic`);
    }
    const previous = Object.fromEntries(rows.map((r) => [r.version, r.weight ?? 0]));
    const weights = Object.fromEntries(rows.map((r) => [r.version, input.weights[r.version] ?? 0]));
    if (rows.every((r) => previous[r.version] === weights[r.version])) {
      const { rows: last } = await client.query<{ previous_weights: Record<string, number> }>('SELECT previous_weights FROM traffic_revisions WHERE model = $1', [input.model]);
      const before = Object.fromEntries(rows.map((r) => [r.version, last[0]?.previous_weights[r.version] ?? 0]));
      return { model: input.model, previous: before, weights, revision, changed: false };
    }
    const layout: Layout = Object.fromEntries(rows.filter((r) => (r.weight ?? 0) > 0).map((r) => [r.version, r.ranges ?? []]));
    await writeWeights(client, input.model, layout, weights);
    return { model: input.model, previous, weights, revision: await bumpRevision(client, input.model, previous), changed: true };
  });
}

export async function getTrafficWeights(pool: pg.Pool, model: string): Promise<TrafficWeights> {
  const rows = await versionRows(pool, model);
  const { rows: rev } = await pool.query<{ revision: string }>('SELECT revision FROM traffic_revisions WHERE model = $1', [model]);
  return {
    model,
    revision: Number(rev[0]?.revision ?? 0),
    weights: Object.fromEntries(rows.map((r) => [r.version, r.weight ?? 0])),
    versions: rows.map((r) => ({ version: r.version, state: r.state, weight: r.weight ?? 0 })),
  };
}

export async function markDeployment(pool: pg.Pool, input: MarkDeploymentInput): Promise<{ model: string; version: string; state: DeploymentState; previousState: DeploymentState }> {
  if (!DEPLOYMENT_STATES.includes(input.state)) throw invalidInput(`state: must be one of ${DEPLOYMENT_STATES.join(', ')}, got ${String(input.state)}`);
  return inTransaction(pool, async (client) => {
    await lockModel(client, input.model);
    const row = (await versionRows(client, input.model)).find((r) => r.version === input.version);
    if (!row) throw invalidInput(`model ${input.model} has no deployed version ${input.version}`);
    if (input.state !== 'active' && (row.weight ?? 0) > 0) {
      throw invalidInput(`model ${input.model} version ${input.version} still has ${row.weight} basis points of traffic: move them to another version before marking it ${input.state}`);
    }
    await client.query('UPDATE deployments SET state = $3, reason = $4, updated_at = now() WHERE model = $1 AND version = $2', [
      input.model,
      input.version,
      input.state,
      input.reason ?? null,
    ]);
    return { model: input.model, version: input.version, state: input.state, previousState: row.state };
  });
}

/** Sets (or, with every rate at 0, clears) the injected faults of one deployed version. */
export async function setFault(pool: pg.Pool, input: FaultInput): Promise<FaultInput> {
  const errorRate = input.errorRate ?? 0;
  const extraLatencyMs = input.extraLatencyMs ?? 0;
  const wrongLabelRate = input.wrongLabelRate ?? 0;
  const rate = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v >= 0 && v <= 1)) throw invalidInput(`${name}: must be a number in [0, 1], got ${v}`);
  };
  rate('errorRate', errorRate);
  rate('wrongLabelRate', wrongLabelRate);
  if (!(Number.isInteger(extraLatencyMs) && extraLatencyMs >= 0 && extraLatencyMs <= 60_000)) {
    throw invalidInput(`extraLatencyMs: must be an integer in [0, 60000], got ${extraLatencyMs}`);
  }
  const { rowCount } = await pool.query('SELECT 1 FROM deployments WHERE model = $1 AND version = $2', [input.model, input.version]);
  if (!rowCount) throw invalidInput(`model ${input.model} has no deployed version ${input.version}`);
  if (errorRate === 0 && extraLatencyMs === 0 && wrongLabelRate === 0) {
    await pool.query('DELETE FROM fault_injection WHERE model = $1 AND version = $2', [input.model, input.version]);
  } else {
    await pool.query(
      `INSERT INTO fault_injection (model, version, error_rate, extra_latency_ms, wrong_label_rate, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (model, version) DO UPDATE SET error_rate = EXCLUDED.error_rate, extra_latency_ms = EXCLUDED.extra_latency_ms,
         wrong_label_rate = EXCLUDED.wrong_label_rate, updated_at = now()`,
      [input.model, input.version, errorRate, extraLatencyMs, wrongLabelRate],
    );
  }
  return { model: input.model, version: input.version, errorRate, extraLatencyMs, wrongLabelRate };
}

/** The traffic activities, bound to one configuration. */
export function createTrafficActivities(config: FlywheelConfig) {
  const pool = () => getPool(config.postgres.url);
  return {
    setTrafficWeights: (input: SetTrafficWeightsInput) => setTrafficWeights(pool(), input),
    getTrafficWeights: (input: { model: string }) => getTrafficWeights(pool(), input.model),
    markDeployment: (input: MarkDeploymentInput) => markDeployment(pool(), input),
    setFaultInjection: (input: FaultInput) => setFault(pool(), input),
  };
}
