/**
 * A name in a sentence as the patterns see it (a mention, with what earlier patterns made of it),
 * and the rules for which slot of a relation it can fill: types, retyping by a cue, the subject a
 * cue reaches back to.
 */
import type { EntityType, Mention } from '../types';
import type { RawMention } from './mentions';
import { REGION_LINK, type RelationRule } from './rules';

export interface Slot extends RawMention {
  /** The type a pattern gave an untyped name earlier in the sentence. */
  inferred?: EntityType;
  /** The surface text the claim is about (the antecedent's, for a pronoun). */
  name: string;
  coreference?: boolean;
  /** A cue already gave this name a type other than the tagger's: one correction per name. */
  retyped?: boolean;
  /** The type the cue next to an untyped name gives it ("work for Wedgwood": an organisation), for antecedent search. */
  cueTyped?: EntityType;
  /** "Darwin" after "Charles Darwin" in the same conversation: the one earlier full name it can stand for. */
  fullName?: string;
  /** "the CEO" said without its organisation: stands for the organisation in focus, only for a role pattern. */
  role?: boolean;
  /** A pronoun whose antecedent came from a sentence naming several organisations: any of them could be meant. */
  ambiguous?: boolean;
}

/** A verb of making at the end of a cue: the next name is what is made. */
const MAKE_CUE = /\b(?:makes|make|made|produces|produce|manufactures|manufacture|sells|sell)(?: the| an?)?$/;

/** A finite verb right after a name: the name is the verb's subject. */
const FINITE_VERB_NEXT = /^\s+(?:is|was|are|were|has|have|had|became|remains)\b/;

/** A preposition right before a name: the name is its object. */
export const GOVERNED_BEFORE = /\b(?:in|at|from|to|of|near|into|for|with|by)\s+(?:the\s+)?$/;

/** "Torquay, Devon, on …": a one-word name the tagger took for a person, after a place and a comma, is its region. */
export function regionTypedAsPerson(a: Slot, b: Slot, text: string): boolean {
  if ((a.type ?? a.inferred) !== 'place' || b.type !== 'person' || b.coreference || /\s/.test(b.name) || !REGION_LINK.test(text.slice(a.end, b.start))) return false;
  b.type = 'place';
  b.fullName = undefined;
  return true;
}

/**
 * "Harrow Mutual was acquired by …", "He founded Ferrari": the tagger read an organisation's name as
 * a place or a person (a place or a surname inside it). Right next to a cue that only an organisation
 * can fill, the pattern's reading wins; people and places are never retyped into each other.
 */
export function fitsOrRetype(m: Slot, types: EntityType[], cue = ''): boolean {
  if (fits(m, types) || m.coreference || m.retyped) return fits(m, types);
  if (types.includes('organisation')) return m.type === 'person' || m.type === 'place';
  // "Gibson makes the Les Paul", "makes Old Quarry Stout": right after a verb of making, a name the tagger read as a person or place is the product.
  if (types.includes('product')) return (m.type === 'person' || m.type === 'place') && MAKE_CUE.test(cue);
  // "headquartered in Santa Clara": after "in", a name the tagger took for a person is the place; "born in Adams
  // Center": where a person was born, died or lives, a name the tagger took for an organisation is a place.
  return types.includes('place') && ((m.type === 'person' && /\bin(?: the)?$/.test(cue)) || (m.type === 'organisation' && /\b(?:born|died|lives|lived|living|grew up) in(?: the)?$/.test(cue)));
}

export function retype(m: Slot, types: EntityType[]): void {
  if (fits(m, types) || m.retyped) return;
  m.retyped = true;
  m.type = types.includes('organisation') ? 'organisation' : types.includes('product') ? 'product' : 'place';
  m.fullName = undefined;
}

/** An untyped name can fill any slot but a date's; a typed one only its own. */
export function fits(m: Slot, types: EntityType[]): boolean {
  const t = m.type ?? m.inferred;
  return t === undefined ? !types.includes('date') : types.includes(t);
}

/**
 * Nearest earlier mention that can fill the subject slot, a typed one before an untyped one (the
 * tagger's evidence beats the pattern's guess); across a relative clause, the sentence's head.
 */
export function pickSubject(before: Slot[], rule: RelationRule, relative: boolean, closeCue = false, lower = ''): Slot | undefined {
  const typed = (s: Slot) => s.type !== undefined && rule.subject.includes(s.type);
  if (relative && before[0] && fits(before[0], rule.subject)) return before[0];
  // "Mirelle was spun out of the University of Edinburgh and is headquartered in …", "grew up in Rotorua
  // but was born in …": a name governed by a preposition is that word's object, not the verb's subject.
  // "…, not Yangon, and Yamoussoukro is the capital of …": a name right before the cue's own verb is its
  // subject, even one the tagger did not know, ahead of a typed name further back.
  const adjacentSubject = before[before.length - 1];
  // "Fender makes the Stratocaster and Gibson makes the Les Paul": a name right before the cue's verb is
  // its subject; when it cannot be (and no cue retypes it), the claim reaches no name further back.
  if (adjacentSubject && closeCue && !adjacentSubject.coreference && !GOVERNED_BEFORE.test(lower.slice(Math.max(0, adjacentSubject.start - 16), adjacentSubject.start)) && /^\s+(?:\w+\s+)?(?:makes|make|made|produces|manufactures|sells|founded|co-founded|acquired|bought|works|worked)\b/.test(lower.slice(adjacentSubject.end))) {
    if (fits(adjacentSubject, rule.subject)) return adjacentSubject;
    if (!fitsOrRetype(adjacentSubject, rule.subject)) return undefined;
    retype(adjacentSubject, rule.subject);
    return adjacentSubject;
  }
  if (adjacentSubject && !adjacentSubject.type && !adjacentSubject.coreference && fits(adjacentSubject, rule.subject) && FINITE_VERB_NEXT.test(lower.slice(adjacentSubject.end)) && !GOVERNED_BEFORE.test(lower.slice(Math.max(0, adjacentSubject.start - 16), adjacentSubject.start))) return adjacentSubject;
  const free = before.filter((s) => s.coreference || !GOVERNED_BEFORE.test(lower.slice(Math.max(0, s.start - 16), s.start)));
  const pool = free.some((s) => fits(s, rule.subject)) ? free : before;
  for (let i = pool.length - 1; i >= 0; i--) if (typed(pool[i]!)) return pool[i];
  for (let i = pool.length - 1; i >= 0; i--) if (fits(pool[i]!, rule.subject)) return pool[i];
  // Right before the cue, a name the tagger typed otherwise ("Lumivale Optics was founded …", read as a place): the pattern's type.
  const adjacent = before[before.length - 1];
  if (adjacent && closeCue && fitsOrRetype(adjacent, rule.subject)) {
    retype(adjacent, rule.subject);
    return adjacent;
  }
  // No mention of a fitting type: keep the nearest, and let the ontology stage say why it is wrong.
  return before[before.length - 1];
}

export function asMention(s: Slot, slotType: EntityType): Mention {
  const type = s.type ?? s.inferred ?? slotType;
  return { text: type === 'date' ? (s.value ?? s.name) : type === 'person' ? (s.fullName ?? s.name) : s.name, type, start: s.start, end: s.end };
}

export function trimCue(text: string): string {
  return text.replace(/[()[\]"“”;:]+/g, ' ').replace(/\s+/g, ' ').trim().replace(/^[.,]\s*/, '').replace(/\s*,$/, '');
}
