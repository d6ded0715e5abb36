/**
 * flywheel-patterns/4 (issue 19, after reading the third set's misses): the phrasings it added, on
 * sentences written for these tests, outside every labelled set.
 */
import { describe, expect, it } from 'vitest';
import { by, claims } from './phrasing-claims';

const names = (...texts: string[]) => claims(...texts).map((c) => c.claim);
const ACCEPT = 0.85;

describe('flywheel-patterns/4: contractions and speakers', () => {
  it('a pronoun with its contracted verb is never part of a name', () => {
    const got = names("I'm Noor Haddad and I work for Belcastle Freight.", 'Belcastle Freight makes cargo drones.', "They're headquartered in Tromsø.", "Isn't Belcastle Freight based in Oslo?");
    expect(got).toEqual(expect.arrayContaining(['Noor Haddad works_for Belcastle Freight', 'Belcastle Freight headquartered_in Tromsø']));
    expect(got.some((c) => /I['’]m|They['’]re|Isn['’]t/.test(c))).toBe(false);
  });
  it('"I" is the speaker who gave their name, in later turns too; an unnamed speaker\'s "I" is nobody', () => {
    const got = claims('user: I live in Perth.', 'agent: My name is Noor Haddad, I work for Belcastle Freight in billing.', 'user: Thanks.', 'agent: I live in Bodø myself.');
    expect(by(got, 'Noor Haddad works_for Belcastle Freight')!.confidence).toBeGreaterThanOrEqual(ACCEPT);
    expect(by(got, 'Noor Haddad lives_in Bodø')!.confidence).toBeGreaterThanOrEqual(ACCEPT);
    expect(got.some((c) => c.claim.endsWith('lives_in Perth'))).toBe(false);
  });
});

describe('flywheel-patterns/4: possessives, sites and titles', () => {
  it("an organisation's headquarters and sites, by name, by \"its\"/\"our\" and by \"the headquarters of\"", () => {
    const got = names("Carrow Textiles' headquarters are in Leeds. Its factory is in Halifax.", 'The headquarters of Minster Glass are in York.', 'agent: Minster Glass makes stained windows, and our workshop is in Ripon.');
    expect(got).toEqual(expect.arrayContaining(['Carrow Textiles headquartered_in Leeds', 'Carrow Textiles located_in Halifax', 'Minster Glass headquartered_in York', 'Minster Glass located_in Ripon']));
  });
  it('a chief executive by a possessive after the verb, in a relative clause, and by "its"', () => {
    const got = claims(
      'Tomas Berg has been Carrow Textiles’s chief executive since 2019.',
      'The founder stepped down and was replaced by Mira Osei, who is now Minster Glass’s CEO.',
      'Ilse Varga, who co-founded Quarry Lane Studios, is still its CEO.',
    );
    for (const c of ['Tomas Berg ceo_of Carrow Textiles', 'Mira Osei ceo_of Minster Glass', 'Ilse Varga ceo_of Quarry Lane Studios', 'Ilse Varga founded Quarry Lane Studios']) expect(by(got, c)!.confidence).toBeGreaterThanOrEqual(ACCEPT);
    expect(got.some((c) => c.claim.startsWith('The founder'))).toBe(false);
  });
  it('"joined" and "got a job at" state an employer', () => {
    expect(names('Oskar Brandt joined Ostler Bank last spring.', 'Lucia Ferro just got a job at Ostler Bank.')).toEqual(expect.arrayContaining(['Oskar Brandt works_for Ostler Bank', 'Lucia Ferro works_for Ostler Bank']));
  });
});

describe('flywheel-patterns/4: products', () => {
  it('a lower-case kind of product after "makes"; not "makes sense"; the name after "called"', () => {
    const got = names('Carrow Textiles makes woollen blankets.', 'That makes sense.', 'Ledger Lane makes accounting software called Tallybook.', 'Fenwick Dairy, which makes soft cheeses, is based in Hexham.');
    expect(got).toEqual(expect.arrayContaining(['Carrow Textiles makes woollen blankets', 'Ledger Lane makes Tallybook', 'Fenwick Dairy makes soft cheeses', 'Fenwick Dairy headquartered_in Hexham']));
    expect(got.some((c) => /sense|accounting software/.test(c))).toBe(false);
  });
});

describe('flywheel-patterns/4: reference', () => {
  it('a surname alone is the one person of the conversation with that name, at full confidence', () => {
    const got = claims('Tell me about Margaret Okonjo.', 'Okonjo was born in Roanoke.');
    expect(by(got, 'Margaret Okonjo born_in Roanoke')).toMatchObject({ cues: expect.not.arrayContaining(['partial-name']) });
  });
  it('"died there" is the place just named; "founded it" is the organisation', () => {
    const got = names('Edith Rowe was born in Leeds and died there on 3 May 1901.', 'Ostler Bank is old. Ada Kerr and Lena Voss founded it in 1850.');
    expect(got).toEqual(expect.arrayContaining(['Edith Rowe died_in Leeds', 'Edith Rowe died_on 1901-05-03', 'Ada Kerr founded Ostler Bank', 'Lena Voss founded Ostler Bank']));
  });
  it('"X, the company that …; it …" refers to X, not to an organisation named earlier', () => {
    const got = names('Mira Osei works for Ostler Bank now.', 'She used to work for Fenwick Dairy, the company that makes soft cheeses; it is headquartered in Hexham.');
    expect(got).toContain('Fenwick Dairy headquartered_in Hexham');
    expect(got).not.toContain('Ostler Bank headquartered_in Hexham');
  });
  it('a name the tagger read as a person or place, next to a cue only an organisation fits, is an organisation', () => {
    const got = claims('Enzo Ferrari was born in Modena. He founded Ferrari in 1947.');
    expect(got.map((c) => c.claim)).toEqual(expect.arrayContaining(['Enzo Ferrari founded Ferrari', 'Ferrari founded_on 1947']));
  });
});

describe('flywheel-patterns/4: claims that are not asserted', () => {
  it('"true or false:" puts a claim up to be judged', () => {
    expect(by(claims('True or false: Lagos is the capital of Nigeria.'), 'Lagos capital_of Nigeria')!.confidence).toBeLessThan(ACCEPT);
  });
  it('"moved to X as a child" is not where someone lives now', () => {
    expect(by(claims('Anna Petrova was born in Minsk and moved to Canada as a child.'), 'Anna Petrova lives_in Canada')?.cues ?? ['past']).toContain('past');
  });
  it('two clauses joined by "and" do not coordinate the first object into the second claim', () => {
    const got = names('Lima is the capital of Peru and Quito is the capital of Ecuador.');
    expect(got).toEqual(expect.arrayContaining(['Lima capital_of Peru', 'Quito capital_of Ecuador']));
    expect(got).not.toContain('Peru capital_of Ecuador');
  });
});
