/**
 * KnowledgeValidation on the real stack (Temporal, PostgreSQL): a contradiction is rejected with
 * its reason, an alias is merged into the existing entity, reviews are decided through the Update
 * (unknown and decided facts refused) and the deadline gives the rest the default decision.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../../db/migrate';
import { knowledgeStatusQuery, reviewFactUpdate, type KnowledgeStatus } from '../../workflows/knowledge-validation';
import { runKnowledgeWorkers, startBatch, transcript, uniqueSurname } from '../fixtures/knowledge/harness';
import { openTestEnv, type TestEnv } from './helpers/env';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv('knowledge');
  await migrate(env.config.postgres.url);
});
afterAll(async () => {
  await env?.close();
});

const claim = (s: KnowledgeStatus, text: string) => s.candidates.find((c) => `${c.subject.text} ${c.predicate} ${c.object.text}` === text);

it('rejects a contradiction with its reason and merges an alias instead of duplicating the entity', async () => {
  const person = `Marie ${uniqueSurname()}`;
  const org = `${uniqueSurname()} Corporation`;
  const shortOrg = org.replace(' Corporation', '');
  await runKnowledgeWorkers(env.config, env.taskQueues, async () => {
    const first = await startBatch(
      env.client,
      env.config,
      env.taskQueues,
      transcript([
        { conversation: `a-${person}`, text: `${person} was born in London.` },
        { conversation: `a-${person}`, text: `${person} works for ${org}.` },
      ]),
    );
    const a = await first.result();
    expect(a.totals.committed).toBe(2);

    const second = await startBatch(
      env.client,
      env.config,
      env.taskQueues,
      transcript([
        { conversation: `b-${person}`, text: `${person} was born in Paris.` },
        { conversation: `b-${person}`, text: `${person} works for ${shortOrg}.` },
      ]),
    );
    const b = await second.result();
    const s = await second.query(knowledgeStatusQuery);

    const paris = claim(s, `${person} born_in Paris`)!;
    expect(paris.state).toBe('rejected');
    expect(paris.reason).toMatch(new RegExp(`^contradicts f-[0-9a-f]{12} \\(${person} born_in London\\): born_in has one value per subject, this says Paris$`));
    expect(paris.decisions.map((d) => `${d.stage}:${d.outcome}`)).toEqual(['extract:pass', 'ontology:pass', 'confidence:pass', 'resolution:pass', 'contradiction:reject']);

    const works = claim(s, `${person} works_for ${shortOrg}`)!;
    expect(works.state).toBe('committed');
    expect(works.decisions.find((d) => d.stage === 'resolution')!.reason).toContain(`"${shortOrg}" is ${org}`);
    expect(works.decisions.find((d) => d.stage === 'corroboration')!.reason).toMatch(/^corroborated by 2 independent sources/);
    expect(b.totals).toMatchObject({ committed: 1, rejected: 1 });

    const entities = await env.db.query(`select id, name from knowledge_entities where type = 'organisation' and name ilike $1`, [`${shortOrg}%`]);
    expect(entities.rows).toHaveLength(1);
    const aliases = await env.db.query('select alias from knowledge_aliases where entity_id = $1', [entities.rows[0].id]);
    expect(aliases.rows.map((r) => r.alias)).toEqual([shortOrg]);
    // One fact, two pieces of provenance; the graph still says London only.
    const facts = await env.db.query(
      `select f.predicate, o.name, (select count(*)::int from knowledge_provenance p where p.fact_id = f.id) as provenance
         from knowledge_facts f join knowledge_entities s on s.id = f.subject_id join knowledge_entities o on o.id = f.object_id where s.name = $1 order by f.predicate`,
      [person],
    );
    expect(facts.rows).toEqual([
      { predicate: 'born_in', name: 'London', provenance: 1 },
      { predicate: 'works_for', name: org, provenance: 2 },
    ]);
    const trail = await env.db.query(`select state, reason from knowledge_candidates where id = $1`, [paris.candidateId]);
    expect(trail.rows[0]).toEqual({ state: 'rejected', reason: paris.reason });
  });
});

it('decides borderline facts through the review update, and the deadline gives the rest the default', async () => {
  const person = `Marie ${uniqueSurname()}`;
  const [p1, p2] = [uniqueSurname(), uniqueSurname()];
  await runKnowledgeWorkers(env.config, env.taskQueues, async () => {
    const handle = await startBatch(
      env.client,
      env.config,
      env.taskQueues,
      transcript([
        // Borderline confidence: a hedged residence ("maybe": 0.90 × 0.6) and a hedged birthplace ("I think":
        // × 0.6), both above the 0.5 floor and below acceptance. (A cue far from its name stopped being
        // borderline with flywheel-patterns/6, which reads past an apposition to its subject.)
        { conversation: `r-${person}`, text: `Maybe ${person} lives in ${p1}.` },
        { conversation: `r-${person}`, text: `I think ${person} was born in ${p2}.` },
      ]),
      { reviewTimeoutSeconds: 8, reviewDefault: 'reject' },
    );
    let s: KnowledgeStatus;
    for (;;) {
      s = await handle.query(knowledgeStatusQuery);
      if (s.state !== 'running' || s.stage === 'commit') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(s.state).toBe('reviewing');
    expect(s.review!.items).toHaveLength(2);
    const lives = s.review!.items.find((i) => i.summary === `${person} lives_in ${p1}`)!;
    const born = s.review!.items.find((i) => i.summary === `${person} born_in ${p2}`)!;
    expect(lives.reason).toMatch(/^borderline: confidence 0\.\d\d from 1 source/);

    const listed = await env.db.query(`select fact_id, state, default_decision from knowledge_reviews where workflow_id = $1 order by fact_id`, [handle.workflowId]);
    expect(listed.rows.map((r) => r.fact_id).sort()).toEqual([lives.factId, born.factId].sort());

    await expect(handle.executeUpdate(reviewFactUpdate, { args: [{ factId: 'f-000000000000', decision: 'accept' }] })).rejects.toThrow(WorkflowUpdateFailedError);
    const accepted = await handle.executeUpdate(reviewFactUpdate, { args: [{ factId: lives.factId, decision: 'accept', reason: 'checked the HR record', reviewer: 'ana' }] });
    expect(accepted).toMatchObject({ state: 'accepted', decidedBy: 'reviewer', decisionReason: 'checked the HR record' });
    const again = await handle.executeUpdate(reviewFactUpdate, { args: [{ factId: lives.factId, decision: 'reject' }] }).catch((e) => e);
    expect(again).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((again as WorkflowUpdateFailedError).cause?.message).toBe(`fact ${lives.factId} was already accepted`);

    const result = await handle.result();
    const end = await handle.query(knowledgeStatusQuery);
    expect(result.committed).toEqual([lives.factId]);
    const bornEnd = end.review!.items.find((i) => i.factId === born.factId)!;
    expect(bornEnd).toMatchObject({ state: 'rejected', decidedBy: 'deadline', decisionReason: 'no review within 8s: default decision reject' });
    expect(claim(end, `${person} born_in ${p2}`)).toMatchObject({ state: 'rejected', reason: 'deadline: no review within 8s: default decision reject' });
    expect(claim(end, `${person} lives_in ${p1}`)!.decisions.map((d) => d.stage)).toEqual(['extract', 'ontology', 'confidence', 'resolution', 'contradiction', 'corroboration', 'review', 'commit']);

    const rows = await env.db.query(`select fact_id, state, decided_by from knowledge_reviews where workflow_id = $1 order by decided_by`, [handle.workflowId]);
    expect(rows.rows).toEqual([
      { fact_id: born.factId, state: 'rejected', decided_by: 'deadline' },
      { fact_id: lives.factId, state: 'accepted', decided_by: 'reviewer' },
    ]);
    const trail = await env.db.query(
      `select v.stage, v.outcome from knowledge_validation v join knowledge_provenance p on p.candidate_id = v.candidate_id where p.fact_id = $1 order by v.seq`,
      [lives.factId],
    );
    expect(trail.rows.map((r) => r.stage)).toEqual(['extract', 'ontology', 'confidence', 'resolution', 'contradiction', 'corroboration', 'review', 'commit']);
  });
});

it('rejects hearsay and a superseded residence with their reasons, and keeps the current one', async () => {
  const person = `Marie ${uniqueSurname()}`;
  await runKnowledgeWorkers(env.config, env.taskQueues, async () => {
    const handle = await startBatch(
      env.client,
      env.config,
      env.taskQueues,
      transcript([
        { conversation: `h-${person}`, text: `My cousin insists ${person} was born in Paris.` },
        { conversation: `h-${person}`, text: `${person} lived in Lisbon until 2020 but now lives in Porto.` },
      ]),
      { reviewTimeoutSeconds: 1 },
    );
    await handle.result();
    const s = await handle.query(knowledgeStatusQuery);

    const hearsay = claim(s, `${person} born_in Paris`)!;
    expect(hearsay.state).toBe('rejected');
    expect(hearsay.reason).toMatch(/^reported: someone else's claim, passed on \(hearsay\), not the speaker's own: confidence 0\.\d\d is below 0\.50$/);
    expect(hearsay.decisions.map((d) => `${d.stage}:${d.outcome}`)).toEqual(['extract:pass', 'ontology:pass', 'confidence:reject']);

    const lisbon = claim(s, `${person} lives_in Lisbon`)!;
    expect(lisbon.state).toBe('rejected');
    expect(lisbon.reason).toMatch(/^superseded: the text says it held until a change/);
    expect(claim(s, `${person} lives_in Porto`)!.state).toBe('committed');

    const stored = await env.db.query(`select state, reason from knowledge_candidates where id = $1`, [hearsay.candidateId]);
    expect(stored.rows[0]).toEqual({ state: 'rejected', reason: hearsay.reason });
  });
});
