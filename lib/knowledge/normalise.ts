/**
 * Name normalisation: the keys under which two spellings of one entity meet. Conservative on
 * purpose: a missed merge leaves a duplicate a reviewer can fix, a wrong merge corrupts the graph.
 */
import type { EntityType } from './types';

const ORG_SUFFIXES = new Set(['inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'ltd', 'limited', 'llc', 'plc', 'gmbh', 'ag', 'sa', 'group', 'holdings']);
const HONORIFICS = new Set(['mr', 'mrs', 'ms', 'miss', 'dr', 'prof', 'professor', 'sir', 'dame', 'lady', 'lord', 'saint', 'st']);
const ACRONYM_SKIP = new Set(['of', 'and', 'the', 'for', 'de', 'la', '&']);

/** Lower case, no accents, no possessive, punctuation as spaces, single spaces. */
export function simplify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’]s\b/g, '')
    .replace(/[^a-z0-9&]+/g, ' ')
    .trim()
    .replace(/\s+/g, ' ');
}

export function normaliseName(text: string, type: EntityType | string): string {
  if (type === 'date') return normaliseDate(text) ?? simplify(text);
  let tokens = simplify(text).split(' ').filter(Boolean);
  if (tokens[0] === 'the' && tokens.length > 1) tokens = tokens.slice(1);
  if (type === 'organisation') {
    while (tokens.length > 1 && ORG_SUFFIXES.has(tokens[tokens.length - 1]!)) tokens = tokens.slice(0, -1);
  }
  if (type === 'person') {
    while (tokens.length > 1 && HONORIFICS.has(tokens[0]!)) tokens = tokens.slice(1);
  }
  return tokens.join(' ');
}

/** Words that, after a company's name, describe it rather than name it: "Toyota Motor", "Tata Industries". */
const ORG_GENERIC = new Set(['motor', 'motors', 'industries', 'industrial', 'manufacturing', 'enterprises', 'worldwide', 'international', 'global']);

/**
 * An organisation's short form: its key without legal suffixes and descriptive words ("Toyota
 * Motor Corporation" → "toyota"); undefined when that leaves nothing shorter.
 */
export function orgShortForm(text: string): string | undefined {
  let tokens = normaliseName(text, 'organisation').split(' ');
  while (tokens.length > 1 && (ORG_GENERIC.has(tokens[tokens.length - 1]!) || ORG_SUFFIXES.has(tokens[tokens.length - 1]!))) tokens = tokens.slice(0, -1);
  const short = tokens.join(' ');
  return short !== normaliseName(text, 'organisation') ? short : undefined;
}

/** A place without the region after its comma: "Milan, Ohio" → "milan". */
export function placeHead(text: string): string {
  return normaliseName(text.split(',')[0]!, 'place');
}

/** Initials of the significant words: "International Business Machines" → "ibm". */
export function acronym(text: string): string | undefined {
  const words = simplify(text).split(' ').filter((w) => w && !ACRONYM_SKIP.has(w));
  if (words.length < 2) return undefined;
  return words.map((w) => w[0]).join('');
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/**
 * ISO prefixes (`1815`, `1815-12`, `1815-12-10`) from the spellings conversations use. Undefined
 * when the text names no calendar date (`last Tuesday` has no fixed value without a clock).
 */
export function normaliseDate(text: string): string | undefined {
  const isoText = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$/.exec(text.trim());
  if (isoText) return isoPrefix(+isoText[1]!, isoText[2] ? +isoText[2] : undefined, isoText[3] ? +isoText[3] : undefined);
  const t = simplify(text).replace(/\b(on|in|the|of|circa|around|about)\b/g, ' ').replace(/(\d+)(st|nd|rd|th)\b/g, '$1').replace(/\s+/g, ' ').trim();
  if (/^\d{3,4}$/.test(t)) return isoPrefix(+t);
  const month = (w: string) => MONTHS.findIndex((m) => m === w || (w.length >= 3 && m.startsWith(w))) + 1;
  let m = /^(\d{1,2}) ([a-z]+) (\d{3,4})$/.exec(t);
  if (m && month(m[2]!)) return isoPrefix(+m[3]!, month(m[2]!), +m[1]!);
  m = /^([a-z]+) (\d{1,2}) (\d{3,4})$/.exec(t);
  if (m && month(m[1]!)) return isoPrefix(+m[3]!, month(m[1]!), +m[2]!);
  m = /^([a-z]+) (\d{3,4})$/.exec(t);
  if (m && month(m[1]!)) return isoPrefix(+m[2]!, month(m[1]!));
  return undefined;
}

function isoPrefix(y: number, mo?: number, d?: number): string | undefined {
  if (y < 1 || y > 2999) return undefined;
  const yy = String(y).padStart(4, '0');
  if (mo === undefined) return yy;
  if (mo < 1 || mo > 12) return undefined;
  if (d === undefined) return `${yy}-${String(mo).padStart(2, '0')}`;
  if (d < 1 || d > 31) return undefined;
  return `${yy}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** `1815` and `1815-12-10` can both be true of one birth; `1815` and `1816` cannot. */
export function datesCompatible(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

const NICKNAMES: Record<string, string[]> = {
  william: ['bill', 'will', 'billy', 'liam'],
  robert: ['bob', 'rob', 'bobby'],
  richard: ['dick', 'rick', 'rich'],
  elizabeth: ['liz', 'beth', 'betty', 'eliza'],
  margaret: ['maggie', 'meg', 'peggy'],
  james: ['jim', 'jimmy'],
  john: ['jack', 'johnny'],
  michael: ['mike', 'mick'],
  katherine: ['kate', 'kathy', 'katie'],
  catherine: ['kate', 'cathy'],
  edward: ['ed', 'ted', 'eddie'],
  charles: ['charlie', 'chuck'],
  alexander: ['alex', 'sasha'],
  steven: ['steve'],
  stephen: ['steve'],
  augusta: ['ada'],
};

/** Same person's first names: equal, an initial, a prefix (Tim/Timothy), or a known nickname. */
export function firstNamesCompatible(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length === 1 || b.length === 1) return a[0] === b[0];
  if (a.length >= 3 && b.length >= 3 && (a.startsWith(b) || b.startsWith(a))) return true;
  return (NICKNAMES[a]?.includes(b) ?? false) || (NICKNAMES[b]?.includes(a) ?? false);
}

/** Keys under which the graph is searched for this name (exact key, acronym, surname). */
export function matchKeys(text: string, type: EntityType | string): string[] {
  const key = normaliseName(text, type);
  const keys = new Set([`${type}:${key}`]);
  if (type === 'organisation') {
    const a = acronym(text);
    if (a) keys.add(`${type}:${a}`);
    const short = orgShortForm(text);
    if (short) keys.add(`${type}:${short}`);
  }
  if (type === 'place' && text.includes(',')) keys.add(`${type}:${placeHead(text)}`);
  if (type === 'person') {
    const parts = key.split(' ');
    keys.add(`person~${parts[parts.length - 1]}`);
  }
  return [...keys];
}
