/**
 * Issue 19: relation semantics (cardinality both ways, time validity, attribution, weight of
 * evidence) and entity resolution of short forms, regions and shared surnames.
 */
import { describe, expect, it } from 'vitest';
import { checkConfidence, standingOf } from './confidence';
import { checkAgainstGraph, checkWithinBatch, type GraphFact } from './contradiction';
import { entityId } from './ids';
import { matchKeys, normaliseName, orgShortForm } from './normalise';
import { ONTOLOGY } from './ontology';
import { DEFAULT_POLICY } from './policy';
import { EntityResolver } from './resolution';
import type { EntityRef, ResolvedFact } from './types';

const ent = (name: string, type: EntityRef['type']): EntityRef => ({ id: entityId(type, normaliseName(name, type)), name, type, isNew: false });
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
const graphFact = (f: ResolvedFact, sources?: number): GraphFact => ({
  factId: 'g1',
  subjectId: f.subject.id,
  subjectName: f.subject.name,
  predicate: f.predicate,
  objectId: f.object.id,
  objectName: f.object.name,
  objectType: f.object.type,
  ...(sources === undefined ? {} : { sources }),
});

describe('cardinality in both directions', () => {
  const brazil = ent('Brazil', 'place');
  it('a country has one capital: a second city as capital of Brazil contradicts the graph', () => {
    const v = checkAgainstGraph(fact(ent('Rio de Janeiro', 'place'), 'capital_of', brazil), [graphFact(fact(ent('Brasília', 'place'), 'capital_of', brazil))]);
    expect(v).toMatchObject({ outcome: 'reject', conflictsWith: 'g1' });
    expect(v.reason).toMatch(/capital_of has one subject per object \(Brazil has Brasília\), this says Rio de Janeiro/);
  });
  it('a city is capital of one country', () => {
    const canberra = ent('Canberra', 'place');
    const v = checkAgainstGraph(fact(canberra, 'capital_of', ent('New Zealand', 'place')), [graphFact(fact(canberra, 'capital_of', ent('Australia', 'place')))]);
    expect(v.outcome).toBe('reject');
  });
  it('a company has one chief executive at a time, a person may work for two', () => {
    expect(ONTOLOGY.ceo_of!.inverseFunctional).toBe(true);
    const org = ent('Starbucks', 'organisation');
    const a = fact(ent('Brian Niccol', 'person'), 'ceo_of', org);
    const b = fact(ent('Laxman Narasimhan', 'person'), 'ceo_of', org, { confidence: 0.6 });
    expect(checkWithinBatch(b, [a, b], DEFAULT_POLICY)).toMatchObject({ outcome: 'reject', conflictsWith: a.factId });
    const w1 = fact(ent('Lena Brandt', 'person'), 'works_for', org);
    const w2 = fact(ent('Lena Brandt', 'person'), 'works_for', ent('Vireo Robotics', 'organisation'));
    expect(checkWithinBatch(w1, [w1, w2], DEFAULT_POLICY)).toBeUndefined();
  });
  it('born_in is functional per person', () => {
    const tesla = ent('Nikola Tesla', 'person');
    expect(checkAgainstGraph(fact(tesla, 'born_in', ent('Serbia', 'place')), [graphFact(fact(tesla, 'born_in', ent('Smiljan', 'place')))]).outcome).toBe('reject');
  });
});

describe('weight of evidence, not arrival order', () => {
  const japan = ent('Japan', 'place');
  const tokyo = fact(ent('Tokyo', 'place'), 'capital_of', japan, { confidence: 0.9 });
  const kyoto = fact(ent('Kyoto', 'place'), 'capital_of', japan, { confidence: 0.8, sources: ['s1', 's2', 's3'] });
  it('more independent sources win, whichever came first, and the loser names the winner', () => {
    for (const order of [
      [tokyo, kyoto],
      [kyoto, tokyo],
    ]) {
      expect(checkWithinBatch(kyoto, order, DEFAULT_POLICY)).toBeUndefined();
      expect(checkWithinBatch(tokyo, order, DEFAULT_POLICY)).toMatchObject({ outcome: 'reject', reason: expect.stringContaining('more independent sources state (3 against 1)') });
    }
  });
  it('between weak claims from one source each, a clearly higher confidence wins; near-equals go to review', () => {
    const hedged = fact(ent('Kyoto', 'place'), 'capital_of', japan, { confidence: 0.55 });
    const plain = fact(ent('Tokyo', 'place'), 'capital_of', japan, { confidence: 0.78 });
    expect(checkWithinBatch(hedged, [hedged, plain], DEFAULT_POLICY)).toMatchObject({ outcome: 'reject', conflictsWith: plain.factId });
    expect(checkWithinBatch(plain, [hedged, plain], DEFAULT_POLICY)).toBeUndefined();
    const close = fact(ent('Kyoto', 'place'), 'capital_of', japan, { confidence: 0.74 });
    expect(checkWithinBatch(close, [close, plain], DEFAULT_POLICY)).toMatchObject({ outcome: 'review' });
  });
  it('against the graph, a newcomer with more sources than the graph fact goes to a person instead of being rejected', () => {
    const g = graphFact(fact(ent('Kyoto', 'place'), 'capital_of', japan), 1);
    const newcomer = fact(ent('Tokyo', 'place'), 'capital_of', japan, { sources: ['a', 'b'] });
    expect(checkAgainstGraph(newcomer, [g])).toMatchObject({ outcome: 'review', reason: expect.stringContaining('2 independent sources against 1') });
    expect(checkAgainstGraph(newcomer, [{ ...g, sources: 2 }]).outcome).toBe('reject');
  });
});

describe('claims the text does not stand behind', () => {
  const c = { candidateId: 'c', subject: { text: 'Kenji Watanabe', type: 'person' }, predicate: 'lives_in', object: { text: 'Osaka', type: 'place' }, source: 's', conversation: 'c' };
  it('a superseded or reported claim is rejected with that reason', () => {
    expect(checkConfidence({ ...c, confidence: 0.18, cues: ['superseded'] }, DEFAULT_POLICY).reason).toBe('superseded: the text says it held until a change ("until", "replaced", "succeeding"): confidence 0.18 is below 0.50');
    expect(checkConfidence({ ...c, confidence: 0.46, cues: ['reported'] }, DEFAULT_POLICY)).toMatchObject({ outcome: 'reject', reason: expect.stringMatching(/^reported: someone else's claim/) });
    expect(checkConfidence({ ...c, confidence: 0.3 }, DEFAULT_POLICY).reason).toBe('confidence 0.30 is below 0.50');
    expect(standingOf(['negated', 'hedged'])).toMatch(/^negated.*; hedged/);
    expect(standingOf(['coreference'])).toBeUndefined();
  });
  it('the relations that change over time are marked temporal', () => {
    expect(Object.entries(ONTOLOGY).filter(([, s]) => s.temporal).map(([p]) => p).sort()).toEqual(['capital_of', 'ceo_of', 'headquartered_in', 'lives_in', 'works_for']);
  });
});

describe('entity resolution of short forms, regions and surnames', () => {
  it('"Toyota" meets "Toyota Motor Corporation" and "IBM" meets "International Business Machines"', () => {
    expect(orgShortForm('Toyota Motor Corporation')).toBe('toyota');
    expect(matchKeys('Toyota Motor Corporation', 'organisation')).toContain('organisation:toyota');
    const r = new EntityResolver([{ id: 'o1', name: 'Toyota Motor Corporation', type: 'organisation', aliases: [] }, { id: 'o2', name: 'International Business Machines', type: 'organisation', aliases: [] }]);
    expect(r.resolve('Toyota', 'organisation')).toMatchObject({ kind: 'alias', entity: { id: 'o1' } });
    expect(r.resolve('IBM', 'organisation')).toMatchObject({ kind: 'alias', entity: { id: 'o2' } });
    expect(r.resolve('Toyota City', 'organisation').kind).toBe('new');
  });
  it('"Milan, Ohio" is Milan, but not Milan, Italy', () => {
    const r = new EntityResolver([{ id: 'p1', name: 'Milan, Ohio', type: 'place', aliases: [] }]);
    expect(r.resolve('Milan', 'place')).toMatchObject({ kind: 'alias', entity: { id: 'p1' } });
    expect(r.resolve('Milan, Italy', 'place').kind).toBe('new');
  });
  it('people who share a surname stay apart', () => {
    const r = new EntityResolver([{ id: 'm', name: 'Marta Lindqvist', type: 'person', aliases: [] }]);
    expect(r.resolve('Johan Lindqvist', 'person').kind).toBe('new');
    expect(r.resolve('Marta Lindqvist', 'person')).toMatchObject({ kind: 'existing', entity: { id: 'm' } });
  });
});
