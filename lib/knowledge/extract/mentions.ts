/**
 * Entity mentions from compromise (a rule-and-lexicon English tagger whose model ships inside its
 * npm package: no download at run time) and its dates plugin. Names compromise recognises are
 * typed; other capitalised spans stay untyped, for a relationship pattern to type by its slot.
 */
import nlp from 'compromise';
import datePlugin from 'compromise-dates';
import type { EntityType } from '../types';
import { normaliseDate } from '../normalise';

nlp.plugin(datePlugin as unknown as Parameters<typeof nlp.plugin>[0]);

export interface RawMention {
  text: string;
  /** Undefined: a capitalised span compromise could not type. */
  type?: EntityType;
  start: number;
  end: number;
  /** For dates: the ISO prefix (`1815`, `1815-12-10`). */
  value?: string;
}

export interface Sentence {
  text: string;
  start: number;
  end: number;
  mentions: RawMention[];
}

interface Span {
  text: string;
  offset: { start: number; length: number };
}

type Doc = ReturnType<typeof nlp>;
const spans = (v: { json(o: object): unknown }): Span[] => v.json({ offset: true }) as Span[];

// Compass words only in lower case: "western Mauritania" is Mauritania, "South Korea" is a name.
const LEADING = /^(?:(?:[Tt]he|[Aa]n?|[Oo]n|[Ii]n|[Aa]t|[Oo]f|[Ff]rom|[Tt]o)|(?:north|south|east|west)(?:ern|east|west|eastern|western)?|central|north-central|south-central)\s+/;
/** "city of Denmark" is Denmark: the tagger keeps the head noun in the place's span. */
const PLACE_OF = /^(?:(?:capital|largest|port)\s+)*(?:city|town|island|state|province|region|republic|kingdom|capital)\s+of\s+(?:the\s+)?/i;
const PRONOUN_START = /^(?:he|she|it|they|the company|the firm|the city|the town)\b/i;
const NOT_A_NAME = new Set(['I', 'He', 'She', 'It', 'They', 'We', 'You', 'The', 'A', 'An', 'In', 'On', 'At', 'Is', 'Was', 'Yes', 'No', 'And', 'But', 'So', 'Who', 'What', 'When', 'Where', 'Why', 'How', 'Did', 'Does', 'Do', 'Tell', 'My', 'Our', 'That', 'This', 'These', 'Those', 'Hi', 'Hello', 'Thanks', 'Right', 'Also', 'Then', 'There', 'Oh', 'Well', 'Sure', 'Actually', 'Maybe', 'Perhaps', 'Really']);

/** Trims punctuation and leading function words, keeping offsets true to the original text. */
function clean(text: string, start: number): { text: string; start: number; end: number } | undefined {
  let s = start;
  let t = text;
  for (;;) {
    const lead = /^[\s("'“‘[]+/.exec(t)?.[0] ?? LEADING.exec(t)?.[0] ?? PLACE_OF.exec(t)?.[0];
    if (!lead) break;
    s += lead.length;
    t = t.slice(lead.length);
  }
  t = t.replace(/(?:['’]s)?[\s).,;:!?"'”’\]]+$/, '').replace(/['’]s$/, '');
  return t ? { text: t, start: s, end: s + t.length } : undefined;
}

export function sentencesOf(text: string): Sentence[] {
  const doc: Doc = nlp(text);
  const mentions = findMentions(doc, text);
  return spans(doc.sentences()).map((s) => {
    const start = s.offset.start;
    const end = start + s.offset.length;
    return { text: text.slice(start, end), start, end, mentions: mentions.filter((m) => m.start >= start && m.end <= end) };
  });
}

function findMentions(doc: Doc, text: string): RawMention[] {
  const out: RawMention[] = [];
  const add = (v: { json(o: object): unknown }, type: EntityType | undefined) => {
    for (const sp of spans(v)) {
      const c = clean(sp.text, sp.offset.start);
      if (c && !NOT_A_NAME.has(c.text)) out.push({ ...c, type });
    }
  };
  add(doc.people(), 'person');
  add(doc.organizations(), 'organisation');
  add(doc.places(), 'place');
  for (const sp of spans((doc as unknown as { dates(): Doc }).dates())) {
    const c = clean(sp.text, sp.offset.start);
    const value = c && /\b\d{3,4}\b/.test(c.text) ? normaliseDate(c.text) : undefined;
    // Dates without a year ("last Tuesday") depend on when they were said: no fixed value to store.
    if (c && value) out.push({ ...c, type: 'date', value });
  }
  for (const m of text.matchAll(/\b(1\d{3}|20\d{2})\b/g)) out.push({ text: m[0], start: m.index!, end: m.index! + m[0].length, type: 'date', value: m[0] });
  const typed = dedupe(out);
  const untyped: RawMention[] = [];
  for (const m of text.matchAll(/(?:[A-Z][\p{L}'’.-]*|i[A-Z][\p{L}]*)(?:\s+(?:(?:of|de|la|von|van|der|and|&)\s+)?(?:[A-Z][\p{L}'’.-]*|\d+))*/gu)) {
    for (const piece of splitAtFullStops(m[0], m.index!).flatMap((p) => outside(p.text, p.start, typed))) {
      const lead = LEADING_TITLE.exec(piece.text)?.[0].length ?? 0;
      const c = clean(piece.text.slice(lead).replace(TITLE_WORDS, ''), piece.start + lead);
      if (c && !NOT_A_NAME.has(c.text.split(/\s+/)[0]!) && !TITLE_ONLY.test(c.text)) untyped.push(c);
    }
  }
  return [...typed, ...untyped].sort((a, b) => a.start - b.start);
}

const TITLE_WORDS = /(?:\s+(?:CEO|CTO|CFO|Chief|Executive|Officer|President|Founder|Chairman|Director))+\s*$/;
const LEADING_TITLE = /^(?:(?:CEO|CTO|CFO|Chief|Executive|Officer|President|Founder|Chairman|Director)\s+)+(?:of\s+)?/;
const TITLE_ONLY = /^(?:CEO|CTO|CFO|Chief|Executive|Officer|President|Founder|Chairman|Director)$/;

const ABBREVIATION = /(?:^|\s)(?:[A-Z]|Inc|Corp|Co|Ltd|St|Jr|Sr|Dr|Mr|Mrs|Ms|Prof)\.$/;

/** "Apple. Apple is…": a full stop ends a name unless it closes an initial or an abbreviation. */
function splitAtFullStops(text: string, start: number): Array<{ text: string; start: number }> {
  const pieces: Array<{ text: string; start: number }> = [];
  let from = 0;
  for (const m of text.matchAll(/\.\s+/g)) {
    const head = text.slice(from, m.index! + 1);
    if (ABBREVIATION.test(head)) continue;
    pieces.push({ text: text.slice(from, m.index!), start: start + from });
    from = m.index! + m[0].length;
  }
  pieces.push({ text: text.slice(from), start: start + from });
  return pieces;
}

/** The parts of a capitalised run that no typed mention covers ("Apple" in "Apple CEO Tim Cook"). */
function outside(text: string, start: number, typed: RawMention[]): Array<{ text: string; start: number }> {
  const end = start + text.length;
  const cuts = typed.filter((t) => t.start < end && start < t.end).sort((a, b) => a.start - b.start);
  const pieces: Array<{ text: string; start: number }> = [];
  let at = start;
  for (const c of cuts) {
    if (c.start > at) pieces.push({ text: text.slice(at - start, c.start - start), start: at });
    at = Math.max(at, c.end);
  }
  if (at < end) pieces.push({ text: text.slice(at - start), start: at });
  return pieces.filter((p) => /[A-Za-z]/.test(p.text));
}

const PRIORITY: Record<string, number> = { date: 5, person: 4, organisation: 3, place: 2, product: 1 };

/** Longest span wins; on equal spans a typed mention beats an untyped one. */
function dedupe(ms: RawMention[]): RawMention[] {
  const sorted = [...ms].sort((a, b) => b.end - b.start - (a.end - a.start) || (PRIORITY[b.type ?? ''] ?? 0) - (PRIORITY[a.type ?? ''] ?? 0) || a.start - b.start);
  const kept: RawMention[] = [];
  for (const m of sorted) {
    const overlaps = kept.some((k) => m.start < k.end && k.start < m.end);
    if (!overlaps) kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** "She was born in…": a pronoun opening a sentence, and the entity type it can refer to. */
export function leadingPronoun(sentence: Sentence): { text: string; start: number; end: number; type: EntityType } | undefined {
  const lead = /^\s*/.exec(sentence.text)![0].length;
  const m = PRONOUN_START.exec(sentence.text.slice(lead));
  if (!m) return undefined;
  const w = m[0].toLowerCase();
  const type: EntityType = w === 'he' || w === 'she' ? 'person' : w === 'the city' || w === 'the town' ? 'place' : w === 'they' ? 'organisation' : 'organisation';
  const start = sentence.start + lead;
  return { text: m[0], start, end: start + m[0].length, type };
}
