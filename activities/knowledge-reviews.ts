/**
 * The review table: borderline facts of every running validation, so `flywheel knowledge review
 * list` needs one query, not a query to each workflow. The workflow stays the authority on a
 * decision (its update validator); these rows mirror it for people to find.
 */
import type { Db } from './knowledge-store';
import type { ReviewOpening } from './knowledge';
import type { ReviewDecision } from '../lib/knowledge/types';

export async function openReviews(db: Db, r: ReviewOpening): Promise<void> {
  if (r.items.length === 0) return;
  await db.query(
    `insert into knowledge_reviews (workflow_id, fact_id, batch_id, subject, predicate, object, confidence, sources, reason, deadline, default_decision)
     select $1, x.fact_id, $2, x.subject, x.predicate, x.object, x.confidence, x.sources, x.reason, $3::timestamptz, $4
       from jsonb_to_recordset($5::jsonb) as x(fact_id text, subject text, predicate text, object text, confidence double precision, sources integer, reason text)
     on conflict (workflow_id, fact_id) do nothing`,
    [
      r.workflowId,
      r.batchId,
      r.deadline,
      r.defaultDecision,
      JSON.stringify(
        r.items.map((i) => ({
          fact_id: i.fact.factId,
          subject: i.fact.subject.name,
          predicate: i.fact.predicate,
          object: i.fact.object.name,
          confidence: i.fact.confidence,
          sources: i.fact.sources.length,
          reason: i.reason,
        })),
      ),
    ],
  );
}

export async function recordReview(db: Db, r: { workflowId: string; factId: string; decision: ReviewDecision; decidedBy: string; reason: string }): Promise<void> {
  await db.query(
    `update knowledge_reviews set state = $3, decided_by = $4, decision_reason = $5, decided_at = coalesce(decided_at, now())
      where workflow_id = $1 and fact_id = $2`,
    [r.workflowId, r.factId, r.decision === 'accept' ? 'accepted' : 'rejected', r.decidedBy, r.reason],
  );
}

export interface WaitingReview {
  workflowId: string;
  factId: string;
  subject: string;
  predicate: string;
  object: string;
  confidence: number;
  sources: number;
  reason: string;
  deadline: Date;
  defaultDecision: ReviewDecision;
}

export async function listWaitingReviews(db: Db, opts: { workflowId?: string; limit?: number } = {}): Promise<WaitingReview[]> {
  const { rows } = await db.query(
    `select workflow_id, fact_id, subject, predicate, object, confidence, sources, reason, deadline, default_decision
       from knowledge_reviews where state = 'waiting' and ($1::text is null or workflow_id = $1)
      order by deadline, workflow_id, fact_id limit $2`,
    [opts.workflowId ?? null, opts.limit ?? 200],
  );
  return rows.map((r) => ({
    workflowId: r.workflow_id,
    factId: r.fact_id,
    subject: r.subject,
    predicate: r.predicate,
    object: r.object,
    confidence: r.confidence,
    sources: r.sources,
    reason: r.reason,
    deadline: r.deadline,
    defaultDecision: r.default_decision,
  }));
}
