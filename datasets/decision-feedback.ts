/**
 * Which feedback may move a decision (canary verdicts, A/B results, drift) or become training data
 * (production snapshots, datasets/production.ts), read on the server side so that no workflow input
 * or recorded history changes. Here, not in activities/, because both the activities and the dataset
 * loader read it:
 *
 *  - by default, every client's feedback counts except items the gateway flagged
 *    `client_burst_contradiction` (a burst of one client's labels contradicting what other clients
 *    say about the same unit and version: lib/feedback/quality.ts). They stay stored, with their
 *    quality, for anyone to inspect; they just do not vote.
 *  - a model with a row in `decision_feedback_clients` counts only feedback from the clients listed
 *    there (client ids `key:<id>` / `oidc:<subject>`, or API key names), set with
 *    `flywheel feedback-clients set`.
 */
import type pg from 'pg';

export const EXCLUDED_FROM_DECISIONS = 'client_burst_contradiction';

/** SQL: true when feedback row `alias` may count; `clientsParam` is a text[] parameter (null: every client). */
export function decisionFeedbackSql(alias: string, clientsParam: string): string {
  return `(not ('${EXCLUDED_FROM_DECISIONS}' = any(${alias}.quality_flags)) and (${clientsParam}::text[] is null or ${alias}.client_id = any(${clientsParam}::text[])))`;
}

/**
 * The client ids whose feedback counts for `model`, or null when every client's does. API key names
 * in the list are resolved to their `key:<id>` client ids here, at each read, so a key created later
 * under a listed name counts from then on. A database from before the table existed: every client.
 */
export async function decisionClients(db: Pick<pg.Pool, 'query'>, model: string): Promise<string[] | null> {
  try {
    const { rows } = await db.query<{ clients: string[] | null }>(
      `select array(select unnest(d.clients) union select 'key:' || k.id from api_keys k where k.name = any(d.clients)) as clients
       from decision_feedback_clients d where d.model = $1`,
      [model],
    );
    return rows[0]?.clients ?? null;
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return null; // undefined_table: not migrated yet
    throw err;
  }
}
