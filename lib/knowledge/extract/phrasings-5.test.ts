/**
 * flywheel-patterns/5 (issue 19, after reading the fourth set's errors): name boundaries,
 * organisations known by their shape, coordinated founders and answers given in the next speaker's
 * turn, on sentences written for these tests, outside every labelled set.
 */
import { describe, expect, it } from 'vitest';
import { by, claims } from './phrasing-claims';
import { sentencesOf } from './mentions';

const ACCEPT = 0.85;
const accepted = (...texts: string[]) => claims(...texts).filter((c) => c.confidence >= ACCEPT).map((c) => c.claim);
const mentions = (text: string) => sentencesOf(text).flatMap((s) => s.mentions.map((m) => `${m.text}:${m.type ?? '?'}`));

describe('flywheel-patterns/5: name boundaries', () => {
  it('a quoted nickname stays inside the person\'s name', () => {
    expect(accepted("Mary 'Molly' Brennan was born in Cork.")).toContain("Mary 'Molly' Brennan born_in Cork");
    expect(accepted('Earl "Bud" Powell was born in Harlem.')).toContain('Earl "Bud" Powell born_in Harlem');
  });
  it('"St X\'s …" is one name, never the person X; it keeps its "\'s"', () => {
    expect(mentions("Dr Ruth Amadi works for St Bride's Hospital.")).toContain("St Bride's Hospital:organisation");
    expect(accepted("Dr Ruth Amadi works for St Bride's Hospital.").some((c) => /\bBride\b(?!'s)|works_for St$/.test(c))).toBe(false);
    expect(mentions("St Kevin's is a small parish.")).toContain("St Kevin's:?");
  });
  it('possessives and capitalised adjectives are not names', () => {
    expect(mentions('Your CEO Lena Berg spoke yesterday.')).toEqual(['Lena Berg:person']);
    expect(mentions('Small bakery based in Turku, great rolls.')).not.toContain('Small:?');
  });
  it('"X himself" is a person, the one full name X stands for', () => {
    const got = accepted('Olaf Hensch and his cousin Emil Dorn founded Hensch in Kiel.', 'Hensch himself was born in Lübeck.');
    expect(got).toContain('Olaf Hensch born_in Lübeck');
    expect(got).not.toContain('Hensch born_in Lübeck');
  });
});

describe('flywheel-patterns/5: organisations by the shape of their name', () => {
  it('a name ending in a legal or trade word is an organisation the tagger did not know', () => {
    for (const name of ['Quorvel Therapeutics', 'Dunmarsh Athletic', 'Pellworth Growers', 'Ostrava Interactive', 'Kelby Publishing']) expect(mentions(`${name} is doing well.`)).toContain(`${name}:organisation`);
    expect(mentions('Compagnie Générale des Eaux was big.')).toContain('Compagnie Générale des Eaux:?');
  });
  it('"they" after such a name finds it', () => {
    expect(accepted('Quorvel Therapeutics was set up by Ines Kahl. They are based in Ghent.')).toEqual(expect.arrayContaining(['Ines Kahl founded Quorvel Therapeutics', 'Quorvel Therapeutics headquartered_in Ghent']));
  });
});

describe('flywheel-patterns/5: coordinated founders', () => {
  it('"founded by <description> A and his brother B": both, B with the shared surname', () => {
    const got = accepted('Dunmarsh Athletic was founded on 2 May 1901 by the miner Tom Rudd and his brother Walter.');
    expect(got).toEqual(expect.arrayContaining(['Tom Rudd founded Dunmarsh Athletic', 'Walter Rudd founded Dunmarsh Athletic', 'Dunmarsh Athletic founded_on 1901-05-02']));
  });
  it('"the twins A and B Surname": A takes the surname', () => {
    expect(accepted('Pellworth Growers was founded by the sisters Ada and Lotte Brink in 1950.')).toEqual(expect.arrayContaining(['Ada Brink founded Pellworth Growers', 'Lotte Brink founded Pellworth Growers']));
  });
  it('"A and his cousin B founded it": a cousin keeps his own name', () => {
    expect(accepted('Kelby Publishing is small.', 'Jon Kelby and his cousin Amir Haddad founded it.')).toEqual(expect.arrayContaining(['Jon Kelby founded Kelby Publishing', 'Amir Haddad founded Kelby Publishing']));
  });
});

describe('flywheel-patterns/5: answers in the next speaker\'s turn', () => {
  it('a bare name answers a wh-question, with the region and date that follow it', () => {
    const got = claims('Where was Edna Falk born?', 'Dunedin, Otago, on 3 June 1921.');
    for (const c of ['Edna Falk born_in Dunedin', 'Edna Falk born_on 1921-06-03', 'Dunedin located_in Otago']) expect(by(got, c)?.confidence).toBeGreaterThanOrEqual(ACCEPT);
    expect(by(got, 'Edna Falk born_in Dunedin')!.cues).toContain('cross-turn');
  });
  it('"Capital of X?" — "Y.", and the guess in the question is not the answer', () => {
    const got = accepted('Capital of Mongolia, Darkhan?', 'Ulaanbaatar.');
    expect(got).toContain('Ulaanbaatar capital_of Mongolia');
    expect(got).not.toContain('Darkhan capital_of Mongolia');
  });
  it('"Who founded X?" — "The <description> A, who …"; a lower-case name in the question is still what "he" refers to', () => {
    expect(accepted('Who started Pellworth Growers?', 'The farmer Jakob Reil, who was born in Tønder.')).toEqual(expect.arrayContaining(['Jakob Reil founded Pellworth Growers', 'Jakob Reil born_in Tønder']));
    expect(accepted('quiz question: where was edna falk born?', 'In Dunedin. She was born on 3 June 1921.')).toEqual(expect.arrayContaining(['edna falk born_in Dunedin', 'edna falk born_on 1921-06-03']));
  });
  it('an answer that is a sentence of its own, a negative or the same speaker going on is not a bare answer', () => {
    expect(claims('Where was Edna Falk born?', 'No idea, sorry.').some((c) => c.cues.includes('cross-turn'))).toBe(false);
    expect(claims('user: Where was Edna Falk born?', 'user: Dunedin, I think.').some((c) => c.cues.includes('cross-turn'))).toBe(false);
  });
  it('a yes/no question confirmed by the other speaker is a claim; one denied, or "confirmed" by its asker, is not', () => {
    expect(accepted('Ines Kahl founded Quorvel Therapeutics, didn\'t she?', 'She did.')).toContain('Ines Kahl founded Quorvel Therapeutics');
    expect(accepted('user: Ines Kahl founded Quorvel Therapeutics, right?', 'user: Yes.')).not.toContain('Ines Kahl founded Quorvel Therapeutics');
    expect(accepted('Ines Kahl founded Quorvel Therapeutics, didn\'t she?', 'No, that was Emil Dorn.')).not.toContain('Ines Kahl founded Quorvel Therapeutics');
  });
});

describe('flywheel-patterns/5: dates, roles and subjects', () => {
  it('a whole date the dates plugin cut to its year, and a founding date before "by"', () => {
    expect(mentions('It opened on 4 March 1930 by the river.')).toContain('4 March 1930:date');
    expect(accepted('Dunmarsh Athletic was founded on 4 March 1930 by two miners, Tom Rudd and Alf Nye.')).toEqual(expect.arrayContaining(['Dunmarsh Athletic founded_on 1930-03-04', 'Tom Rudd founded Dunmarsh Athletic', 'Alf Nye founded Dunmarsh Athletic']));
  });
  it('a name in apposition to a person\'s role is a person, and "she" finds it', () => {
    expect(accepted('Our club just hired a new coach, Wiremu Tane.', 'She was born in Napier.')).toContain('Wiremu Tane born_in Napier');
  });
  it('"died at his home in X" and "died on D at her home in X"', () => {
    expect(accepted('Ottilie Brun died on 2 May 1950 at her home in Lausanne.', 'Emil Brun died at his villa in Vevey on 3 June 1960.')).toEqual(expect.arrayContaining(['Ottilie Brun died_in Lausanne', 'Ottilie Brun died_on 1950-05-02', 'Emil Brun died_in Vevey', 'Emil Brun died_on 1960-06-03']));
  });
  it('a name governed by a preposition is not the subject of the verb after it', () => {
    const got = accepted('Quorvel Therapeutics was spun out of the University of Ghent and is headquartered in Aalst.');
    expect(got).toContain('Quorvel Therapeutics headquartered_in Aalst');
    expect(got).not.toContain('University of Ghent headquartered_in Aalst');
  });
});

describe('flywheel-patterns/5: products, founders by apposition, organisations by kind and "our"', () => {
  it('"they make X", "make the <kind> X"', () => {
    expect(accepted('Quorvel Therapeutics is in Ghent and they make Renavol.', 'Kelby Publishing make the gardening magazine Greenleaf.')).toEqual(expect.arrayContaining(['Quorvel Therapeutics makes Renavol', 'Kelby Publishing makes Greenleaf']));
  });
  it('"A, one of X\'s founders"', () => {
    expect(accepted('Ines Kahl, one of Quorvel Therapeutics\'s founders, spoke first.')).toContain('Ines Kahl founded Quorvel Therapeutics');
  });
  it('"the club", "the studio" refer to the organisation named before; "headquartered there" to the place', () => {
    expect(accepted('Tell me about Dunmarsh Athletic.', 'Tom Rudd has worked for the club since 2019.')).toContain('Tom Rudd works_for Dunmarsh Athletic');
    expect(accepted('Ghent is lovely. Quorvel Therapeutics and Kelby Publishing are both headquartered there.')).toEqual(expect.arrayContaining(['Quorvel Therapeutics headquartered_in Ghent', 'Kelby Publishing headquartered_in Ghent']));
  });
  it('an agent\'s "our" is the organisation the agent named first, not the acquirer named last', () => {
    const got = accepted('user: Is Pellworth Growers still independent?', 'agent: No, Pellworth Growers was acquired by Harlan Foods last year. Our head office is in Tønder.');
    expect(got).toContain('Pellworth Growers headquartered_in Tønder');
    expect(got).not.toContain('Harlan Foods headquartered_in Tønder');
  });
});

describe('flywheel-patterns/5: ownership', () => {
  it('"X is now part of Y" is an acquisition; "Y bought us" never makes Y buy itself', () => {
    const got = claims('agent: Kelby Publishing is now part of Harlan Foods; Harlan bought us in 2021.');
    expect(by(got, 'Harlan Foods acquired Kelby Publishing')!.confidence).toBeGreaterThanOrEqual(ACCEPT);
    expect(got.some((c) => c.claim === 'Kelby Publishing acquired Kelby Publishing')).toBe(false);
  });
});
