/**
 * Generated conversations for the ingestion benchmark: sentence templates recombined over
 * letters-only names (so the tagger reads them as names), one set of people and companies per
 * conversation. Pure, so the generator can be checked without the stack.
 */
const CITIES = ['Lisbon', 'Vienna', 'Prague', 'Oslo', 'Dublin', 'Warsaw', 'Madrid', 'Helsinki', 'Athens', 'Budapest', 'Zagreb', 'Tallinn'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const FIRST = ['Marie', 'Jonas', 'Ines', 'Tomas', 'Clara', 'Pavel', 'Lena', 'Oskar', 'Nadia', 'Felix'];

/** A deterministic letters-only name part for index i ("bqz"). */
export function letters(i: number): string {
  let s = '';
  let x = i;
  do {
    s += String.fromCharCode(97 + (x % 26));
    x = Math.floor(x / 26);
  } while (x > 0);
  return s;
}

/** Conversation i: births with dates, an employer, a product kind, headquarters, a founder and chief executive by pronoun; every third a hearsay claim, every fourth a superseded residence. */
export function conversationTurns(i: number, family: string): Array<{ conversation: string; text: string }> {
  const pick = <T>(xs: T[], k: number) => xs[(i * 7 + k * 13) % xs.length]!;
  const tag = letters(i);
  const person = `${pick(FIRST, 0)} ${family}${tag}`;
  const colleague = `${pick(FIRST, 1)} Var${tag}`;
  const org = `Kel${tag} Systems`;
  const rival = `Bram${tag} Labs`;
  const [c1, c2, c3] = [pick(CITIES, 0), pick(CITIES, 1), pick(CITIES, 2)];
  const year = 1950 + (i % 50);
  const turns = [
    `Tell me about ${person}.`,
    `${person} was born in ${c1} on ${1 + (i % 28)} ${pick(MONTHS, 2)} ${year}. She works for ${org}, which makes industrial sensors.`,
    `Where is ${org} based?`,
    `${org} is headquartered in ${c2}. It was founded by ${colleague} in ${year + 30}, and ${colleague} is still its CEO.`,
  ];
  if (i % 3 === 0) turns.push(`My cousin insists ${org} acquired ${rival}.`);
  if (i % 4 === 0) turns.push(`${person} lived in ${c1} until 2019, but now she lives in ${c3}.`);
  return turns.map((text) => ({ conversation: `ing-${i}`, text }));
}
