import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkConfidence, combineBySource } from './confidence';
import { checkAgainstGraph, checkWithinBatch, type GraphFact } from './contradiction';
import { corroborate } from './corroboration';
import { groupFacts } from './facts';
import { entityId } from './ids';
import { acronym, datesCompatible, normaliseDate, normaliseName } from './normalise';
import { checkOntology } from './ontology';
import { checkPolicy, DEFAULT_POLICY, parseDuration } from './policy';
import { EntityResolver } from './resolution';
import { applyDeadline, applyReview, validateReview, type ReviewItem } from './review';
import type { CandidateRef, EntityRef, ResolvedFact } from './types';

const cand = (over: Partial<CandidateRef> = {}): CandidateRef => ({
  candidateId: 'c1',
  subject: { text: 'Ada Lovelace', type: 'person' },
  predicate: 'born_in',
  object: { text: 'London', type: 'place' },
  confidence: 0.9,
  source: 's1',
  conversation: 'c',
  ...over,
});

const ent = (name: string, type: EntityRef['type'], id = entityId(type, normaliseName(name, type))): EntityRef => ({ id, name, type, isNew: false });
const fact = (s: EntityRef, p: string, o: EntityRef, over: Partial<ResolvedFact> = {}): ResolvedFact => ({
  factId: `f-${s.name}-${p}-${o.name}`,
  subject: s,
  predicate: p,
  object: o,
  candidateIds: ['c1'],
  sources: ['s1'],
  confidence: 0.9,
  ...over,
});

describe('ontology', () => {
  it('allows typed relations and names what was wrong otherwise', () => {
    expect(checkOntology(cand()).outcome).toBe('pass');
    expect(checkOntology(cand({ object: { text: '1815', type: 'date' } }))).toMatchObject({ outcome: 'reject', reason: 'born_in relates person → place, not person → date' });
    expect(checkOntology(cand({ predicate: 'likes' })).reason).toBe('unknown relationship type "likes"');
    expect(checkOntology(cand({ subject: { text: 'Paris', type: 'place' }, object: { text: 'paris', type: 'place' }, predicate: 'located_in' })).outcome).toBe('reject');
  });
});

describe('confidence', () => {
  it('rejects below the threshold with the numbers in the reason', () => {
    expect(checkConfidence(cand({ confidence: 0.31 }), { minConfidence: 0.5 })).toMatchObject({ outcome: 'reject', reason: 'confidence 0.31 is below 0.50' });
    expect(checkConfidence(cand({ confidence: 0.5 }), { minConfidence: 0.5 }).outcome).toBe('pass');
  });
  it('combines sources by noisy-or and ignores repeats within one source', () => {
    const one = combineBySource([{ source: 'a', confidence: 0.6 }, { source: 'a', confidence: 0.7 }]);
    expect(one.confidence).toBeCloseTo(0.7);
    expect(one.sources).toEqual(['a']);
    expect(combineBySource([{ source: 'a', confidence: 0.6 }, { source: 'b', confidence: 0.5 }]).confidence).toBeCloseTo(0.8);
  });
});

describe('normalisation', () => {
  it('drops corporate suffixes, honorifics and accents', () => {
    expect(normaliseName('Apple Inc.', 'organisation')).toBe('apple');
    expect(normaliseName('The Globex Corporation', 'organisation')).toBe('globex');
    expect(normaliseName('Dr. Marie Curie', 'person')).toBe('marie curie');
    expect(normaliseName('Zürich', 'place')).toBe('zurich');
    expect(acronym('International Business Machines')).toBe('ibm');
  });
  it('reads calendar dates to ISO prefixes and refuses relative ones', () => {
    expect(normaliseDate('10 December 1815')).toBe('1815-12-10');
    expect(normaliseDate('December 10th, 1815')).toBe('1815-12-10');
    expect(normaliseDate('in June 2018')).toBe('2018-06');
    expect(normaliseDate('1958')).toBe('1958');
    expect(normaliseDate('2018-06-04')).toBe('2018-06-04');
    expect(normaliseDate('last Tuesday')).toBeUndefined();
    expect(datesCompatible('1815', '1815-12-10')).toBe(true);
    expect(datesCompatible('1815', '1816')).toBe(false);
  });
});

describe('entity resolution', () => {
  const graph = [
    { id: 'e-apple', name: 'Apple Inc.', type: 'organisation' as const, aliases: [] },
    { id: 'e-ibm', name: 'International Business Machines', type: 'organisation' as const, aliases: [] },
    { id: 'e-cook', name: 'Timothy Cook', type: 'person' as const, aliases: [] },
    { id: 'e-marie', name: 'Marie Curie', type: 'person' as const, aliases: [] },
    { id: 'e-pierre', name: 'Pierre Curie', type: 'person' as const, aliases: [] },
  ];
  it('merges spellings into the existing entity and records the new one as an alias', () => {
    const r = new EntityResolver(graph);
    expect(r.resolve('Apple', 'organisation')).toMatchObject({ kind: 'alias', entity: { id: 'e-apple', alias: 'Apple', isNew: false } });
    expect(r.resolve('IBM', 'organisation')).toMatchObject({ kind: 'alias', entity: { id: 'e-ibm', alias: 'IBM' } });
    expect(r.resolve('Tim Cook', 'person')).toMatchObject({ kind: 'alias', entity: { id: 'e-cook', alias: 'Tim Cook' } });
    // A known alias is not recorded again.
    expect(r.resolve('Apple', 'organisation').entity.alias).toBeUndefined();
  });
  it('keeps different people apart and flags an ambiguous surname', () => {
    const r = new EntityResolver(graph);
    expect(r.resolve('Jane Cook', 'person')).toMatchObject({ kind: 'new' });
    const curie = r.resolve('Curie', 'person');
    expect(curie.kind).toBe('ambiguous');
    expect(curie.reason).toContain('Marie Curie');
    expect(curie.reason).toContain('Pierre Curie');
  });
  it('gives new entities deterministic ids and lets later mentions in the batch meet them', () => {
    const r = new EntityResolver([]);
    const a = r.resolve('Globex Corporation', 'organisation');
    const b = r.resolve('Globex', 'organisation');
    expect(a.kind).toBe('new');
    expect(a.entity.id).toBe(entityId('organisation', 'globex'));
    expect(b.entity).toMatchObject({ id: a.entity.id, isNew: true, alias: 'Globex' });
  });
  it('orders longer names first so the fuller name becomes the canonical one', () => {
    const order = EntityResolver.order([{ text: 'Tim Cook', type: 'person' }, { text: 'Timothy Cook', type: 'person' }]);
    expect(order[0]!.text).toBe('Timothy Cook');
  });
});

describe('contradiction', () => {
  const ada = ent('Ada Lovelace', 'person');
  const london = ent('London', 'place');
  const paris = ent('Paris', 'place');
  const graph: GraphFact[] = [{ factId: 'f-old', subjectId: ada.id, subjectName: 'Ada Lovelace', predicate: 'born_in', objectId: london.id, objectName: 'London', objectType: 'place' }];
  it('rejects a second value of a functional relation, naming the fact it contradicts', () => {
    const v = checkAgainstGraph(fact(ada, 'born_in', paris), graph);
    expect(v.outcome).toBe('reject');
    expect(v.reason).toBe('contradicts f-old (Ada Lovelace born_in London): born_in has one value per subject, this says Paris');
  });
  it('treats the same fact as added provenance, and compatible dates as no conflict', () => {
    expect(checkAgainstGraph(fact(ada, 'born_in', london), graph)).toMatchObject({ outcome: 'pass', existing: 'f-old' });
    const y = ent('1815', 'date');
    const d = ent('1815-12-10', 'date');
    const g2: GraphFact[] = [{ factId: 'f-y', subjectId: ada.id, subjectName: 'Ada', predicate: 'born_on', objectId: y.id, objectName: '1815', objectType: 'date' }];
    expect(checkAgainstGraph(fact(ada, 'born_on', d), g2).outcome).toBe('pass');
    expect(checkAgainstGraph(fact(ada, 'born_on', ent('1816', 'date')), g2).outcome).toBe('reject');
  });
  it('rejects an asymmetric relation asserted the other way round', () => {
    const ms = ent('Microsoft', 'organisation');
    const gh = ent('GitHub', 'organisation');
    const g: GraphFact[] = [{ factId: 'f-acq', subjectId: ms.id, subjectName: 'Microsoft', predicate: 'acquired', objectId: gh.id, objectName: 'GitHub', objectType: 'organisation' }];
    expect(checkAgainstGraph(fact(gh, 'acquired', ms), g).outcome).toBe('reject');
  });
  it('within one batch, lets the stronger claim stand and sends equals to review', () => {
    const a = fact(ada, 'born_in', london, { confidence: 0.7 });
    const b = fact(ada, 'born_in', paris, { confidence: 0.7 });
    expect(checkWithinBatch(a, [a, b], DEFAULT_POLICY)).toMatchObject({ outcome: 'review', conflictsWith: b.factId });
    expect(checkWithinBatch(a, [a], DEFAULT_POLICY)).toBeUndefined();
    const strong = { ...a, confidence: 0.92 };
    expect(checkWithinBatch(strong, [strong, b], DEFAULT_POLICY)).toBeUndefined();
    expect(checkWithinBatch(b, [strong, b], DEFAULT_POLICY)).toMatchObject({ outcome: 'reject', reason: `conflicts with ${a.factId} (Ada Lovelace born_in London), which this batch states more strongly` });
  });
});

describe('corroboration', () => {
  const f = fact(ent('Ada Lovelace', 'person'), 'born_in', ent('London', 'place'), { confidence: 0.7 });
  it('accepts on enough independent sources, counting those already in the graph', () => {
    expect(corroborate(f, ['s2'], DEFAULT_POLICY)).toMatchObject({ outcome: 'accept', sources: ['s1', 's2'] });
    expect(corroborate({ ...f, sources: ['s1', 's2'] }, [], DEFAULT_POLICY).outcome).toBe('accept');
  });
  it('accepts a single confident source and sends a borderline one to review', () => {
    expect(corroborate({ ...f, confidence: 0.9 }, [], DEFAULT_POLICY).outcome).toBe('accept');
    const r = corroborate(f, [], DEFAULT_POLICY);
    expect(r.outcome).toBe('review');
    expect(r.reason).toBe('borderline: confidence 0.70 from 1 source (accepting needs 0.85 or 2 sources)');
  });
});

describe('facts', () => {
  it('groups candidates naming one triple into one fact with combined confidence', () => {
    const s = ent('Ada Lovelace', 'person');
    const o = ent('London', 'place');
    const facts = groupFacts([
      { candidateId: 'a', predicate: 'born_in', subject: s, object: o, confidence: 0.6, source: 'x' },
      { candidateId: 'b', predicate: 'born_in', subject: s, object: o, confidence: 0.6, source: 'y' },
      { candidateId: 'c', predicate: 'lives_in', subject: s, object: o, confidence: 0.6, source: 'y' },
    ]);
    expect(facts).toHaveLength(2);
    expect(facts[0]).toMatchObject({ candidateIds: ['a', 'b'], sources: ['x', 'y'] });
    expect(facts[0]!.confidence).toBeCloseTo(0.84);
  });
});

describe('review', () => {
  const items = (): ReviewItem[] => [
    { factId: 'f1', summary: 'a', reason: 'r', state: 'waiting' },
    { factId: 'f2', summary: 'b', reason: 'r', state: 'waiting' },
  ];
  it('refuses unknown and decided facts with a clear message', () => {
    const xs = items();
    expect(() => validateReview(xs, true, { factId: 'f9', decision: 'accept' })).toThrow('fact f9 is not waiting for review in this batch (waiting: f1, f2)');
    applyReview(xs[0]!, { factId: 'f1', decision: 'accept', reviewer: 'ana' });
    expect(xs[0]).toMatchObject({ state: 'accepted', decidedBy: 'reviewer', decisionReason: 'accepted by ana' });
    expect(() => validateReview(xs, true, { factId: 'f1', decision: 'reject' })).toThrow('fact f1 was already accepted');
    expect(() => validateReview(xs, true, { factId: 'f2', decision: 'maybe' as 'accept' })).toThrow('decision must be accept or reject');
  });
  it('gives every undecided fact the default decision at the deadline, with the reason', () => {
    const xs = items();
    applyReview(xs[0]!, { factId: 'f1', decision: 'accept' });
    const expired = applyDeadline(xs, 'reject', 86400);
    expect(expired.map((x) => x.factId)).toEqual(['f2']);
    expect(xs[1]).toMatchObject({ state: 'rejected', decidedBy: 'deadline', decisionReason: 'no review within 1d: default decision reject' });
    expect(() => validateReview(xs, false, { factId: 'f2', decision: 'accept' })).toThrow('fact f2 was already rejected when its review deadline passed');
  });
});

describe('policy', () => {
  it('fills defaults and names the bad field', () => {
    expect(checkPolicy({})).toEqual({ ok: true, value: DEFAULT_POLICY });
    expect(checkPolicy({ minConfidence: 0.9, acceptConfidence: 0.8 })).toEqual({ ok: false, message: 'acceptConfidence (0.8) must be ≥ minConfidence (0.9)' });
    expect(checkPolicy({ reviewDefault: 'maybe' as 'accept' })).toEqual({ ok: false, message: 'review default must be accept or reject (got maybe)' });
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('24h')).toBe(86400);
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('extractor version', () => {
  it('names the compromise version that is installed', async () => {
    const { EXTRACTOR_VERSION } = await import('./extract/extractor');
    const pkg = JSON.parse(readFileSync(new URL('../../node_modules/compromise/package.json', import.meta.url), 'utf8'));
    expect(EXTRACTOR_VERSION).toContain(`compromise/${pkg.version}`);
  });
});
