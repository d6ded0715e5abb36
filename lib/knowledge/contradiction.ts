/**
 * Contradictions: a functional relation with a second, incompatible value (one birthplace per
 * person), an inverse-functional one with a second subject (one capital per country), or an
 * asymmetric one asserted both ways. Against the graph a contradiction rejects the newcomer (the
 * graph's facts were validated already) unless the newcomer has more independent sources than the
 * graph's fact, when a person decides. Inside one batch the weight of evidence decides, never the
 * order of arrival: a claim that would be accepted on its own beats one that would not; then more
 * independent sources; then a clearly higher confidence (hearsay and hedges already lowered it);
 * between equals neither side has standing, so both go to review. The loser is kept, rejected,
 * with the winner named in its reason.
 */
import { ONTOLOGY, type PredicateSpec } from './ontology';
import { datesCompatible } from './normalise';
import type { ValidationPolicy } from './policy';
import type { ResolvedFact } from './types';

export interface GraphFact {
  factId: string;
  subjectId: string;
  subjectName: string;
  predicate: string;
  objectId: string;
  objectName: string;
  objectType: string;
  /** Independent sources backing it, when known. */
  sources?: number;
}

export type ContradictionVerdict =
  | { outcome: 'pass'; reason: string; existing?: string }
  | { outcome: 'reject'; reason: string; conflictsWith: string }
  | { outcome: 'review'; reason: string; conflictsWith: string };

export function objectsConflict(type: string, aId: string, aName: string, bId: string, bName: string): boolean {
  if (aId === bId) return false;
  return type === 'date' ? !datesCompatible(aName, bName) : true;
}

export function checkAgainstGraph(fact: ResolvedFact, graph: ReadonlyArray<GraphFact>, ontology: Readonly<Record<string, PredicateSpec>> = ONTOLOGY): ContradictionVerdict {
  const spec = ontology[fact.predicate];
  const same = graph.find((g) => g.subjectId === fact.subject.id && g.predicate === fact.predicate && g.objectId === fact.object.id);
  if (same) return { outcome: 'pass', reason: `already in the graph as ${same.factId}: this adds provenance`, existing: same.factId };
  if (spec?.functional) {
    const clash = graph.find(
      (g) => g.subjectId === fact.subject.id && g.predicate === fact.predicate && objectsConflict(fact.object.type, fact.object.id, fact.object.name, g.objectId, g.objectName),
    );
    if (clash) return graphVerdict(fact, clash, `${fact.predicate} has one value per subject, this says ${fact.object.name}`);
  }
  if (spec?.inverseFunctional) {
    const clash = graph.find((g) => g.objectId === fact.object.id && g.predicate === fact.predicate && g.subjectId !== fact.subject.id);
    if (clash) return graphVerdict(fact, clash, `${fact.predicate} has one subject per object (${clash.objectName} has ${clash.subjectName}), this says ${fact.subject.name}`);
  }
  if (spec?.asymmetric) {
    const reverse = graph.find((g) => g.subjectId === fact.object.id && g.predicate === fact.predicate && g.objectId === fact.subject.id);
    if (reverse) {
      return {
        outcome: 'reject',
        conflictsWith: reverse.factId,
        reason: `contradicts ${reverse.factId} (${reverse.subjectName} ${reverse.predicate} ${reverse.objectName}): ${fact.predicate} cannot hold both ways`,
      };
    }
  }
  return { outcome: 'pass', reason: 'consistent with the graph' };
}

/** The graph's fact stands unless the newcomer brings more independent sources: then a person decides. */
function graphVerdict(fact: ResolvedFact, clash: GraphFact, why: string): ContradictionVerdict {
  const what = `${clash.factId} (${clash.subjectName} ${clash.predicate} ${clash.objectName})`;
  if (clash.sources !== undefined && fact.sources.length > clash.sources) {
    return { outcome: 'review', conflictsWith: clash.factId, reason: `contradicts ${what}: ${why}; it has ${fact.sources.length} independent sources against ${clash.sources}, so a person decides` };
  }
  return { outcome: 'reject', conflictsWith: clash.factId, reason: `contradicts ${what}: ${why}` };
}

/** Evidence for a fact: would it be accepted alone, how many independent sources, how confident. */
export function evidenceWeight(f: ResolvedFact, policy: Pick<ValidationPolicy, 'acceptConfidence' | 'corroborationSources'>): { strong: boolean; sources: number; confidence: number } {
  return { strong: f.confidence >= policy.acceptConfidence || f.sources.length >= policy.corroborationSources, sources: f.sources.length, confidence: f.confidence };
}

/** Confidence must differ by this much to decide a conflict on its own. */
export const CONFIDENCE_MARGIN = 0.1;

export function checkWithinBatch(
  fact: ResolvedFact,
  batch: ReadonlyArray<ResolvedFact>,
  policy: Pick<ValidationPolicy, 'acceptConfidence' | 'corroborationSources'>,
  ontology: Readonly<Record<string, PredicateSpec>> = ONTOLOGY,
): ContradictionVerdict | undefined {
  const spec = ontology[fact.predicate];
  for (const other of batch) {
    if (other.factId === fact.factId || other.predicate !== fact.predicate) continue;
    const functionalClash =
      spec?.functional && other.subject.id === fact.subject.id && objectsConflict(fact.object.type, fact.object.id, fact.object.name, other.object.id, other.object.name);
    const inverseClash = spec?.inverseFunctional && other.object.id === fact.object.id && other.subject.id !== fact.subject.id;
    const reverse = spec?.asymmetric && other.subject.id === fact.object.id && other.object.id === fact.subject.id;
    if (!functionalClash && !inverseClash && !reverse) continue;
    const what = `${other.factId} (${other.subject.name} ${other.predicate} ${other.object.name})`;
    const mine = evidenceWeight(fact, policy);
    const theirs = evidenceWeight(other, policy);
    if (mine.strong !== theirs.strong) {
      if (mine.strong) continue;
      return { outcome: 'reject', conflictsWith: other.factId, reason: `conflicts with ${what}, which this batch states more strongly` };
    }
    if (mine.sources !== theirs.sources) {
      if (mine.sources > theirs.sources) continue;
      return { outcome: 'reject', conflictsWith: other.factId, reason: `conflicts with ${what}, which more independent sources state (${theirs.sources} against ${mine.sources})` };
    }
    if (Math.abs(mine.confidence - theirs.confidence) >= CONFIDENCE_MARGIN) {
      if (mine.confidence > theirs.confidence) continue;
      return { outcome: 'reject', conflictsWith: other.factId, reason: `conflicts with ${what}, which is stated with clearly higher confidence (${theirs.confidence.toFixed(2)} against ${mine.confidence.toFixed(2)})` };
    }
    return { outcome: 'review', conflictsWith: other.factId, reason: `conflicts with ${what} in this batch, with equal weight of evidence` };
  }
  return undefined;
}
