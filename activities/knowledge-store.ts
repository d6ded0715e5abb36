/**
 * The knowledge graph in PostgreSQL. Reads serve resolution, contradiction and corroboration;
 * `commitFact` writes one fact (entities, aliases, fact, provenance, trail) in one transaction
 * keyed by (batch, fact), so a retried commit finds its own row and writes nothing twice.
 * The CLI's neighbourhood and provenance queries live here too: one place knows the schema.
 */
import type pg from 'pg';
import { matchKeys, normaliseName } from '../lib/knowledge/normalise';
import { ONTOLOGY } from '../lib/knowledge/ontology';
import { objectsConflict, type GraphFact } from '../lib/knowledge/contradiction';
import type { KnownEntity } from '../lib/knowledge/resolution';
import type { CandidateFact, Decision, EntityRef, EntityType, ResolvedFact } from '../lib/knowledge/types';

export type Db = pg.Pool | pg.PoolClient;

export async function upsertBatch(db: Db, b: { id: string; workflowId: string; sourceUri: string; policy: object }): Promise<void> {
  await db.query(
    `insert into knowledge_batches (id, workflow_id, source_uri, state, policy) values ($1, $2, $3, 'validating', $4)
     on conflict (id) do update set workflow_id = excluded.workflow_id`,
    [b.id, b.workflowId, b.sourceUri, JSON.stringify(b.policy)],
  );
}

export async function setBatchState(db: Db, id: string, state: string, counts?: object): Promise<void> {
  await db.query(
    `update knowledge_batches set state = $2, counts = coalesce($3::jsonb, counts),
       finished_at = case when $2 in ('completed', 'failed') then now() else finished_at end where id = $1`,
    [id, state, counts ? JSON.stringify(counts) : null],
  );
}

export async function saveCandidates(db: Db, batchId: string, cs: CandidateFact[]): Promise<void> {
  for (let i = 0; i < cs.length; i += 200) {
    const chunk = cs.slice(i, i + 200);
    await db.query(
      `insert into knowledge_candidates (id, batch_id, subject, subject_type, predicate, object, object_type, confidence, cues,
         conversation, source, turn, speaker, span_start, span_end, span_text, extractor)
       select * from jsonb_to_recordset($1::jsonb) as x(id text, batch_id text, subject text, subject_type text, predicate text, object text,
         object_type text, confidence double precision, cues text[], conversation text, source text, turn integer, speaker text,
         span_start integer, span_end integer, span_text text, extractor text)
       on conflict (id) do nothing`,
      [
        JSON.stringify(
          chunk.map((c) => ({
            id: c.candidateId,
            batch_id: batchId,
            subject: c.subject.text,
            subject_type: c.subject.type,
            predicate: c.predicate,
            object: c.object.text,
            object_type: c.object.type,
            confidence: c.confidence,
            cues: c.cues,
            conversation: c.span.conversation,
            source: c.span.source,
            turn: c.span.turn,
            speaker: c.span.speaker ?? null,
            span_start: c.span.start,
            span_end: c.span.end,
            span_text: c.span.text,
            extractor: c.extractor,
          })),
        ),
      ],
    );
  }
}

export interface StoredCandidate {
  candidateId: string;
  subject: { text: string; type: EntityType };
  predicate: string;
  object: { text: string; type: EntityType };
  confidence: number;
  source: string;
  conversation: string;
  /** Why the extractor set the confidence it did (hedged, reported, superseded, …). */
  cues: string[];
}

export async function loadCandidates(db: Db, batchId: string, ids?: string[]): Promise<StoredCandidate[]> {
  const { rows } = await db.query(
    `select id, subject, subject_type, predicate, object, object_type, confidence, source, conversation, cues
       from knowledge_candidates where batch_id = $1 and ($2::text[] is null or id = any($2)) order by id`,
    [batchId, ids ?? null],
  );
  return rows.map((r) => ({
    candidateId: r.id,
    subject: { text: r.subject, type: r.subject_type },
    predicate: r.predicate,
    object: { text: r.object, type: r.object_type },
    confidence: r.confidence,
    source: r.source,
    conversation: r.conversation,
    cues: r.cues ?? [],
  }));
}

/** Entities any of these mentions could resolve to, with their aliases. */
export async function findEntities(db: Db, mentions: Array<{ text: string; type: string }>): Promise<KnownEntity[]> {
  const keys = [...new Set(mentions.flatMap((m) => matchKeys(m.text, m.type)))];
  if (keys.length === 0) return [];
  const { rows } = await db.query(
    `select e.id, e.name, e.type, coalesce(array_agg(a.alias order by a.alias) filter (where a.alias is not null), '{}') as aliases
       from knowledge_entities e left join knowledge_aliases a on a.entity_id = e.id
      where e.match_keys && $1::text[] group by e.id order by e.id`,
    [keys],
  );
  return rows.map((r) => ({ id: r.id, name: r.name, type: r.type, aliases: r.aliases }));
}

/** Accepted facts touching these entities: what a new fact may repeat or contradict. */
export async function factsAbout(db: Db, entityIds: string[]): Promise<GraphFact[]> {
  if (entityIds.length === 0) return [];
  const { rows } = await db.query(
    `select f.id, f.subject_id, s.name as subject_name, f.predicate, f.object_id, o.name as object_name, o.type as object_type
       from knowledge_facts f join knowledge_entities s on s.id = f.subject_id join knowledge_entities o on o.id = f.object_id
      where f.state = 'accepted' and (f.subject_id = any($1) or f.object_id = any($1)) order by f.id`,
    [entityIds],
  );
  return rows.map((r) => ({
    factId: r.id,
    subjectId: r.subject_id,
    subjectName: r.subject_name,
    predicate: r.predicate,
    objectId: r.object_id,
    objectName: r.object_name,
    objectType: r.object_type,
  }));
}

/** Independent sources already backing each fact in the graph. */
export async function factSources(db: Db, factIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (factIds.length === 0) return out;
  const { rows } = await db.query(
    `select p.fact_id, array_agg(distinct c.source order by c.source) as sources
       from knowledge_provenance p join knowledge_candidates c on c.id = p.candidate_id where p.fact_id = any($1) group by p.fact_id`,
    [factIds],
  );
  for (const r of rows) out.set(r.fact_id, r.sources);
  return out;
}

export interface CommitRequest {
  batchId: string;
  workflowId: string;
  fact: ResolvedFact;
  /** Every stage's decisions for this fact's candidates, in order. */
  trail: Decision[];
}

export type CommitOutcome =
  | { factId: string; outcome: 'committed' | 'already-committed' }
  | { factId: string; outcome: 'rejected'; reason: string };

export async function commitFact(pool: pg.Pool, req: CommitRequest): Promise<CommitOutcome> {
  const { fact, batchId, workflowId } = req;
  const client = await pool.connect();
  try {
    await client.query('begin');
    // Serialises commits that could contradict each other (same subject and relation) across workers.
    await client.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [`knowledge:${fact.subject.id}:${fact.predicate}`]);
    const done = await client.query('select 1 from knowledge_commits where batch_id = $1 and fact_id = $2', [batchId, fact.factId]);
    if (done.rowCount) {
      await client.query('commit');
      return { factId: fact.factId, outcome: 'already-committed' };
    }
    // The graph may have moved while this fact waited for review: check again, under the lock.
    const clash = await lateContradiction(client, fact);
    if (clash) {
      const trail = [...req.trail, ...fact.candidateIds.map((candidateId) => ({ candidateId, stage: 'commit' as const, outcome: 'reject' as const, reason: clash, factId: fact.factId }))];
      await writeTrail(client, trail, 'rejected');
      await client.query('commit');
      return { factId: fact.factId, outcome: 'rejected', reason: clash };
    }
    await ensureEntity(client, fact.subject, fact.factId);
    await ensureEntity(client, fact.object, fact.factId);
    await client.query(
      `insert into knowledge_facts (id, subject_id, predicate, object_id, confidence, first_batch) values ($1, $2, $3, $4, $5, $6)
       on conflict (id) do update set confidence = greatest(knowledge_facts.confidence, excluded.confidence), updated_at = now()`,
      [fact.factId, fact.subject.id, fact.predicate, fact.object.id, fact.confidence, batchId],
    );
    const trail = [...req.trail, ...fact.candidateIds.map((candidateId) => ({ candidateId, stage: 'commit' as const, outcome: 'accept' as const, reason: `committed as ${fact.factId}`, factId: fact.factId }))];
    await writeTrail(client, trail, 'committed');
    await client.query(
      `insert into knowledge_provenance (candidate_id, fact_id, batch_id, workflow_id) select unnest($1::text[]), $2, $3, $4 on conflict (candidate_id) do nothing`,
      [fact.candidateIds, fact.factId, batchId, workflowId],
    );
    await client.query('insert into knowledge_commits (batch_id, fact_id, workflow_id) values ($1, $2, $3)', [batchId, fact.factId, workflowId]);
    await client.query('commit');
    return { factId: fact.factId, outcome: 'committed' };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

async function lateContradiction(db: Db, fact: ResolvedFact): Promise<string | undefined> {
  const spec = ONTOLOGY[fact.predicate];
  if (!spec?.functional && !spec?.asymmetric) return undefined;
  const { rows } = await db.query(
    `select f.id, f.subject_id, f.object_id, o.name as object_name from knowledge_facts f join knowledge_entities o on o.id = f.object_id
      where f.state = 'accepted' and f.predicate = $1 and (f.subject_id = $2 or (f.subject_id = $3 and f.object_id = $2))`,
    [fact.predicate, fact.subject.id, fact.object.id],
  );
  for (const r of rows) {
    if (spec.functional && r.subject_id === fact.subject.id && objectsConflict(fact.object.type, fact.object.id, fact.object.name, r.object_id, r.object_name)) {
      return `contradicts ${r.id} (${fact.subject.name} ${fact.predicate} ${r.object_name}), committed while this fact waited`;
    }
    if (spec.asymmetric && r.subject_id === fact.object.id && r.object_id === fact.subject.id) {
      return `contradicts ${r.id} (${fact.object.name} ${fact.predicate} ${fact.subject.name}), committed while this fact waited`;
    }
  }
  return undefined;
}

async function ensureEntity(db: Db, e: EntityRef, byFact: string): Promise<void> {
  const key = normaliseName(e.name, e.type);
  await db.query(
    `insert into knowledge_entities (id, type, name, norm_key, match_keys, created_by_fact) values ($1, $2, $3, $4, $5, $6)
     on conflict do nothing`,
    [e.id, e.type, e.name, key, matchKeys(e.name, e.type), byFact],
  );
  if (!e.alias) return;
  const added = await db.query(
    `insert into knowledge_aliases (entity_id, alias, norm_key, added_by_fact) values ($1, $2, $3, $4) on conflict do nothing`,
    [e.id, e.alias, normaliseName(e.alias, e.type), byFact],
  );
  if (added.rowCount) {
    await db.query(`update knowledge_entities set match_keys = array(select distinct unnest(match_keys || $2::text[])) where id = $1`, [e.id, matchKeys(e.alias, e.type)]);
  }
}

/** Rewrites each candidate's trail and final state; the same trail written twice leaves the same rows. */
export async function writeTrail(db: Db, trail: Decision[], state?: 'accepted' | 'rejected' | 'review' | 'committed'): Promise<void> {
  const byCandidate = new Map<string, Decision[]>();
  for (const d of trail) byCandidate.set(d.candidateId, [...(byCandidate.get(d.candidateId) ?? []), d]);
  const rows = [...byCandidate.entries()].flatMap(([id, ds]) => ds.map((d, seq) => ({ candidate_id: id, seq, stage: d.stage, outcome: d.outcome, reason: d.reason, fact_id: d.factId ?? null })));
  if (rows.length === 0) return;
  await db.query(
    `insert into knowledge_validation (candidate_id, seq, stage, outcome, reason, fact_id)
     select * from jsonb_to_recordset($1::jsonb) as x(candidate_id text, seq integer, stage text, outcome text, reason text, fact_id text)
     on conflict (candidate_id, seq) do update set stage = excluded.stage, outcome = excluded.outcome, reason = excluded.reason, fact_id = excluded.fact_id`,
    [JSON.stringify(rows)],
  );
  const finals = [...byCandidate.entries()].map(([id, ds]) => {
    const last = ds[ds.length - 1]!;
    const derived = state ?? (last.outcome === 'reject' ? 'rejected' : last.outcome === 'review' ? 'review' : 'accepted');
    return { id, state: derived, reason: last.reason, fact_id: ds.find((d) => d.factId)?.factId ?? null };
  });
  await db.query(
    `update knowledge_candidates c set state = x.state, reason = x.reason, fact_id = coalesce(x.fact_id, c.fact_id), updated_at = now()
       from jsonb_to_recordset($1::jsonb) as x(id text, state text, reason text, fact_id text) where c.id = x.id`,
    [JSON.stringify(finals)],
  );
}
