/** Issue 19: the phrasings the first extractor missed, on sentences outside both labelled sets. */
import { describe, expect, it } from 'vitest';
import { extractCandidates } from './extractor';

const claims = (...texts: string[]) =>
  extractCandidates(
    texts.map((text, i) => ({ conversation: 'c1', turn: i, source: 'c1', text })),
    'digest',
  ).map((c) => ({ claim: `${c.subject.text} ${c.predicate} ${c.object.text}`, confidence: c.confidence, cues: c.cues }));
const names = (...texts: string[]) => claims(...texts).map((c) => c.claim);
const by = (got: ReturnType<typeof claims>, claim: string) => got.find((c) => c.claim === claim);

describe('extraction of the hard phrasings', () => {
  it('a place with its region, and a date after the place', () => {
    const got = names('Amelia Earhart was born in Atchison, Kansas, on 24 July 1897.');
    expect(got).toEqual(expect.arrayContaining(['Amelia Earhart born_in Atchison', 'Atchison located_in Kansas', 'Amelia Earhart born_on 1897-07-24']));
    expect(got).not.toContain('Amelia Earhart born_in Kansas');
  });
  it('a place after a date', () => {
    expect(names('Rosalind Franklin was born on 25 July 1920 in Notting Hill.')).toEqual(expect.arrayContaining(['Rosalind Franklin born_on 1920-07-25', 'Rosalind Franklin born_in Notting Hill']));
  });
  it('coordination: founded by A, B and C; A and B both work for X', () => {
    const got = names('Quillfeather Press was founded by Ines Moreau, Tobias Quinn and Hana Sato in 2009.', 'Marek Novak and Aiko Tanaka both work for Quillfeather Press.');
    expect(got).toEqual(
      expect.arrayContaining([
        'Ines Moreau founded Quillfeather Press',
        'Tobias Quinn founded Quillfeather Press',
        'Hana Sato founded Quillfeather Press',
        'Quillfeather Press founded_on 2009',
        'Marek Novak works_for Quillfeather Press',
        'Aiko Tanaka works_for Quillfeather Press',
      ]),
    );
  });
  it('pronouns, "its" and "the company" refer to the last fitting entity, without losing confidence below acceptance', () => {
    const got = claims('Brambleworth Ceramics makes the Fenwick teapot.', 'The company is headquartered in Stoke-on-Trent.', 'Its chief executive is Olu Adebayo.', 'She used to work for Wedgwood; she now lives in Leek.');
    expect(by(got, 'Brambleworth Ceramics headquartered_in Stoke-on-Trent')).toMatchObject({ cues: expect.arrayContaining(['coreference']) });
    expect(by(got, 'Olu Adebayo ceo_of Brambleworth Ceramics')!.confidence).toBeGreaterThanOrEqual(0.85);
    expect(by(got, 'Olu Adebayo lives_in Leek')).toBeDefined();
    expect(by(got, 'Olu Adebayo works_for Wedgwood')?.cues ?? ['past']).toContain('past');
  });
  it('a name after "and" that starts a clause of its own is not coordinated into the claim before it', () => {
    const got = names('Brasília is the capital of Brazil, and Rio de Janeiro is its largest tourist city.', 'Zofia Nowak and Piotr Lis work for Quillfeather Press.');
    expect(got).toContain('Brasília capital_of Brazil');
    expect(got.some((c) => /capital_of Rio de Janeiro/.test(c))).toBe(false);
    expect(got).toEqual(expect.arrayContaining(['Zofia Nowak works_for Quillfeather Press', 'Piotr Lis works_for Quillfeather Press']));
  });
  it('strips headline noise and sentence adverbs from names', () => {
    const got = names('Market update: Halvard Mining bought Cobalt Labs.', 'Reportedly Halvard Mining is based in Kiruna.');
    expect(got).toContain('Halvard Mining acquired Cobalt Labs');
    expect(got.some((c) => /update|Reportedly/.test(c))).toBe(false);
  });
  it('hearsay and hedges are marked and sink below the acceptance level; negation and "no longer" too', () => {
    const got = claims('My uncle swears Zurich is the capital of Switzerland.', 'Rumour has it that Halvard Mining acquired Nordic Lithium.', 'Priya Shah no longer lives in Pune.');
    expect(by(got, 'Zurich capital_of Switzerland')).toMatchObject({ cues: expect.arrayContaining(['reported']) });
    expect(by(got, 'Zurich capital_of Switzerland')!.confidence).toBeLessThan(0.5);
    expect(by(got, 'Halvard Mining acquired Nordic Lithium')!.confidence).toBeLessThan(0.85);
    expect(by(got, 'Priya Shah lives_in Pune')!.confidence).toBeLessThan(0.5);
  });
  it('a temporal change: the old value is superseded, the new one stands', () => {
    const got = claims('Tomasz Wójcik lived in Kraków until 2019 but now lives in Gdańsk.', 'Bonn was the capital of West Germany until 1990.');
    expect(by(got, 'Tomasz Wójcik lives_in Kraków')).toMatchObject({ cues: expect.arrayContaining(['superseded']) });
    expect(by(got, 'Tomasz Wójcik lives_in Kraków')!.confidence).toBeLessThan(0.5);
    expect(by(got, 'Tomasz Wójcik lives_in Gdańsk')!.confidence).toBeGreaterThanOrEqual(0.85);
    expect(by(got, 'Bonn capital_of West Germany')?.cues).toContain('superseded');
  });
  it('joins a name the tagger cut in two', () => {
    expect(names('Hamid Farahani was born in Shiraz.')).toContain('Hamid Farahani born_in Shiraz');
  });
});
