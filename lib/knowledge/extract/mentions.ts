/**
 * Entity mentions from compromise (a rule-and-lexicon English tagger whose model ships inside its
 * npm package: no download at run time) and its dates plugin. Names compromise recognises are
 * typed; other capitalised spans stay untyped, for a relationship pattern to type by its slot.
 */
import nlp from 'compromise';
import datePlugin from 'compromise-dates';
import type { EntityType } from '../types';
import { normaliseDate } from '../normalise';
import { shapedNames, typeByShape } from './name-shapes';
import { DESCRIPTOR_LEAD, joinAcronymPrefix, joinAmpersand, splitBased } from './name-bounds';

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
const NOT_A_NAME = new Set(['Its', 'Her', 'His', 'Their', 'Apparently', 'Reportedly', 'Allegedly', 'Supposedly', 'Rumour', 'Rumor', 'Breaking', 'Contrary', 'After', 'Before', 'Yesterday', 'Today', 'Meanwhile', 'I', 'He', 'She', 'It', 'They', 'We', 'You', 'The', 'A', 'An', 'In', 'On', 'At', 'Is', 'Was', 'Yes', 'No', 'And', 'But', 'So', 'Who', 'What', 'When', 'Where', 'Why', 'How', 'Did', 'Does', 'Do', 'Tell', 'My', 'Our', 'That', 'This', 'These', 'Those', 'Your', 'Whose', 'Hi', 'Hello', 'Thanks', 'Right', 'Also', 'Then', 'There', 'Oh', 'Well', 'Sure', 'Actually', 'Maybe', 'Perhaps', 'Really', 'By', 'For', 'With', 'From', 'To', 'Of', 'As', 'Since', 'Until', 'Not', 'Only', 'Just', 'Still', 'Even',
  // Quantifiers and the speaker's own relatives named by kin ("Both men …", "Mum swears …"): words, not names (patterns/7).
  'Both', 'All', 'Neither', 'Either', 'Each', 'Every', 'Some', 'Many', 'Most', 'Mum', 'Mom', 'Dad', 'Mummy', 'Mommy', 'Daddy', 'Grandma', 'Grandpa', 'Granny', 'Gran', 'Nan', 'Nana']);

/** "Deal news: Solvane Energy", "Breaking: …": a short label and a colon opening a sentence are not part of a name. */
const HEADLINE = /^(?:[\p{L}-]+\s+){0,2}[\p{L}-]+:\s+/u;
/** "brother Johan Lindqvist": a lower-case word before a name is not part of it. */
const LOWER_LEAD = /^[a-z][\p{L}-]*\s+(?=\p{Lu})/u;

/**
 * "I'm Dario Ferri", "They're headquartered…": a pronoun with its contracted verb opens a clause, it
 * is never part of a name (the tagger reads "I'm Dario Ferri" as one person).
 */
const CONTRACTION = /^(?:(?:I|You|We|They|He|She|It|That|There|Here|What|Who|Where|Let)['’](?:m|re|s|ve|d|ll)|[A-Z][a-z]*n['’]t)\b/;
const CONTRACTION_LEAD = new RegExp(`${CONTRACTION.source}\\s+`);

/** Trims punctuation and leading function words, keeping offsets true to the original text. */
function clean(text: string, start: number): { text: string; start: number; end: number } | undefined {
  let s = start;
  let t = text;
  for (;;) {
    const lead = /^[\s("'“‘[]+/.exec(t)?.[0] ?? CONTRACTION_LEAD.exec(t)?.[0] ?? LEADING.exec(t)?.[0] ?? PLACE_OF.exec(t)?.[0] ?? HEADLINE.exec(t)?.[0] ?? LOWER_LEAD.exec(t)?.[0] ?? DESCRIPTOR_LEAD.exec(t)?.[0];
    if (!lead) break;
    s += lead.length;
    t = t.slice(lead.length);
  }
  t = t.replace(/(?:['’]s)?[\s).,;:!?"'”’\]]+$/, '').replace(/['’]s$/, '').replace(/\s+(?:region|area)$/, '');
  if (CONTRACTION.test(t) && !/\s/.test(t)) return undefined;
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
  out.push(...productsOf(text));
  // Longer than the tagger's pieces of them, so they win the dedupe ("St Mary's Hospital", not "Mary").
  out.push(...shapedNames(text));
  // "on 2 April 1971 by …", "August 15, 1912": whole dates the dates plugin sometimes cuts to a bare year.
  for (const m of text.matchAll(FULL_DATE)) {
    const value = normaliseDate(m[0]);
    if (value) out.push({ text: m[0], start: m.index!, end: m.index! + m[0].length, type: 'date', value });
  }
  for (const m of text.matchAll(/\b(1\d{3}|20\d{2})\b/g)) out.push({ text: m[0], start: m.index!, end: m.index! + m[0].length, type: 'date', value: m[0] });
  const typed = dedupe(out);
  const untyped: Array<RawMention & { titled?: boolean }> = [];
  // "Ōmura", "Łódź", "Çanakkale": any upper-case letter opens a name, not only A–Z.
  // "P&G", "AT&T": an ampersand between capitals inside a word joins one name.
  for (const m of text.matchAll(/(?:\p{Lu}[\p{L}\d'’.-]*(?:&\p{Lu}[\p{L}\d'’.-]*)*|i\p{Lu}[\p{L}]*)(?:\s+(?:(?:of|de|des|du|la|le|von|van|der|di|da|del|&)\s+)?(?:\p{Lu}[\p{L}\d'’.-]*(?:&\p{Lu}[\p{L}\d'’.-]*)*|\d+))*/gu)) {
    for (const piece of splitAtFullStops(m[0], m.index!).flatMap((p) => outside(p.text, p.start, typed))) {
      const lead = LEADING_TITLE.exec(piece.text)?.[0].length ?? 0;
      let c = clean(piece.text.slice(lead).replace(TITLE_WORDS, ''), piece.start + lead);
      // "Apparently Drammen Foods": a sentence adverb or a possessive opening the run is not part of the name.
      while (c && NOT_A_NAME.has(c.text.split(/\s+/)[0]!) && /\s/.test(c.text)) {
        const skip = /^\S+\s+/.exec(c.text)![0].length;
        c = clean(c.text.slice(skip), c.start + skip);
      }
      if (c && /^(?:[\p{Lu}\d]|i\p{Lu})/u.test(c.text) && !/^(?:\s+[a-z]+)?:\s/.test(text.slice(c.end)) && !NOT_A_NAME.has(c.text) && !TITLE_ONLY.test(c.text)) untyped.push({ ...c, titled: piece.text.slice(lead) !== piece.text.slice(lead).replace(TITLE_WORDS, '') || lead > 0 });
    }
  }
  const adjectives = new Set(spans(doc.match('#Adjective').not('#ProperNoun')).map((a) => a.offset.start));
  return (
    joinAcronymPrefix(joinAmpersand(splitBased(joinDottedRegion(splitRegions(placeIntoOrganisation(joinHyphenated(mergeFragments(typed, untyped, text), text), text).map((m) => lowerTail(m)), text), text)), text), text)
      // "Tiny studio based in …", "Quick one for …": a capitalised adjective is not a name.
      .filter((m) => m.type !== undefined || /\s/.test(m.text) || !adjectives.has(m.start))
      // "Pfizer himself was born in …": the name is a person's, whatever else it also names.
      .map((m) => ({ ...m, type: typeByShape(m.text, m.type) }))
      .map((m) => {
        // "Pfizer himself was born in …": the name is a person's, whatever else it also names.
        if (/^\s+(?:himself|herself)\b/.test(text.slice(m.end)) && !/\s/.test(m.text)) return { ...m, type: 'person' as const };
        return m.type === undefined && /\s/.test(m.text) && ROLE_BEFORE.test(text.slice(Math.max(0, m.start - 40), m.start)) ? { ...m, type: 'person' as const } : m;
      })
  );
}

const MONTH = '(?:January|February|March|April|May|June|July|August|September|October|November|December)';
const FULL_DATE = new RegExp(`\\b(?:\\d{1,2}(?:st|nd|rd|th)? ${MONTH},? \\d{3,4}|${MONTH} \\d{1,2}(?:st|nd|rd|th)?, \\d{3,4})\\b`, 'g');
/** "a new head coach, Ngaio Parata", "the presenter, Jago Trevithick": a name in apposition to a person's role is a person's. */
const ROLE_BEFORE = /\b(?:coach|manager|chef|founder|co-founder|presenter|host|judge|director|editor|consultant|astronomer|scientist|engineer|doctor|nurse|captain|player|author|writer|boss|owner|chair|chairman|chairwoman|president|teacher|professor|volunteer|blacksmith|merchant|farmer|worker|twins|brother|sister|cousin|wife|husband|son|daughter|officer|friend|schoolfriend|flatmate|roommate|colleague|neighbour|neighbor|classmate|mother|father|grandmother|grandfather|grandson|granddaughter|aunt|uncle|niece|nephew|great-aunt|great-uncle|great-grandfather|great-grandmother)s?,?\s+$/;

const MAKE_VERB = String.raw`\b(?:makes|made|produces|produced|manufactures|manufactured|builds|built|sells|sold|designs|designed)\s+`;
/** Words that end a noun phrase: a preposition, conjunction, relative or adverb. */
const NP_END = new Set(['and', 'or', 'but', 'in', 'on', 'at', 'to', 'for', 'from', 'with', 'since', 'by', 'as', 'is', 'was', 'are', 'were', 'that', 'which', 'who', 'while', 'because', 'so', 'than', 'too', 'also', 'here', 'there', 'today', 'now', 'yesterday', 'every', 'each', 'all', 'called', 'named', 'of', 'under', 'through', 'across', 'since', 'until']);
/** What follows "makes" without being a product: "makes sense", "makes it", "makes a lot of money". */
const NOT_PRODUCT = /^(?:it|them|this|that|these|those|sense|money|sure|up|out|way|room|time|mistakes?|friends?|things?|changes?|decisions?|plans?|sales?|profits?|calls?|jokes?|progress|headlines|news|history|lots?|everything|something|anything|nothing|his|her|their|our|its|my|your|me|us|him)$/;
/** Mass nouns that name a kind of product without a plural ("battery-testing equipment", "payroll software"). */
const MASS_PRODUCT = /(?:equipment|software|hardware|machinery|furniture|clothing|footwear|steel|glass|paper|cheese|chocolate|coffee|tea|beer|wine|jewellery|jewelry|apparel|cement)$/;

/**
 * "makes graphics processors", "makes battery-testing equipment": after a verb of making, a
 * lower-case noun phrase naming a kind of product (a plural or a mass noun head) is a product the
 * tagger cannot see (it looks for names only).
 */
function productsOf(text: string): RawMention[] {
  const out: RawMention[] = [];
  for (const m of text.matchAll(new RegExp(`${MAKE_VERB}(?:the\\s+|an?\\s+)?`, 'g'))) {
    const at = m.index! + m[0].length;
    const words = [...text.slice(at).matchAll(/[\p{L}\d][\p{L}\d-]*/gu)].slice(0, 5);
    const kept: RegExpMatchArray[] = [];
    for (const w of words) {
      const prev = kept[kept.length - 1];
      // Only single spaces inside a noun phrase: a comma or full stop ends it.
      if (prev && text.slice(at + prev.index! + prev[0].length, at + w.index!) !== ' ') break;
      if (NP_END.has(w[0])) break;
      kept.push(w);
    }
    if (!kept.length || NOT_PRODUCT.test(kept[0]![0].toLowerCase())) continue;
    // "payroll software called Quinlex Pay": the name that follows is the product.
    if (/^\s+(?:called|named)\b/.test(text.slice(at + kept[kept.length - 1]!.index! + kept[kept.length - 1]![0].length))) continue;
    const caps = kept.filter((w) => /^\p{Lu}/u.test(w[0]));
    const head = kept[kept.length - 1]![0];
    let n = 0;
    if (!caps.length && kept.length <= 4 && (/[^s]s$/.test(head) || MASS_PRODUCT.test(head))) n = kept.length;
    if (!n) continue;
    const last = kept[n - 1]!;
    const start = at + kept[0]!.index!;
    const end = at + last.index! + last[0].length;
    out.push({ text: text.slice(start, end), start, end, type: 'product' });
  }
  return out;
}

const PLACE_HEAD = /\s(?:City|Town|County|Island|Province|Region|Valley|Bay)$/;

/**
 * "Hamid" (person) + "Karimi", "Lee" + "Byung-chul", "Nationalist" + "China": the tagger typed part
 * of a name and left its neighbour untyped; one space between them makes them one name, of the
 * typed part's type (a place when it ends in City, County …).
 */
function mergeFragments(typed: RawMention[], untyped: Array<RawMention & { titled?: boolean }>, text: string): RawMention[] {
  const out = [...typed];
  for (const u of untyped) {
    const joins = (from: number, to: number) => to === from || (to === from + 1 && text[from] === ' ');
    const i = u.titled ? -1 : out.findIndex((t) => t.type !== 'date' && (joins(u.end, t.start) || joins(t.end, u.start)));
    if (i < 0) {
      out.push({ text: u.text, start: u.start, end: u.end });
      continue;
    }
    const t = out[i]!;
    const start = Math.min(t.start, u.start);
    const end = Math.max(t.end, u.end);
    const merged = text.slice(start, end);
    // "Swiss group" (tagged) + "Felsbach Aromatics": a description before the name is not part of it (patterns/7).
    const described = t.start < u.start ? DESCRIPTOR_LEAD.exec(merged) : null;
    if (described) {
      out[i] = { text: merged.slice(described[0].length), start: start + described[0].length, end, type: t.type };
      continue;
    }
    // "Stoke-on-" + "Trent" (tagged a person): a hyphenated name is one word, its type the pattern's to give.
    const hyphenated = text[Math.min(t.end, u.end) - 1] === '-';
    out[i] = { text: merged, start, end, type: PLACE_HEAD.test(merged) ? 'place' : hyphenated ? undefined : t.type };
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * "Stratford-upon-Avon", "Stoke-on-Trent": a hyphen joins the words of one name, so a name never
 * ends or starts at a hyphen inside a word. A mention is widened to the whole hyphenated word; the
 * pieces it then covers go, and it keeps the type of its first piece (the tagger reads "Stratford-"
 * as the place it is).
 */
function joinHyphenated(ms: RawMention[], text: string): RawMention[] {
  const out: RawMention[] = [];
  for (const m of ms) {
    if (m.type === 'date' || m.type === 'product' || out.some((o) => o.start <= m.start && m.end <= o.end)) continue;
    let { start, end } = m;
    while (/^-[\p{L}\d]/u.test(text.slice(end, end + 2)) || (text[end - 1] === '-' && /[\p{L}\d]/u.test(text[end] ?? ''))) end += /^-?[\p{L}\d]+/u.exec(text.slice(end))![0].length;
    while ((text[start - 1] === '-' && /[\p{L}\d]/u.test(text[start - 2] ?? '')) || (text[start] === '-' && /[\p{L}\d]/u.test(text[start - 1] ?? ''))) start -= /[\p{L}\d]+-?$/u.exec(text.slice(0, start))![0].length;
    if (start === m.start && end === m.end) {
      out.push(m);
      continue;
    }
    const first = ms.find((x) => x.start === start) ?? m;
    for (let i = out.length - 1; i >= 0; i--) if (out[i]!.start >= start && out[i]!.end <= end) out.splice(i, 1);
    out.push({ text: text.slice(start, end), start, end, type: first.type });
  }
  const wide = out.filter((o) => !ms.includes(o));
  return [...out.filter((o) => !wide.some((w) => w !== o && w.start <= o.start && o.end <= w.end)), ...ms.filter((m) => (m.type === 'date' || m.type === 'product') && !out.includes(m))].sort((a, b) => a.start - b.start);
}

/**
 * "Washington, D.C.", "Vancouver, B.C.": dotted initials after a place and a comma are read as part of
 * the place's name (resolution merges it with the bare name), never as a region of their own: the
 * initials alone name nothing the graph can resolve.
 */
function joinDottedRegion(ms: RawMention[], text: string): RawMention[] {
  const out: RawMention[] = [];
  for (const m of ms) {
    const prev = out[out.length - 1];
    if (prev && prev.type !== 'date' && prev.type !== 'product' && /^,\s+$/.test(text.slice(prev.end, m.start)) && /^(?:\p{Lu}\.){1,3}\p{Lu}?\.?$/u.test(text.slice(m.start, m.end + 1).trim())) {
      out[out.length - 1] = { ...prev, text: text.slice(prev.start, m.end), end: m.end };
      continue;
    }
    out.push(m);
  }
  return out;
}

/** "the UK Space Agency", "Japan Airlines": a place's name right before an organisation's (one space) is part of the organisation's name. */
function placeIntoOrganisation(ms: RawMention[], text: string): RawMention[] {
  const out: RawMention[] = [];
  for (const m of ms) {
    const prev = out[out.length - 1];
    if (prev && prev.type === 'place' && m.type === 'organisation' && m.start === prev.end + 1 && text[prev.end] === ' ') {
      out[out.length - 1] = { text: text.slice(prev.start, m.end), start: prev.start, end: m.end, type: 'organisation' };
      continue;
    }
    out.push(m);
  }
  return out;
}

/**
 * "Lovely old town": a name's last word is capitalised (or a number); lower-case words after the
 * last capitalised one are not part of it, and what is left is no longer the tagger's reading.
 */
function lowerTail(m: RawMention): RawMention {
  if (m.type === 'date' || m.type === 'product' || m.type === undefined) return m;
  // "Côte d'Ivoire": an elided particle before a capital is part of the name.
  const t = /^(.*?[\p{Lu}\d][^\s]*)(?:\s+(?!\p{Ll}['’]\p{Lu})\p{Ll}[\p{L}'’-]*)+$/u.exec(m.text);
  if (!t || !/\s/.test(m.text)) return m;
  return { text: t[1]!, start: m.start, end: m.start + t[1]!.length };
}

/**
 * "Aarhus, Denmark", "New Zealand; Auckland": one span from the tagger that is two names. Split at a
 * comma or semicolon when both sides are capitalised names (not "Tesla, Inc.").
 */
function splitRegions(ms: RawMention[], text: string): RawMention[] {
  const out: RawMention[] = [];
  for (const m of ms) {
    if (m.type === 'date' || !/[,;]\s/.test(m.text)) {
      out.push(m);
      continue;
    }
    let at = 0;
    for (const part of m.text.split(/(?<=[,;])\s+/)) {
      const idx = m.text.indexOf(part, at);
      at = idx + part.length;
      const c = clean(part, m.start + idx);
      if (!c) continue;
      if (out.length && /^(?:Inc|Ltd|LLC|Co|Corp|plc|AG|SA|GmbH|Jr|Sr)\b/.test(c.text) && out[out.length - 1]!.start >= m.start) {
        const prev = out[out.length - 1]!;
        out[out.length - 1] = { ...prev, text: text.slice(prev.start, c.end), end: c.end };
        continue;
      }
      if (/^\p{Lu}/u.test(c.text)) out.push({ ...m, ...c });
    }
  }
  return out;
}

const TITLE_WORDS = /(?:['’]s?)?(?:\s+(?:CEO|CTO|CFO|Chief|Executive|Officer|President|Founder|Chairman|Director))+[.,;:!?]*\s*$/;
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

// "the club", "the studio", "the trust": an organisation named by its kind ("the bank" is left out: a bank
// is as often the acquirer just named as the one the speaker means).
const PRONOUN = /\b(?:he|she|it|its|they|their|our|us|we|i|there|the (?:company|firm|club|team|studio|trust|charity|hospital|publisher|winery)(?:['’]s)?|the city|the town)\b/gi;
/** Where a clause starts: the sentence's start, or after a semicolon, a colon, a dash, "and", "but", "so" (and a time: "and in 2015 it …"). */
const CLAUSE_BEFORE = /(?:^|[;:]\s*|,?\s+(?:and|but|so|while|though|although)\s+|,\s+|\s[-–—]\s+)(?:(?:in|by|since) (?:\d{4}|[a-z]+ \d{4}),?\s+)?$/i;
/** "founded it", "bought it": "it" as a verb's object refers back; as a subject it is often a dummy ("It is not Sydney"). */
const VERB_BEFORE_IT = /\b(?:founded|co-founded|started|set|bought|acquired|sold|runs|ran|leads|led|joined|owns|owned|makes|made|built)\s+$/i;
/** "died there", "was founded there": "there" stands for a place only after an event's verb. */
const VERB_BEFORE_THERE = /\b(?:born|died|lives|lived|live|living|moved|headquartered|based)\s+$/i;

export interface PronounMention {
  text: string;
  start: number;
  end: number;
  type: EntityType;
  /** "I": the speaker, by the name they gave ("I'm Dario Ferri", "My name is Lena Vogt"). */
  speaker?: boolean;
}

const pronounType = (w: string): EntityType =>
  /^(?:he|she|i)$/.test(w) ? 'person' : /^(?:the (?:city|town)|there)$/.test(w) ? 'place' : 'organisation';

/**
 * Pronouns and "the company" that refer back: he/she/it/they/I where a clause starts ("…; he lives
 * in Vancouver", "though I live in Como"), the possessives its/their/our and "the company"/"the
 * firm" anywhere ("is still its CEO", "our plant in Graz", "works for the company"), "it" after a
 * verb ("founded it"), "there" after an event's verb ("died there"). "It is not: …" before a claim
 * refers to no organisation: the caller only uses one when an entity of the fitting type came earlier.
 */
export function pronounsOf(sentence: Sentence): PronounMention[] {
  const out: PronounMention[] = [];
  for (const m of sentence.text.matchAll(PRONOUN)) {
    const w = m[0].toLowerCase().replace(/['’]s$/, '');
    const before = sentence.text.slice(0, m.index!);
    const anywhere = w.startsWith('the ') || w === 'its' || w === 'their' || w === 'our';
    if (w === 'i' && m[0] !== 'I') continue;
    // "Drummond bought us": "us" only as the object of a verb that takes an organisation, where it is the speaker's.
    if (w === 'us' && !VERB_BEFORE_IT.test(before)) continue;
    if (w === 'there') {
      if (!VERB_BEFORE_THERE.test(before)) continue;
    } else if (!anywhere && !CLAUSE_BEFORE.test(before) && !((w === 'it' || w === 'us') && VERB_BEFORE_IT.test(before))) continue;
    const start = sentence.start + m.index!;
    const text = m[0].replace(/['’]s$/, '');
    out.push({ text, start, end: start + text.length, type: pronounType(w === 'its' || w === 'their' || w === 'our' ? 'it' : w), ...(w === 'i' ? { speaker: true } : {}) });
  }
  return out;
}

/** "I'm Dario Ferri", "My name is Lena Vogt", "This is Tom": the name a speaker gives for themselves. */
export const SELF_INTRODUCTION = /(?:\bI['’]m|\bI am|\bmy name is|\bthis is)\s+$/i;

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
