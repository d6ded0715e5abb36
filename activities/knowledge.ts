/**
 * Knowledge activities: extraction, then one activity per validation stage over the batch (each
 * stage's decisions land in history, so a replay after a code change keeps the decisions made),
 * review bookkeeping, and the per-fact commit. Candidates stay in PostgreSQL; the workflow holds
 * only ids, names and verdicts.
 */
import { readFile } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import type { FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { checkConfidence } from '../lib/knowledge/confidence';
import { checkAgainstGraph, checkWithinBatch } from '../lib/knowledge/contradiction';
import { corroborate } from '../lib/knowledge/corroboration';
import { extractCandidates } from '../lib/knowledge/extract/extractor';
import { parseTranscript } from '../lib/knowledge/extract/transcript';
import { groupFacts, type ResolvedCandidate } from '../lib/knowledge/facts';
import { contentDigest } from '../lib/knowledge/ids';
import { checkOntology } from '../lib/knowledge/ontology';
import type { ValidationPolicy } from '../lib/knowledge/policy';
import { EntityResolver } from '../lib/knowledge/resolution';
import type { CandidateRef, Decision, ResolvedFact, ReviewDecision } from '../lib/knowledge/types';
import { invalidInput } from './errors';
import { getFileStore, StoreMiss } from '../datasets/file-store';
import { commitFact, factSources, factsAbout, findEntities, loadCandidates, saveCandidates, setBatchState, upsertBatch, writeTrail, type CommitOutcome } from './knowledge-store';
import { openReviews, recordReview } from './knowledge-reviews';
import { domainLog } from './domain-log';

export interface ExtractInput {
  batchId: string;
  workflowId: string;
  transcriptUri: string;
  policy: ValidationPolicy;
}

export interface ExtractResult {
  candidates: CandidateRef[];
  turns: number;
  conversations: number;
  extractor: string;
}

export interface FactVerdict {
  factId: string;
  outcome: 'pass' | 'accept' | 'reject' | 'review';
  reason: string;
}

export interface ReviewOpening {
  batchId: string;
  workflowId: string;
  deadline: string;
  defaultDecision: ReviewDecision;
  items: Array<{ fact: ResolvedFact; reason: string }>;
}

export function createKnowledgeActivities(config: FlywheelConfig) {
  const pool = () => getPool(config.postgres.url);

  return {
    async extractKnowledge(input: ExtractInput): Promise<ExtractResult> {
      // This host's copy, fetched from the shared file store when the caller was elsewhere. Missing
      // everywhere is bad input; the store being unreachable is not (the activity retries).
      let local: string;
      try {
        local = await getFileStore(config).local(input.transcriptUri);
      } catch (err) {
        if (err instanceof StoreMiss) throw invalidInput(`transcript ${input.transcriptUri} cannot be read: ${err.message}`);
        throw err;
      }
      let text: string;
      try {
        text = await readFile(local, 'utf8');
      } catch (err) {
        throw invalidInput(`transcript ${input.transcriptUri} cannot be read: ${(err as Error).message}`);
      }
      // The batch id is the content's digest: a file changed after ingest is a different batch.
      if (contentDigest(text) !== input.batchId) throw invalidInput(`transcript ${input.transcriptUri} changed after it was ingested (digest differs from batch ${input.batchId})`);
      const parsed = parseTranscript(text);
      if (!parsed.ok) throw invalidInput(`transcript ${input.transcriptUri}: ${parsed.message}`);
      const candidates = extractCandidates(parsed.value, input.batchId);
      await upsertBatch(pool(), { id: input.batchId, workflowId: input.workflowId, sourceUri: input.transcriptUri, policy: input.policy });
      await saveCandidates(pool(), input.batchId, candidates);
      return {
        candidates: candidates.map((c) => ({
          candidateId: c.candidateId,
          subject: { text: c.subject.text, type: c.subject.type },
          predicate: c.predicate,
          object: { text: c.object.text, type: c.object.type },
          confidence: c.confidence,
          source: c.span.source,
          conversation: c.span.conversation,
        })),
        turns: parsed.value.length,
        conversations: new Set(parsed.value.map((t) => t.conversation)).size,
        extractor: candidates[0]?.extractor ?? '',
      };
    },

    async checkKnowledgeOntology(input: { batchId: string; candidateIds: string[] }): Promise<Decision[]> {
      return (await loadCandidates(pool(), input.batchId, input.candidateIds)).map((c) => checkOntology(c));
    },

    async checkKnowledgeConfidence(input: { batchId: string; candidateIds: string[]; policy: ValidationPolicy }): Promise<Decision[]> {
      return (await loadCandidates(pool(), input.batchId, input.candidateIds)).map((c) => checkConfidence(c, input.policy));
    },

    async resolveKnowledgeEntities(input: { batchId: string; candidateIds: string[] }): Promise<{ decisions: Decision[]; facts: ResolvedFact[] }> {
      const candidates = await loadCandidates(pool(), input.batchId, input.candidateIds);
      const mentions = candidates.flatMap((c) => [c.subject, c.object]);
      const resolver = new EntityResolver(await findEntities(pool(), mentions));
      const memo = new Map<string, ReturnType<EntityResolver['resolve']>>();
      for (const m of EntityResolver.order(mentions)) {
        const k = `${m.type}\u0000${m.text}`;
        if (!memo.has(k)) memo.set(k, resolver.resolve(m.text, m.type));
      }
      const resolved: ResolvedCandidate[] = [];
      const notes = new Map<string, { ambiguous: string[]; merges: string[] }>();
      for (const c of candidates) {
        const s = memo.get(`${c.subject.type}\u0000${c.subject.text}`)!;
        const o = memo.get(`${c.object.type}\u0000${c.object.text}`)!;
        resolved.push({ candidateId: c.candidateId, predicate: c.predicate, subject: s.entity, object: o.entity, confidence: c.confidence, source: c.source });
        notes.set(c.candidateId, {
          ambiguous: [s, o].filter((r) => r.kind === 'ambiguous').map((r) => r.reason),
          merges: [s, o].filter((r) => r.kind === 'alias' || r.kind === 'existing').map((r) => r.reason),
        });
      }
      const facts = groupFacts(resolved);
      const decisions = facts.flatMap((f) =>
        f.candidateIds.map((candidateId): Decision => {
          const n = notes.get(candidateId)!;
          if (n.ambiguous.length) return { candidateId, stage: 'resolution', outcome: 'review', reason: n.ambiguous.join('; '), factId: f.factId };
          const how = n.merges.length ? n.merges.join('; ') : `new entities ${f.subject.name} and ${f.object.name}`;
          return { candidateId, stage: 'resolution', outcome: 'pass', reason: `${how}; fact ${f.factId}`, factId: f.factId };
        }),
      );
      return { decisions, facts };
    },

    async checkKnowledgeContradictions(input: { facts: ResolvedFact[]; policy: ValidationPolicy }): Promise<FactVerdict[]> {
      const ids = [...new Set(input.facts.flatMap((f) => [f.subject.id, f.object.id]))];
      const about = await factsAbout(pool(), ids);
      // How many independent sources back each graph fact: a conflict is weighed, not decided by who came first.
      const backing = await factSources(pool(), about.map((g) => g.factId));
      const graph = about.map((g) => ({ ...g, sources: backing.get(g.factId)?.length ?? 1 }));
      return input.facts.map((f) => {
        const g = checkAgainstGraph(f, graph);
        if (g.outcome === 'reject') return { factId: f.factId, outcome: 'reject', reason: g.reason };
        const inBatch = 'existing' in g && g.existing ? undefined : checkWithinBatch(f, input.facts, input.policy);
        return inBatch ? { factId: f.factId, outcome: inBatch.outcome, reason: inBatch.reason } : { factId: f.factId, outcome: 'pass', reason: g.reason };
      });
    },

    async corroborateKnowledge(input: { facts: ResolvedFact[]; policy: ValidationPolicy }): Promise<FactVerdict[]> {
      const known = await factSources(pool(), input.facts.map((f) => f.factId));
      return input.facts.map((f) => {
        const v = corroborate(f, known.get(f.factId) ?? [], input.policy);
        return { factId: f.factId, outcome: v.outcome, reason: v.reason };
      });
    },

    async openKnowledgeReviews(input: ReviewOpening): Promise<void> {
      await openReviews(pool(), input);
      await setBatchState(pool(), input.batchId, 'reviewing');
    },

    async recordKnowledgeReviews(input: { workflowId: string; decisions: Array<{ factId: string; decision: ReviewDecision; decidedBy: 'reviewer' | 'deadline'; reason: string }> }): Promise<void> {
      for (const d of input.decisions) await recordReview(pool(), { workflowId: input.workflowId, ...d });
    },

    async commitKnowledgeFacts(input: { batchId: string; workflowId: string; items: Array<{ fact: ResolvedFact; trail: Decision[] }> }): Promise<CommitOutcome[]> {
      const out: CommitOutcome[] = [];
      for (const item of input.items) {
        Context.current().heartbeat(out.length);
        const outcome = await commitFact(pool(), { batchId: input.batchId, workflowId: input.workflowId, fact: item.fact, trail: item.trail });
        if (outcome.outcome === 'committed') domainLog('info', 'knowledge fact committed', { batchId: input.batchId, factId: outcome.factId, subject: item.fact.subject.id, predicate: item.fact.predicate, object: item.fact.object.id });
        out.push(outcome);
      }
      return out;
    },

    async recordKnowledgeTrail(input: { trail: Decision[] }): Promise<void> {
      await writeTrail(pool(), input.trail);
    },

    async finishKnowledgeBatch(input: { batchId: string; state: 'committing' | 'completed' | 'failed'; counts?: Record<string, number> }): Promise<void> {
      await setBatchState(pool(), input.batchId, input.state, input.counts);
    },
  };
}

export type KnowledgeActivities = ReturnType<typeof createKnowledgeActivities>;
