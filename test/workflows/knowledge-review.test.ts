/**
 * KnowledgeValidation's human review on the time-skipping test server: a borderline fact waits for
 * a reviewer until the policy's deadline (24 h by default), then takes the default decision; a
 * review before the deadline decides instead. The real workflow; the stages are scripted
 * activities under their real names that return what the stages would decide for this batch.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Context } from '@temporalio/activity';
import type { ValidationPolicy } from '../../lib/knowledge/policy';
import type { CandidateRef, Decision, ResolvedFact } from '../../lib/knowledge/types';
import { knowledgeStatusQuery, reviewFactUpdate, type KnowledgeValidation } from '../../workflows/knowledge-validation';
import { CallLog, hasTestServer, NO_TEST_SERVER, openTimeSkipping, type Queues, type TimeSkipping } from './helpers/time-skipping';

const HOUR = 3_600_000;
const BATCH = 'b7e1c0ffee0000000000000000000000000000000000000000000000000000aa';

if (!hasTestServer) console.warn(`skipping the time-skipping knowledge tests: ${NO_TEST_SERVER}`);

/** A batch of three candidates: one clear fact, one borderline (one source, middling confidence), one below the minimum. */
function scriptedStages() {
  const log = new CallLog();
  const record = (name: string, input: unknown) => log.record(name, structuredClone(input), Context.current().info.currentAttemptScheduledTimestampMs);
  const candidate = (id: string, subject: string, predicate: string, object: string, confidence: number, source: string): CandidateRef => ({
    candidateId: id,
    subject: { text: subject, type: 'organisation' },
    predicate,
    object: { text: object, type: 'place' },
    confidence,
    source,
    conversation: `conv-${source}`,
  });
  const candidates = [
    candidate('c1', 'Acme', 'headquartered_in', 'Lyon', 0.95, 's1'),
    candidate('c2', 'Acme', 'headquartered_in', 'Lyon', 0.9, 's2'),
    candidate('c3', 'Globex', 'operates_in', 'Porto', 0.7, 's1'),
    candidate('c4', 'Initech', 'acquired', 'Oslo', 0.3, 's3'),
  ];
  const entity = (name: string, type: 'organisation' | 'place') => ({ id: `${type}:${name.toLowerCase()}`, name, type, isNew: false });
  const facts: ResolvedFact[] = [
    { factId: 'f-acme-lyon', subject: entity('Acme', 'organisation'), predicate: 'headquartered_in', object: entity('Lyon', 'place'), candidateIds: ['c1', 'c2'], sources: ['s1', 's2'], confidence: 0.995 },
    { factId: 'f-globex-porto', subject: entity('Globex', 'organisation'), predicate: 'operates_in', object: entity('Porto', 'place'), candidateIds: ['c3'], sources: ['s1'], confidence: 0.7 },
  ];
  const pass = (ids: string[], stage: Decision['stage']): Decision[] => ids.map((candidateId) => ({ candidateId, stage, outcome: 'pass', reason: `${stage} ok` }));
  const activities = {
    async extractKnowledge(input: unknown) {
      record('extractKnowledge', input);
      return { candidates, turns: 12, conversations: 3, extractor: 'scripted' };
    },
    async checkKnowledgeOntology(input: { candidateIds: string[] }) {
      record('checkKnowledgeOntology', input);
      return pass(input.candidateIds, 'ontology');
    },
    async checkKnowledgeConfidence(input: { candidateIds: string[]; policy: ValidationPolicy }) {
      record('checkKnowledgeConfidence', input);
      return input.candidateIds.map((candidateId): Decision => {
        const c = candidates.find((x) => x.candidateId === candidateId)!;
        return c.confidence < input.policy.minConfidence
          ? { candidateId, stage: 'confidence', outcome: 'reject', reason: `confidence ${c.confidence} below ${input.policy.minConfidence}` }
          : { candidateId, stage: 'confidence', outcome: 'pass', reason: `confidence ${c.confidence}` };
      });
    },
    async resolveKnowledgeEntities(input: { candidateIds: string[] }) {
      record('resolveKnowledgeEntities', input);
      const decisions = input.candidateIds.map((candidateId): Decision => ({ candidateId, stage: 'resolution', outcome: 'pass', reason: 'resolved to known entities', factId: facts.find((f) => f.candidateIds.includes(candidateId))!.factId }));
      return { decisions, facts };
    },
    async checkKnowledgeContradictions(input: { facts: ResolvedFact[] }) {
      record('checkKnowledgeContradictions', input);
      return input.facts.map((f) => ({ factId: f.factId, outcome: 'pass' as const, reason: 'no contradiction' }));
    },
    async corroborateKnowledge(input: { facts: ResolvedFact[]; policy: ValidationPolicy }) {
      record('corroborateKnowledge', input);
      return input.facts.map((f) =>
        f.sources.length >= input.policy.corroborationSources || f.confidence >= input.policy.acceptConfidence
          ? { factId: f.factId, outcome: 'pass' as const, reason: `${f.sources.length} sources` }
          : { factId: f.factId, outcome: 'review' as const, reason: `one source, confidence ${f.confidence}: needs a reviewer` },
      );
    },
    async openKnowledgeReviews(input: unknown) {
      record('openKnowledgeReviews', input);
    },
    async recordKnowledgeReviews(input: unknown) {
      record('recordKnowledgeReviews', input);
    },
    async commitKnowledgeFacts(input: { items: Array<{ fact: ResolvedFact }> }) {
      record('commitKnowledgeFacts', input);
      return input.items.map((i) => ({ factId: i.fact.factId, outcome: 'committed' as const }));
    },
    async recordKnowledgeTrail(input: unknown) {
      record('recordKnowledgeTrail', input);
    },
    async finishKnowledgeBatch(input: unknown) {
      record('finishKnowledgeBatch', input);
    },
  };
  return { activities, log };
}

describe.skipIf(!hasTestServer)('KnowledgeValidation review deadline with simulated time', () => {
  let ts: TimeSkipping;
  // A server per test: a failing test leaves nothing behind that could hold the next one's clock.
  beforeEach(async () => {
    ts = await openTimeSkipping();
  });
  afterEach(async () => {
    await ts?.close();
  });

  const start = (queues: Queues, policy: Partial<ValidationPolicy> = {}) =>
    ts.env.client.workflow.start<typeof KnowledgeValidation>('KnowledgeValidation', {
      taskQueue: queues.workflows,
      workflowId: `knowledge-${queues.workflows}`,
      args: [{ batchId: BATCH, transcriptUri: `/data/knowledge/${BATCH}.jsonl`, policy, taskQueues: { cpu: queues.cpu } }],
    });

  it('a borderline fact nobody reviews is rejected when the 24 h deadline passes (the default policy); the clear fact is committed', async () => {
    const stages = scriptedStages();
    await ts.withWorkers(stages.activities, async (queues) => {
      const handle = await start(queues);
      const opened = (await stages.log.waitFor('openKnowledgeReviews')).input;
      const openedAt = stages.log.calls.find((c) => c.name === 'openKnowledgeReviews')!.at;
      expect(opened).toMatchObject({ defaultDecision: 'reject', items: [{ fact: { factId: 'f-globex-porto' }, reason: 'one source, confidence 0.7: needs a reviewer' }] });
      expect(Date.parse(opened.deadline) - openedAt).toBeGreaterThanOrEqual(24 * HOUR - 60_000);
      expect(Date.parse(opened.deadline) - openedAt).toBeLessThanOrEqual(24 * HOUR);

      const result = await handle.result();
      expect(result.committed).toEqual(['f-acme-lyon']);
      expect(result.totals).toMatchObject({ candidates: 4, facts: 2, accepted: 1, committed: 1, review: 1, rejected: 1 });
      expect(stages.log.of('recordKnowledgeReviews')).toEqual([
        { workflowId: handle.workflowId, decisions: [{ factId: 'f-globex-porto', decision: 'reject', decidedBy: 'deadline', reason: 'no review within 1d: default decision reject' }] },
      ]);
      const deadlineRecorded = stages.log.calls.find((c) => c.name === 'recordKnowledgeReviews')!.at;
      expect(deadlineRecorded).toBeGreaterThanOrEqual(Date.parse(opened.deadline));
      expect(stages.log.of('commitKnowledgeFacts').flatMap((c) => c.items.map((i: { fact: ResolvedFact }) => i.fact.factId))).toEqual(['f-acme-lyon']);

      const status = await handle.query(knowledgeStatusQuery);
      expect(status.state).toBe('completed');
      expect(status.review).toMatchObject({ open: false, items: [{ factId: 'f-globex-porto', state: 'rejected', decidedBy: 'deadline' }] });
      expect(status.candidates.find((c) => c.candidateId === 'c3')).toMatchObject({ state: 'rejected', reason: 'deadline: no review within 1d: default decision reject' });
      expect(status.candidates.find((c) => c.candidateId === 'c4')).toMatchObject({ state: 'rejected', reason: 'confidence 0.3 below 0.5' });
    });
  });

  it('with reviewDefault accept and a 2 h deadline, the unreviewed fact is accepted and committed at the deadline', async () => {
    const stages = scriptedStages();
    await ts.withWorkers(stages.activities, async (queues) => {
      const handle = await start(queues, { reviewDefault: 'accept', reviewTimeoutSeconds: 7200 });
      await stages.log.waitFor('openKnowledgeReviews');
      const result = await handle.result();
      expect(result.committed).toEqual(['f-acme-lyon', 'f-globex-porto']);
      expect(stages.log.of('recordKnowledgeReviews')).toEqual([
        { workflowId: handle.workflowId, decisions: [{ factId: 'f-globex-porto', decision: 'accept', decidedBy: 'deadline', reason: 'no review within 2h: default decision accept' }] },
      ]);
      const opened = stages.log.calls.find((c) => c.name === 'openKnowledgeReviews')!;
      const recorded = stages.log.calls.find((c) => c.name === 'recordKnowledgeReviews')!;
      expect(recorded.at - opened.at).toBeGreaterThanOrEqual(7200_000 - 60_000);
    });
  });

  it('a review twelve simulated hours in decides before the deadline: the reviewer’s accept is committed, and no deadline decision is made', async () => {
    const stages = scriptedStages();
    await ts.withWorkers(stages.activities, async (queues) => {
      const handle = await start(queues);
      const opened = (await stages.log.waitFor('openKnowledgeReviews')).input;
      await ts.env.sleep(12 * HOUR);
      const waiting = await handle.query(knowledgeStatusQuery);
      expect(waiting).toMatchObject({ state: 'reviewing', stage: 'review', review: { open: true, items: [{ factId: 'f-globex-porto', state: 'waiting' }] } });

      const item = await handle.executeUpdate(reviewFactUpdate, { args: [{ factId: 'f-globex-porto', decision: 'accept', reviewer: 'ana', reason: 'confirmed in the press release' }] });
      expect(item).toMatchObject({ state: 'accepted', decidedBy: 'reviewer', reviewer: 'ana' });
      const result = await handle.result();
      expect(result.committed).toEqual(['f-acme-lyon', 'f-globex-porto']);
      // Decided and committed before the deadline (server time at each call: once a workflow is done the server's clock runs on).
      for (const name of ['recordKnowledgeReviews', 'commitKnowledgeFacts']) expect(stages.log.calls.find((c) => c.name === name)!.at).toBeLessThan(Date.parse(opened.deadline));
      expect(stages.log.of('recordKnowledgeReviews')).toEqual([
        { workflowId: handle.workflowId, decisions: [{ factId: 'f-globex-porto', decision: 'accept', decidedBy: 'reviewer', reason: 'confirmed in the press release' }] },
      ]);
    });
  });
});
