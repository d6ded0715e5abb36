/**
 * The ontology: which relationship types exist, between which entity types, and which are
 * functional (one value per subject) or asymmetric. The contradiction stage reads the same table.
 */
import type { CandidateRef, Decision, EntityType } from './types';

export interface PredicateSpec {
  subject: EntityType[];
  object: EntityType[];
  /** At most one object per subject: two different values contradict (a person is born in one place). */
  functional?: boolean;
  /** At most one subject per object: a country has one capital, a company one chief executive. */
  inverseFunctional?: boolean;
  /**
   * The relation holds for a time and can stop holding (people move, companies change chief
   * executive): a claim the text marks as over ("until 2020", "no longer", "former") is superseded,
   * not false, and is kept as rejected with that reason.
   */
  temporal?: boolean;
  /** p(a, b) and p(b, a) cannot both hold. */
  asymmetric?: boolean;
  description: string;
}

export const ONTOLOGY: Readonly<Record<string, PredicateSpec>> = {
  born_in: { subject: ['person'], object: ['place'], functional: true, description: 'place of birth' },
  born_on: { subject: ['person'], object: ['date'], functional: true, description: 'date of birth' },
  died_on: { subject: ['person'], object: ['date'], functional: true, description: 'date of death' },
  died_in: { subject: ['person'], object: ['place'], functional: true, description: 'place of death' },
  works_for: { subject: ['person'], object: ['organisation'], temporal: true, description: 'employer' },
  ceo_of: { subject: ['person'], object: ['organisation'], inverseFunctional: true, temporal: true, description: 'chief executive' },
  founded: { subject: ['person', 'organisation'], object: ['organisation', 'product'], description: 'founder' },
  founded_on: { subject: ['organisation'], object: ['date'], functional: true, description: 'founding date' },
  headquartered_in: { subject: ['organisation'], object: ['place'], functional: true, temporal: true, description: 'headquarters' },
  acquired: { subject: ['organisation'], object: ['organisation'], asymmetric: true, description: 'acquisition' },
  makes: { subject: ['organisation'], object: ['product'], description: 'maker of a product' },
  capital_of: { subject: ['place'], object: ['place'], functional: true, inverseFunctional: true, asymmetric: true, temporal: true, description: 'capital city' },
  located_in: { subject: ['place', 'organisation'], object: ['place'], asymmetric: true, description: 'containing place' },
  lives_in: { subject: ['person'], object: ['place'], functional: true, temporal: true, description: 'residence' },
};

export function checkOntology(c: CandidateRef, ontology: Readonly<Record<string, PredicateSpec>> = ONTOLOGY): Decision {
  const spec = ontology[c.predicate];
  const base = { candidateId: c.candidateId, stage: 'ontology' as const };
  if (!spec) return { ...base, outcome: 'reject', reason: `unknown relationship type "${c.predicate}"` };
  const s = c.subject.type as EntityType;
  const o = c.object.type as EntityType;
  if (!spec.subject.includes(s) || !spec.object.includes(o)) {
    return { ...base, outcome: 'reject', reason: `${c.predicate} relates ${spec.subject.join('|')} → ${spec.object.join('|')}, not ${s} → ${o}` };
  }
  if (c.subject.text.trim().toLowerCase() === c.object.text.trim().toLowerCase()) {
    return { ...base, outcome: 'reject', reason: `${c.predicate} relates "${c.subject.text}" to itself` };
  }
  return { ...base, outcome: 'pass', reason: `${s} —${c.predicate}→ ${o} is allowed` };
}
