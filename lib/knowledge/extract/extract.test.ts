import { describe, expect, it } from 'vitest';
import { extractCandidates } from './extractor';
import { parseTranscript } from './transcript';

const turns = (...texts: string[]) => texts.map((text, i) => ({ conversation: 'c1', turn: i, source: 'c1', text }));
const claims = (texts: string[]) =>
  extractCandidates(turns(...texts), 'digest').map((c) => ({ claim: `${c.subject.text} ${c.predicate} ${c.object.text}`, types: `${c.subject.type}>${c.object.type}`, confidence: c.confidence, cues: c.cues }));

describe('extractor', () => {
  it('finds typed entities and relations, with a span and version per candidate', () => {
    const [c] = extractCandidates(turns('Ada Lovelace was born on 10 December 1815 in London.'), 'd').filter((x) => x.predicate === 'born_on');
    expect(c).toMatchObject({ subject: { text: 'Ada Lovelace', type: 'person' }, object: { text: '1815-12-10', type: 'date' } });
    expect(c!.span).toMatchObject({ conversation: 'c1', turn: 0, start: 0, text: 'Ada Lovelace was born on 10 December 1815 in London.' });
    expect(c!.extractor).toMatch(/^flywheel-patterns\/\d+\+compromise\//);
  });
  it('reads relations in both directions and types unknown names by the pattern', () => {
    const got = claims(['GitHub was acquired by Microsoft in 2018.', 'Apple CEO Tim Cook visited Berlin.', 'Sarah Chen works for Globex Corporation.']).map((c) => c.claim);
    expect(got).toContain('Microsoft acquired GitHub');
    expect(got).toContain('Tim Cook ceo_of Apple');
    expect(got).toContain('Sarah Chen works_for Globex Corporation');
  });
  it('lowers confidence for hedges, negation, questions and past claims', () => {
    const got = claims(['I think Pauli was born in Hungary.', 'Ada Lovelace was not born in Paris.', 'Was Marie Curie born in Warsaw?', 'Kharkiv is a city in Ukraine; former capital of the Ukraine.']);
    const by = (s: string) => got.find((c) => c.claim === s)!;
    expect(by('Pauli born_in Hungary').cues).toContain('hedged');
    expect(by('Ada Lovelace born_in Paris').cues).toContain('negated');
    expect(by('Ada Lovelace born_in Paris').confidence).toBeLessThan(0.5);
    expect(by('Marie Curie born_in Warsaw').cues).toContain('question');
    expect(by('Kharkiv capital_of Ukraine').cues).toContain('past');
  });
  it('resolves a sentence-opening pronoun to the last person of the conversation', () => {
    const got = claims(['Sarah Chen joined us in March.', 'She was born in Leeds.']);
    expect(got.find((c) => c.claim === 'Sarah Chen born_in Leeds')?.cues).toContain('coreference');
  });
  it('reads a lifespan as birth and death years, and the head of a relative clause as subject', () => {
    const got = claims(['Wolfgang Pauli was a United States physicist (born in Austria) who proposed the exclusion principle (1900-1958).', 'Baku is a port city on the Caspian Sea that is the capital of Azerbaijan.']).map((c) => c.claim);
    expect(got).toEqual(expect.arrayContaining(['Wolfgang Pauli born_in Austria', 'Wolfgang Pauli born_on 1900', 'Wolfgang Pauli died_on 1958', 'Baku capital_of Azerbaijan']));
    expect(got).not.toContain('Caspian Sea capital_of Azerbaijan');
  });
  it('gives the same candidate the same id every time', () => {
    const a = extractCandidates(turns('Ada Lovelace was born in London.'), 'd');
    const b = extractCandidates(turns('Ada Lovelace was born in London.'), 'd');
    expect(a.map((c) => c.candidateId)).toEqual(b.map((c) => c.candidateId));
  });
});

describe('transcript', () => {
  it('names the line and field of bad input', () => {
    expect(parseTranscript('{"conversation":"a","turn":1,"text":"hi"}\n{oops')).toMatchObject({ ok: false, message: expect.stringMatching(/^line 2: not valid JSON/) });
    expect(parseTranscript('{"conversation":"a","turn":"1","text":"hi"}')).toEqual({ ok: false, message: 'line 1: field "turn" must be a non-negative integer' });
    expect(parseTranscript('{"conversation":"a","turn":1,"text":"x"}\n{"conversation":"a","turn":1,"text":"y"}')).toEqual({ ok: false, message: 'line 2: conversation "a" has turn 1 twice' });
    expect(parseTranscript('')).toMatchObject({ ok: false });
  });
  it('skips meta lines and defaults the source to the conversation', () => {
    const r = parseTranscript('{"meta":{"licence":"x"}}\n{"conversation":"a","turn":0,"speaker":"u","text":"hi"}');
    expect(r).toEqual({ ok: true, value: [{ conversation: 'a', turn: 0, speaker: 'u', source: 'a', text: 'hi' }] });
  });
});
