/**
 * Orphaned traffic: a CanaryRollout or ABTest splits a model's traffic while it runs and puts it back
 * when it ends, is rolled back or is cancelled. A terminated workflow (or one that failed mid-step)
 * cannot: its split stays. These functions find models whose traffic is split across versions with
 * no running workflow that owns it, and say which version should take all of it. Pure: the caller
 * reads PostgreSQL, Temporal's visibility and the registry.
 */

/** A model's weights as traffic_weights holds them (basis points per version). */
export interface ModelWeights {
  model: string;
  weights: Record<string, number>;
  /** traffic_revisions.revision: a repair changes nothing when it moved on since the check. */
  revision: number;
  /** When the weights last changed (ms since the epoch). */
  updatedMs: number;
}

/** A running workflow that may own a model's split. */
export interface RunningWorkflow {
  workflowId: string;
  workflowType: string;
  /** The FlywheelModel search attribute, when set. */
  model?: string;
}

export interface OrphanFinding {
  model: string;
  kind: 'unowned-split';
  weights: Record<string, number>;
  revision: number;
  /** Versions with traffic, highest weight first. */
  serving: string[];
  reason: string;
}

/** Workflow types that split a model's traffic while they run. */
export const TRAFFIC_OWNER_TYPES = ['CanaryRollout', 'ABTest'] as const;

/** Id prefixes of the traffic owners (cli: `canary-<model>`, `ab-<model>`). */
const ID_PREFIX: Record<string, string> = { CanaryRollout: 'canary-', ABTest: 'ab-' };

/** The model a running workflow owns the traffic of: its search attribute, or else its id. */
export function ownedModel(w: RunningWorkflow): string | undefined {
  if (!(TRAFFIC_OWNER_TYPES as readonly string[]).includes(w.workflowType)) return undefined;
  if (w.model) return w.model;
  const prefix = ID_PREFIX[w.workflowType]!;
  return w.workflowId.startsWith(prefix) && w.workflowId.length > prefix.length ? w.workflowId.slice(prefix.length) : undefined;
}

export interface FindOrphansInput {
  weights: ModelWeights[];
  running: RunningWorkflow[];
  nowMs: number;
  /** Weights changed this recently are left alone: the workflow that changed them may not be visible yet. */
  graceMs: number;
}

/** Versions with traffic, highest weight first (ties: the lower version number first). */
export function servingVersions(weights: Record<string, number>): string[] {
  return Object.entries(weights)
    .filter(([, w]) => w > 0)
    .sort((a, b) => b[1] - a[1] || Number(a[0]) - Number(b[0]) || a[0].localeCompare(b[0]))
    .map(([v]) => v);
}

export function findOrphans({ weights, running, nowMs, graceMs }: FindOrphansInput): OrphanFinding[] {
  const owned = new Set(running.map(ownedModel).filter((m): m is string => m !== undefined));
  const findings: OrphanFinding[] = [];
  for (const m of [...weights].sort((a, b) => a.model.localeCompare(b.model))) {
    const serving = servingVersions(m.weights);
    if (serving.length < 2 || owned.has(m.model) || nowMs - m.updatedMs < graceMs) continue;
    const split = serving.map((v) => `v${v} ${m.weights[v]! / 100}%`).join(', ');
    findings.push({ model: m.model, kind: 'unowned-split', weights: m.weights, revision: m.revision, serving, reason: `traffic is split (${split}) but no running canary rollout or A/B test owns it` });
  }
  return findings;
}

/**
 * The version that takes all traffic in a repair: the registry's champion when it is one of the
 * versions serving, else the one with the most traffic.
 */
export function repairTarget(finding: OrphanFinding, champion: string | undefined): { version: string; reason: string } {
  if (champion !== undefined && finding.serving.includes(champion)) return { version: champion, reason: `v${champion} is the champion` };
  const top = finding.serving[0]!;
  return { version: top, reason: `${champion === undefined ? 'no champion' : `champion v${champion} is not serving`}: v${top} had the most traffic (${finding.weights[top]! / 100}%)` };
}
