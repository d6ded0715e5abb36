/**
 * The vocabulary shared by the extractor, the validation stages, the graph store and the workflow.
 * Pure types only: the workflow bundle imports this file.
 */

export const ENTITY_TYPES = ['person', 'organisation', 'product', 'place', 'date'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** Where a candidate came from: the unit of provenance, and of independence for corroboration. */
export interface SourceSpan {
  conversation: string;
  /** Independent source: the speaker's channel or person; two turns from one source corroborate nothing. */
  source: string;
  turn: number;
  speaker?: string;
  /** Character offsets into the turn's text. */
  start: number;
  end: number;
  text: string;
}

export interface Mention {
  text: string;
  type: EntityType;
  /** Character offsets into the turn's text. */
  start: number;
  end: number;
}

/** One extracted claim, before any validation. */
export interface CandidateFact {
  candidateId: string;
  subject: Mention;
  predicate: string;
  object: Mention;
  confidence: number;
  span: SourceSpan;
  extractor: string;
  /** Why the confidence is what it is (hedged, negated, question, coreference, …). */
  cues: string[];
}

/** A candidate as the workflow carries it: small, no span text (data by reference). */
export interface CandidateRef {
  candidateId: string;
  subject: { text: string; type: string };
  predicate: string;
  object: { text: string; type: string };
  confidence: number;
  source: string;
  conversation: string;
}

export const STAGES = ['extract', 'ontology', 'confidence', 'resolution', 'contradiction', 'corroboration', 'review', 'commit'] as const;
export type StageName = (typeof STAGES)[number];

export type Outcome = 'pass' | 'reject' | 'review' | 'accept';

/** One stage's word on one candidate (or on every candidate of one fact). */
export interface Decision {
  candidateId: string;
  stage: StageName;
  outcome: Outcome;
  reason: string;
  factId?: string;
}

export interface EntityRef {
  /** Existing graph entity id, or the deterministic id a new entity will get. */
  id: string;
  name: string;
  type: EntityType;
  isNew: boolean;
  /** The mention's text when it differs from the canonical name: recorded as an alias at commit. */
  alias?: string;
}

/** Candidates that resolve to the same (subject, predicate, object) are one fact. */
export interface ResolvedFact {
  factId: string;
  subject: EntityRef;
  predicate: string;
  object: EntityRef;
  candidateIds: string[];
  /** Distinct independent sources among this batch's candidates. */
  sources: string[];
  /** Highest candidate confidence per source, combined (noisy-or). */
  confidence: number;
}

export type ReviewDecision = 'accept' | 'reject';
