/** Read-only graph queries for people: an entity's neighbourhood and a fact's provenance. */
import type { Db } from './knowledge-store';
import { normaliseName, simplify } from '../lib/knowledge/normalise';

export interface EntityView {
  id: string;
  type: string;
  name: string;
  aliases: string[];
}

export interface NeighbourFact {
  factId: string;
  direction: 'out' | 'in';
  predicate: string;
  other: EntityView;
  confidence: number;
  sources: string[];
  candidates: number;
}

export interface Provenance {
  candidateId: string;
  batchId: string;
  workflowId: string;
  conversation: string;
  source: string;
  turn: number;
  speaker: string | null;
  span: { start: number; end: number; text: string };
  extractor: string;
  confidence: number;
  cues: string[];
  trail: Array<{ stage: string; outcome: string; reason: string }>;
}

/** Entities whose name or alias matches the text, by id, exact name or normalised key. */
export async function findEntitiesByName(db: Db, text: string): Promise<EntityView[]> {
  const keys = ['person', 'organisation', 'product', 'place', 'date'].map((t) => normaliseName(text, t));
  const { rows } = await db.query(
    `select e.id, e.type, e.name, coalesce(array_agg(a.alias order by a.alias) filter (where a.alias is not null), '{}') as aliases
       from knowledge_entities e left join knowledge_aliases a on a.entity_id = e.id
      where e.id = $1 or e.norm_key = any($2) or lower(e.name) = lower($1)
         or exists (select 1 from knowledge_aliases x where x.entity_id = e.id and (x.norm_key = any($2) or lower(x.alias) = lower($1)))
      group by e.id order by e.type, e.name`,
    [text.trim(), [...new Set([...keys, simplify(text)])]],
  );
  return rows.map((r) => ({ id: r.id, type: r.type, name: r.name, aliases: r.aliases }));
}

export async function neighbourhood(db: Db, entityId: string): Promise<NeighbourFact[]> {
  const { rows } = await db.query(
    `select f.id, case when f.subject_id = $1 then 'out' else 'in' end as direction, f.predicate, f.confidence,
            o.id as other_id, o.type as other_type, o.name as other_name,
            (select array_agg(distinct c.source order by c.source) from knowledge_provenance p join knowledge_candidates c on c.id = p.candidate_id where p.fact_id = f.id) as sources,
            (select count(*)::int from knowledge_provenance p where p.fact_id = f.id) as candidates
       from knowledge_facts f join knowledge_entities o on o.id = case when f.subject_id = $1 then f.object_id else f.subject_id end
      where f.state = 'accepted' and (f.subject_id = $1 or f.object_id = $1)
      order by direction desc, f.predicate, o.name`,
    [entityId],
  );
  return rows.map((r) => ({
    factId: r.id,
    direction: r.direction,
    predicate: r.predicate,
    other: { id: r.other_id, type: r.other_type, name: r.other_name, aliases: [] },
    confidence: r.confidence,
    sources: r.sources ?? [],
    candidates: r.candidates,
  }));
}

export async function factProvenance(db: Db, factId: string): Promise<{ fact?: { id: string; subject: string; predicate: string; object: string; confidence: number; state: string }; provenance: Provenance[] }> {
  const f = await db.query(
    `select f.id, s.name as subject, f.predicate, o.name as object, f.confidence, f.state from knowledge_facts f
       join knowledge_entities s on s.id = f.subject_id join knowledge_entities o on o.id = f.object_id where f.id = $1`,
    [factId],
  );
  const { rows } = await db.query(
    `select c.id, c.batch_id, p.workflow_id, c.conversation, c.source, c.turn, c.speaker, c.span_start, c.span_end, c.span_text, c.extractor, c.confidence, c.cues,
            coalesce((select json_agg(json_build_object('stage', v.stage, 'outcome', v.outcome, 'reason', v.reason) order by v.seq) from knowledge_validation v where v.candidate_id = c.id), '[]') as trail
       from knowledge_provenance p join knowledge_candidates c on c.id = p.candidate_id where p.fact_id = $1 order by c.conversation, c.turn, c.id`,
    [factId],
  );
  return {
    fact: f.rows[0],
    provenance: rows.map((r) => ({
      candidateId: r.id,
      batchId: r.batch_id,
      workflowId: r.workflow_id,
      conversation: r.conversation,
      source: r.source,
      turn: r.turn,
      speaker: r.speaker,
      span: { start: r.span_start, end: r.span_end, text: r.span_text },
      extractor: r.extractor,
      confidence: r.confidence,
      cues: r.cues,
      trail: r.trail,
    })),
  };
}

export async function graphCounts(db: Db): Promise<{ entities: number; aliases: number; facts: number; waitingReviews: number }> {
  const { rows } = await db.query(
    `select (select count(*)::int from knowledge_entities) as entities, (select count(*)::int from knowledge_aliases) as aliases,
            (select count(*)::int from knowledge_facts where state = 'accepted') as facts,
            (select count(*)::int from knowledge_reviews where state = 'waiting') as waiting`,
  );
  return { entities: rows[0].entities, aliases: rows[0].aliases, facts: rows[0].facts, waitingReviews: rows[0].waiting };
}
