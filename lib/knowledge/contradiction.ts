/**
 * Contradictions: a functional relation with a second, incompatible value, or an asymmetric one
 * asserted both ways. Against the graph a contradiction rejects the newcomer (the graph's facts
 * were validated already). Inside one batch, a claim that would be accepted on its own beats one
 * that would not; between equals neither side has standing, so both go to review.
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
    if (clash) {
      return {
        outcome: 'reject',
        conflictsWith: clash.factId,
        reason: `contradicts ${clash.factId} (${clash.subjectName} ${clash.predicate} ${clash.objectName}): ${fact.predicate} has one value per subject, this says ${fact.object.name}`,
      };
    }
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

export function checkWithinBatch(
  fact: ResolvedFact,
  batch: ReadonlyArray<ResolvedFact>,
  policy: Pick<ValidationPolicy, 'acceptConfidence' | 'corroborationSources'>,
  ontology: Readonly<Record<string, PredicateSpec>> = ONTOLOGY,
): ContradictionVerdict | undefined {
  const spec = ontology[fact.predicate];
  const strong = (f: ResolvedFact) => f.confidence >= policy.acceptConfidence || f.sources.length >= policy.corroborationSources;
  for (const other of batch) {
    if (other.factId === fact.factId || other.predicate !== fact.predicate) continue;
    const functionalClash =
      spec?.functional && other.subject.id === fact.subject.id && objectsConflict(fact.object.type, fact.object.id, fact.object.name, other.object.id, other.object.name);
    const reverse = spec?.asymmetric && other.subject.id === fact.object.id && other.object.id === fact.subject.id;
    if (!functionalClash && !reverse) continue;
    const what = `${other.factId} (${other.subject.name} ${other.predicate} ${other.object.name})`;
    if (strong(fact) && !strong(other)) continue;
    if (!strong(fact) && strong(other)) return { outcome: 'reject', conflictsWith: other.factId, reason: `conflicts with ${what}, which this batch states more strongly` };
    return { outcome: 'review', conflictsWith: other.factId, reason: `conflicts with ${what} in this batch` };
  }
  return undefined;
}
