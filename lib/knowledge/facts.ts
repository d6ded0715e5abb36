/**
 * From resolved candidates to facts: candidates naming the same (subject, predicate, object) are
 * one fact with several pieces of provenance, so a batch that repeats a claim commits it once.
 */
import { combineBySource } from './confidence';
import { factId } from './ids';
import type { EntityRef, ResolvedFact } from './types';

export interface ResolvedCandidate {
  candidateId: string;
  predicate: string;
  subject: EntityRef;
  object: EntityRef;
  confidence: number;
  source: string;
}

export function groupFacts(candidates: ReadonlyArray<ResolvedCandidate>): ResolvedFact[] {
  const byId = new Map<string, { first: ResolvedCandidate; members: ResolvedCandidate[] }>();
  for (const c of candidates) {
    const id = factId(c.subject.id, c.predicate, c.object.id);
    const g = byId.get(id);
    if (g) g.members.push(c);
    else byId.set(id, { first: c, members: [c] });
  }
  return [...byId.entries()].map(([id, g]) => {
    const { confidence, sources } = combineBySource(g.members);
    return {
      factId: id,
      subject: g.first.subject,
      predicate: g.first.predicate,
      object: g.first.object,
      candidateIds: g.members.map((m) => m.candidateId),
      sources,
      confidence,
    };
  });
}
