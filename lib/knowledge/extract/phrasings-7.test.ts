/**
 * flywheel-patterns/7 (issue 19, after reading the sixth set's errors and misses): where names start
 * and end, which name a pronoun or "the company" can stand for, what a confirmation confirms, and a
 * few phrasings that place or describe an organisation, on sentences written for these tests,
 * outside every labelled set. Each test fails on flywheel-patterns/6.
 */
import { describe, expect, it } from 'vitest';
import { claims } from './phrasing-claims';
import { sentencesOf } from './mentions';

const ACCEPT = 0.85;
const accepted = (...texts: string[]) => claims(...texts).filter((c) => c.confidence >= ACCEPT).map((c) => c.claim);
const mentions = (text: string) => sentencesOf(text).flatMap((s) => s.mentions.map((m) => `${m.text}:${m.type ?? '?'}`));

describe('flywheel-patterns/7: name boundaries', () => {
  it('an ampersand between capitals joins one firm\'s initials', () => {
    const got = accepted('Trade news. B&Q acquired Tolworth Tiles in 2011.');
    expect(got).toContain('B&Q acquired Tolworth Tiles');
    expect(got.some((c) => /^(?:B|Q) acquired/.test(c))).toBe(false);
  });
  it('"& Co" after a founder\'s name is the tail of the firm\'s name, not a firm of its own', () => {
    expect(mentions('He founded Henry Alcott & Co. in Leeds.')).toContain('Henry Alcott & Co:organisation');
    expect(mentions('He founded Henry Alcott & Co. in Leeds.').some((m) => m.startsWith('& Co'))).toBe(false);
  });
  it('a place fused to "-based" is a name of its own, and where the firm is based', () => {
    const got = accepted('Shipping news: the Gdańsk-based Morwick Shipping has bought Halse Ferries.');
    expect(got).toContain('Morwick Shipping acquired Halse Ferries');
    expect(got).toContain('Morwick Shipping headquartered_in Gdańsk');
  });
  it('a nationality and a kind before a name describe it, and may follow "bought by"', () => {
    expect(accepted('Tern Valley Dairy was bought by the Danish group Orrevik Foods.')).toContain('Orrevik Foods acquired Tern Valley Dairy');
  });
  it('an organisation\'s initials open the name after them', () => {
    const got = accepted('The NHS Highland Board is headquartered in Inverness.');
    expect(got).toContain('NHS Highland Board headquartered_in Inverness');
    expect(got).not.toContain('NHS headquartered_in Inverness');
  });
});

describe('flywheel-patterns/7: words that are not subjects', () => {
  it('a quantifier or a kin word opening a sentence is not a name', () => {
    expect(accepted('Both women worked for Brindle Insurance.').some((c) => c.startsWith('Both'))).toBe(false);
    expect(accepted('Dad swears he was born in Cobh.').some((c) => c.startsWith('Dad'))).toBe(false);
  });
  it('an unresolved "he" between a title and the cue is the subject, not the title', () => {
    expect(accepted('the word comes from the novel Krakatit - he was born in Hronov').some((c) => c.startsWith('Krakatit'))).toBe(false);
  });
  it('a name followed by its own "in …" is a clause with its verb left out, not a region', () => {
    expect(accepted('Ilse lives in Bremen, Hanne in Kiel.')).not.toContain('Bremen located_in Hanne');
  });
  it('a friend or relative named by role is a person, so "she" can stand for her', () => {
    const got = accepted('Met my flatmate Ysolde Penhallow for lunch. She works for Brindle Insurance and lives in Ely.');
    expect(got).toEqual(expect.arrayContaining(['Ysolde Penhallow works_for Brindle Insurance', 'Ysolde Penhallow lives_in Ely']));
    expect(got).not.toContain('Brindle Insurance lives_in Ely');
  });
});

describe('flywheel-patterns/7: which name a pronoun stands for', () => {
  it('"it" after a verb never stands for that verb\'s own subject', () => {
    const got = accepted('Who owns Pellworth Audio Group now?', 'Siemens bought it in 2010, Kvarnholt acquired it in 2016.');
    expect(got).not.toContain('Kvarnholt acquired Siemens');
    expect(got).toContain('Kvarnholt acquired Pellworth Audio Group');
  });
  it('"the company" after a turn naming several organisations is withheld, not guessed', () => {
    const got = accepted('Grenmark Foods bought Aldway Bakery in 2012, and Hollin Group acquired Grenmark Foods in 2019. The company is based in Derby.');
    expect(got.some((c) => c.includes('headquartered_in Derby'))).toBe(false);
  });
  it('a bare follow-up question puts its name in focus for the answer\'s "it"', () => {
    const got = accepted('When was the Tarrow Museum founded?', 'In 1902.', 'and the Kessling Archive?', 'Ruth Amsel founded it in 1961.');
    expect(got).toContain('Ruth Amsel founded Kessling Archive');
    expect(got).not.toContain('Ruth Amsel founded Tarrow Museum');
  });
  it('a one-word place stays a place when the tagger later reads it as a person', () => {
    const got = accepted('My cousin Joanna Pike has just moved to Santiago.', 'Santiago, the capital of Chile! Where was she born?', 'She was born in Leeds.');
    expect(got.some((c) => c.startsWith('Santiago born_in'))).toBe(false);
  });
  it('a name and its own short form are one organisation, never founder and founded', () => {
    const got = claims('Hi, I ordered from Bellhaven Timber Co-operative last week.', 'agent: Corran Reid has been our chief executive since he co-founded Bellhaven with Iona Reid.');
    expect(got.some((c) => c.claim === 'Bellhaven Timber Co-operative founded Bellhaven')).toBe(false);
  });
});

describe('flywheel-patterns/7: what a confirmation confirms', () => {
  it('the answer\'s fuller date replaces the year asked about', () => {
    const got = accepted('Larchmont Ales was founded in 2009, wasn\'t it?', 'Yes, on 3 March 2009.');
    expect(got).toContain('Larchmont Ales founded_on 2009-03-03');
    expect(got).not.toContain('Larchmont Ales founded_on 2009');
  });
  it('"We were, until 2015" confirms only what has ended', () => {
    expect(accepted('customer: Wasn\'t Larchmont Ales based in Derby?', 'agent: We were, until 2015.')).not.toContain('Larchmont Ales headquartered_in Derby');
  });
  it('"before that" ends the stretch it follows', () => {
    expect(accepted('Sarah Mills lives in Lyon now. She lived in Perth for six years before that.')).not.toContain('Sarah Mills lives_in Perth');
  });
});

describe('flywheel-patterns/7: appositions that place or describe a firm', () => {
  it('"a small firm in X" places the firm it describes', () => {
    expect(accepted('She works for Brackley Weather, a small firm in Taunton.')).toContain('Brackley Weather located_in Taunton');
  });
  it('a claim skips the apposition to the name it describes', () => {
    const got = accepted('Halvard Optics, the Bergen-based maker of the Lumen lens, has been acquired by Stenvik Group.');
    expect(got).toContain('Stenvik Group acquired Halvard Optics');
    expect(got).toContain('Halvard Optics headquartered_in Bergen');
  });
});

describe('flywheel-patterns/7: phrasings that were missed', () => {
  it('sites an organisation has: "have clinics in X"', () => {
    expect(accepted("agent: You've reached Pendle Vets; we're based in Burnley and have clinics in Colne and Nelson.")).toContain('Pendle Vets located_in Colne');
    // …but "our depot" from an agent whose first-named organisation is not the one the customer called about is withheld.
    expect(accepted('customer: The arm I bought from Harkness Robotics keeps failing. Is the motor yours?', 'agent: No, Siemens makes the motor. Our service depot in Leeds can look at it.')).not.toContain('Siemens located_in Leeds');
  });
  it('a job named by an agent noun "with" or "at" an organisation', () => {
    expect(accepted('Her son, Rhodri Vaughan, is a mechanic with the Ferrybridge Lifeboat Trust.')).toContain('Rhodri Vaughan works_for Ferrybridge Lifeboat Trust');
  });
  it('"is still CEO" without an article', () => {
    expect(accepted('Talbot Rowe founded Quarrydown Press. Talbot is still CEO.')).toContain('Talbot Rowe ceo_of Quarrydown Press');
  });
  it('a first name coordinated with a full name shares its surname', () => {
    expect(accepted('Two brothers, Ysolde and John Penhallow, set it up. Ysolde lives in Truro.')).toContain('Ysolde Penhallow lives_in Truro');
  });
  it('where a person was born is a place, even a name the tagger reads as an organisation', () => {
    expect(accepted('Our records say Mabel Orton was born in Harbor Center, Maine.')).toContain('Mabel Orton born_in Harbor Center');
  });
  it('"completed its acquisition of"', () => {
    expect(accepted('Markets update: Harrowgate Water completed its acquisition of Fenbury Water in March 2021.')).toContain('Harrowgate Water acquired Fenbury Water');
  });
  it('"a little studio founded by X", and its date', () => {
    expect(accepted("We stopped at Saltmarsh Studios in Looe. It's a little studio founded by Wenna Hocking in 1987.")).toEqual(
      expect.arrayContaining(['Wenna Hocking founded Saltmarsh Studios', 'Saltmarsh Studios founded_on 1987']),
    );
  });
  it('"runs the studio now as its chief executive"', () => {
    expect(accepted('We stopped at Saltmarsh Studios in Looe.', 'Is Wenna Hocking still making pots?', 'No, she retired. Her nephew, Jory Hocking, runs the studio now as its chief executive.')).toContain(
      'Jory Hocking ceo_of Saltmarsh Studios',
    );
  });
  it('a pronoun after a clause\'s opening time: "and in 2015 it acquired …"', () => {
    expect(accepted('Where is Ostler Games based?', 'In Kempten. It makes Lantern Run, and in 2015 it acquired Pellow Toys.')).toContain('Ostler Games acquired Pellow Toys');
  });
  it('"founded a tiny publisher, X"', () => {
    expect(accepted('Anna Berg also founded a tiny publisher, Hobnail Games.')).toContain('Anna Berg founded Hobnail Games');
  });
  it('a trade word that ends a firm\'s name makes it an organisation "it" can stand for', () => {
    expect(accepted('Who owns Kessler Dynamics now? I know Ada Moor founded it.')).toContain('Ada Moor founded Kessler Dynamics');
  });
  it('"A and B set it up": the particle after the pronoun', () => {
    expect(accepted("I've started listening to Marsh Light Media, the podcast network.", "Who's behind it?", 'Two brothers, Robert and John Ferrier, set it up.')).toEqual(
      expect.arrayContaining(['Robert Ferrier founded Marsh Light Media', 'John Ferrier founded Marsh Light Media']),
    );
  });
  it('a clause with its verb left out repeats the claim for its own pair', () => {
    const got = accepted('Two brothers, Robert and John Ferrier, run it. John lives in Oban, Robert in Fort William.');
    expect(got).toContain('Robert Ferrier lives_in Fort William');
    expect(got).not.toContain('Oban located_in Robert');
  });
  it('"is a village in" types a name the tagger did not know, even opening the sentence', () => {
    expect(accepted('Kessra is a village in Volta Region.')).toContain('Kessra located_in Volta Region');
  });
  it('"our" is the speaker\'s own organisation, not the buyer named before it', () => {
    const got = accepted("I'm Ada Lenz, and I've worked for Maison Ardoise since 2011.", 'Is it still independent?', 'Not since 2019, when the Dutch group Velsen Chemicals bought us, but we kept our workshop in Grasse.');
    expect(got).toContain('Maison Ardoise located_in Grasse');
    expect(got.some((c) => c.includes('Velsen Chemicals located_in'))).toBe(false);
  });
});
