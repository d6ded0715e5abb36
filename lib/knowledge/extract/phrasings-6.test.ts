/**
 * flywheel-patterns/6 (issue 19, after reading the fifth set's errors and misses): name boundaries,
 * clauses with subjects of their own, negation, and the hard role and answer phrasings, on sentences
 * written for these tests, outside every labelled set.
 */
import { describe, expect, it } from 'vitest';
import { claims } from './phrasing-claims';
import { sentencesOf } from './mentions';

const ACCEPT = 0.85;
const accepted = (...texts: string[]) => claims(...texts).filter((c) => c.confidence >= ACCEPT).map((c) => c.claim);
const mentions = (text: string) => sentencesOf(text).flatMap((s) => s.mentions.map((m) => `${m.text}:${m.type ?? '?'}`));

describe('flywheel-patterns/6: name boundaries', () => {
  it('a hyphenated place is one name, never cut at a hyphen', () => {
    expect(mentions('We drove to Newcastle-upon-Tyne on Friday.').some((m) => m.startsWith('Newcastle-upon-Tyne:'))).toBe(true);
    expect(mentions('We drove to Newcastle-upon-Tyne on Friday.').some((m) => /-:|^upon|^Tyne:/.test(m))).toBe(false);
    expect(accepted('Greta Holm was born in Newcastle-upon-Tyne.')).toContain('Greta Holm born_in Newcastle-upon-Tyne');
  });
  it('dotted initials after a comma stay in the place\'s name, not a region of their own', () => {
    const got = accepted('Corvane Therapeutics is headquartered in Vancouver, B.C. and hiring.');
    expect(got).toContain('Corvane Therapeutics headquartered_in Vancouver, B.C');
    expect(got.some((c) => c.includes('located_in B.C'))).toBe(false);
  });
  it('a name may open with any upper-case letter, not only A–Z', () => {
    expect(mentions('Ålesund Marine Group grew fast.')).toContain('Ålesund Marine Group:organisation');
    expect(accepted('Łukasz Zieliński was born in Kraków.')).toContain('Łukasz Zieliński born_in Kraków');
  });
  it('lower-case words after a name\'s last capital are not part of it; an elided particle is', () => {
    expect(mentions('Lovely little village. Going soon?')).not.toContain('Lovely little village:place');
    expect(mentions('Abidjan is the largest city of Côte d\'Ivoire.')).toContain('Côte d\'Ivoire:place');
  });
  it('a preposition opening a sentence is not a name', () => {
    expect(mentions('By then, Marrick Foods made Crunchies.').some((m) => m.startsWith('By:'))).toBe(false);
  });
});

describe('flywheel-patterns/6: negation and clauses', () => {
  it('every "-n\'t" negates: "don\'t", "won\'t", "aren\'t"', () => {
    expect(accepted('Harwick Audio don\'t make the Tembo X anymore.')).not.toContain('Harwick Audio makes Tembo X');
    expect(accepted('Perrin Labs aren\'t based in Leeds.')).not.toContain('Perrin Labs headquartered_in Leeds');
  });
  it('after a semicolon or "but", a noun phrase subject of its own takes the claim from the name before it', () => {
    expect(accepted('Bonn was the seat of government until 1999; the capital of Germany is Berlin.')).not.toContain('Bonn capital_of Germany');
    expect(accepted('The ministries sit in Bonn, but the capital of Germany is Berlin.')).not.toContain('Bonn capital_of Germany');
    expect(accepted('The ministries sit in Bonn, but the capital of Germany is Berlin.')).toContain('Berlin capital_of Germany');
  });
  it('…but a verb straight after "but" or a semicolon shares the earlier subject', () => {
    expect(accepted('Ines Kahl grew up in Aalst but was born in Ghent.')).toContain('Ines Kahl born_in Ghent');
    expect(accepted('Turku is the oldest city of Finland; located on the south-west coast.')).not.toContain('Turku capital_of Finland');
  });
  it('"the capital of X is now Y"', () => {
    expect(accepted('The capital of Brazil is now Brasília.')).toContain('Brasília capital_of Brazil');
  });
  it('"A, not B, and C is the capital of D": only C, the name right before the singular verb', () => {
    const got = accepted('The capital of Australia is Canberra, not Sydney, and Wellington is the capital of New Zealand.');
    expect(got).toEqual(expect.arrayContaining(['Canberra capital_of Australia', 'Wellington capital_of New Zealand']));
    expect(got.some((c) => c.startsWith('Sydney capital_of'))).toBe(false);
  });
  it('a guess inside "the capital of X is Y, I think?" is not part of the country asked about', () => {
    const got = accepted('the capital of canada is toronto, i think?', 'It\'s Ottawa; Toronto is the biggest city.');
    expect(got).toContain('Ottawa capital_of canada');
    expect(got.some((c) => /capital_of canada is/.test(c))).toBe(false);
  });
});

describe('flywheel-patterns/6: products, "we" and acronyms', () => {
  it('right after a verb of making, a name read as a place or person is the product; the name before the verb is its maker', () => {
    expect(accepted('Brisk Guitars makes the Santa Fe and Cordell Strings makes the Kingsley.')).toEqual(['Brisk Guitars makes Santa Fe', 'Cordell Strings makes Kingsley']);
  });
  it('"we" is the speaker\'s own organisation; "before that" marks the earlier state as past', () => {
    const got = accepted('user: Who makes Tovalin?', 'agent: I work at Calder Pharma. We make Tovalin and Peprix. We have been based in Leeds since 2019; before that we were based in York.');
    expect(got).toEqual(expect.arrayContaining(['Calder Pharma makes Tovalin', 'Calder Pharma makes Peprix', 'Calder Pharma headquartered_in Leeds']));
    expect(got).not.toContain('Calder Pharma headquartered_in York');
  });
  it('"we" with no organisation named in the conversation refers to nothing, not to a description', () => {
    expect(claims('And where is the studio based?', 'We are based in Leeds.')).toEqual([]);
  });
  it('an acronym the tagger does not know is an organisation "it" can refer to', () => {
    expect(accepted('Where is BKR based?', 'BKR is Dutch; it is headquartered in Utrecht.')).toContain('BKR headquartered_in Utrecht');
  });
  it('a place\'s name right before an organisation\'s is part of it', () => {
    expect(mentions('He now works for the Canada Revenue Agency.')).toContain('Canada Revenue Agency:organisation');
  });
});

describe('flywheel-patterns/6: roles, relative clauses and distance', () => {
  it('a chief executive named without the organisation holds the role at the organisation in focus', () => {
    expect(accepted('Who runs Calder Pharma these days?', 'Ruth Ojo has been chief executive since 2018.')).toContain('Ruth Ojo ceo_of Calder Pharma');
    expect(accepted('Lindell Textiles makes rugs. Jon Quist is the CEO.')).toContain('Jon Quist ceo_of Lindell Textiles');
    expect(accepted('Mara Quist founded Lindell Textiles; her nephew, Jon Quist, runs it as CEO.')).toContain('Jon Quist ceo_of Lindell Textiles');
  });
  it('a role with its own organisation after it is not the one in focus', () => {
    expect(accepted('Lindell Textiles makes rugs. Jon Quist is the CEO of Marden Mills.').some((c) => c.includes('ceo_of Lindell'))).toBe(false);
  });
  it('"X, which bought Y": the relative clause\'s verb has X as its subject', () => {
    expect(accepted('I work for Calder Pharma, which bought Linden Labs in 2020.')).toContain('Calder Pharma acquired Linden Labs');
  });
  it('a verb phrase after "and" shares the subject, whatever its length; one with a subject of its own does not', () => {
    expect(accepted('Ivo Marek retired from teaching in 2015 and now lives in Split.')).toContain('Ivo Marek lives_in Split');
    expect(accepted('Ivo Marek retired from teaching in 2015 and the whole family now lives in Split.')).not.toContain('Ivo Marek lives_in Split');
  });
  it('"there" after "X; it is the capital of Y" is X, not Y', () => {
    expect(accepted('I am visiting Vilnius; it is the capital of Lithuania. My cousin Ona Petraitis lives there.')).toContain('Ona Petraitis lives_in Vilnius');
  });
});

describe('flywheel-patterns/6: where organisations are', () => {
  it('"X is in Y" for an organisation or place the tagger or a pattern typed; not for an untyped name or a preposition\'s object', () => {
    expect(accepted('Brannock College is in Galway.')).toContain('Brannock College located_in Galway');
    // Through a pronoun the claim is proposed, below the level the default policy accepts alone.
    expect(claims('Tell me about Brannock College.', 'It\'s in Galway, near the docks.').map((c) => c.claim)).toContain('Brannock College located_in Galway');
    expect(claims('Tomas is in Malmö this week.').some((c) => c.claim.includes('located_in'))).toBe(false);
    expect(accepted('The headquarters of Brannock College are in Galway.')).not.toContain('Brannock College located_in Galway');
  });
  it('firms named by a profession or trade are organisations', () => {
    for (const name of ['Merrow Architects', 'Delane Biologics', 'Kestle Brewing', 'Harrow Cycle Works', 'Pellow Partnership']) expect(mentions(`${name} is growing.`)).toContain(`${name}:organisation`);
  });
  it('an organisation\'s claims office, depot or mine', () => {
    expect(accepted('Orwell Mutual\'s claims office is in Derby.')).toContain('Orwell Mutual located_in Derby');
    expect(accepted('Kestle Brewing\'s depot in Luton handles returns.')).toContain('Kestle Brewing located_in Luton');
    expect(accepted('Halden Foods\'s mine is in Hull.')).toContain('Halden Foods located_in Hull');
  });
  it('"… and was founded on D" shares the subject', () => {
    expect(accepted('Kestle Brewing is based in Truro and was founded on 2 May 1998.')).toEqual(expect.arrayContaining(['Kestle Brewing headquartered_in Truro', 'Kestle Brewing founded_on 1998-05-02']));
  });
  it('"X\'s mine is in …, and the company is based in …": the possessor is the company, not a buyer named before', () => {
    const got = accepted('Rumour has it Halden Foods is buying Brisk Mills.', 'Brisk\'s mine is in Hull, and the company is based in York.');
    expect(got).toContain('Brisk headquartered_in York');
    expect(got).not.toContain('Halden Foods headquartered_in York');
  });
});

describe('flywheel-patterns/6: questions and answers', () => {
  it('a tag question\'s "she" makes its subject a person, for "she" in the answer', () => {
    expect(accepted('Ada Lusk ran her own bakery, didn\'t she?', 'She did: she founded Lusk Bakery in Hull in 1931.')).toEqual(expect.arrayContaining(['Ada Lusk founded Lusk Bakery', 'Lusk Bakery founded_on 1931']));
  });
  it('"who runs X?" puts X in focus for a chief executive named without it', () => {
    expect(accepted('Who runs Orwell Mutual?', 'Dev Patel is chairman and CEO.')).toContain('Dev Patel ceo_of Orwell Mutual');
    expect(accepted('Who is running Orwell Mutual these days?', 'Dev Patel has been chief executive since 2021.')).toContain('Dev Patel ceo_of Orwell Mutual');
  });
  it('coordinated names all answer "who founded X?", with the founding date after them', () => {
    const got = accepted('Who founded Kestle Brewing?', 'Ruth Penrose and her brother-in-law Alan Tregear, in Truro in 1998.');
    expect(got).toEqual(expect.arrayContaining(['Ruth Penrose founded Kestle Brewing', 'Alan Tregear founded Kestle Brewing', 'Kestle Brewing founded_on 1998']));
  });
  it('a place and its region after a comma are not two answers', () => {
    const got = accepted('Where was Ada Lusk born?', 'Whitby, Yorkshire.');
    expect(got).toContain('Ada Lusk born_in Whitby');
    expect(got).not.toContain('Ada Lusk born_in Yorkshire');
  });
});

describe('flywheel-patterns/6: founders with a partner', () => {
  it('"A started X with her sister B": both founded it, and the date that follows is the founding\'s', () => {
    expect(accepted('Ada Lusk started Lusk Bakery with her sister Mary Lusk in 1931.')).toEqual(expect.arrayContaining(['Ada Lusk founded Lusk Bakery', 'Mary Lusk founded Lusk Bakery', 'Lusk Bakery founded_on 1931']));
  });
  it('"co-founded a startup, X, with …": the organisation in apposition to the kind founded', () => {
    expect(accepted('Ines Kahl co-founded a startup, Quorvel Therapeutics, with her old classmate Emil Dorn.')).toEqual(expect.arrayContaining(['Ines Kahl founded Quorvel Therapeutics', 'Emil Dorn founded Quorvel Therapeutics']));
  });
  it('"with" after another verb, or "with money from B", makes no founder', () => {
    expect(accepted('Ada Lusk worked at Lusk Bakery with her sister Mary Lusk.')).not.toContain('Mary Lusk founded Lusk Bakery');
    expect(accepted('Tom Reed founded Kestle Brewing with money from his aunt Ruth Penrose.')).not.toContain('Ruth Penrose founded Kestle Brewing');
  });
});
