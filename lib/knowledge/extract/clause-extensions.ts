/**
 * Claims that reach past the pair a pattern matched: to names coordinated with it ("founded by A, B
 * and C"), to a clause with its verb left out ("A lives in M, B in F"), and to the date or place
 * that continues the same event ("born in Zanzibar on 5 September 1946").
 */
import type { EntityType } from '../types';
import { CLAUSE_VERB_AFTER, COORDINATION, EVENT_DATE, EVENT_PLACE, REGION_LINK, type RelationRule } from './rules';
import { fits, regionTypedAsPerson, retype, trimCue, type Slot } from './slots';

/** A singular verb after a name: the name alone is its subject ("A and B is …" is no list). */
const SINGULAR_VERB_NEXT = /^\s+(?:is|was|has)\b/;

/** A word that takes the next name as its object ("capital of", "born in", "bought"). */
const OBJECT_OF_BEFORE = /\b(?:of|in|at|to|for|from|by|on|with|is|was|are|were|bought|acquired|founded|makes)\s+(?:the\s+)?$/;

export type Emit = (rule: RelationRule, subject: Slot, object: Slot, cueText: string, near?: boolean) => void;

/**
 * "founded by A, B and C", "A and B both work for X": a claim about one name holds for each name
 * coordinated with it. A comma alone links names only in a list that ends with "and" (otherwise
 * "Milan, Ohio" would make Ohio a birthplace).
 */
export function extendByCoordination(emitted: ReadonlyArray<{ rule: RelationRule; subject: Slot; object: Slot }>, slots: Slot[], lower: string, emit: Emit): void {
  for (const { rule, subject, object } of [...emitted]) {
    const later = subject.start > object.start ? subject : object;
    const earlier = later === subject ? object : subject;
    const role = (s: Slot) => (later === subject ? { subject: s, object } : { subject, object: s });
    const roleE = (s: Slot) => (earlier === subject ? { subject: s, object } : { subject, object: s });
    const typesL = later === subject ? rule.subject : rule.object;
    const typesE = earlier === subject ? rule.subject : rule.object;
    const chain = (from: Slot, dir: 1 | -1, types: EntityType[]) => {
      const out: Slot[] = [];
      let links: string[] = [];
      let i = slots.indexOf(from);
      for (;;) {
        const k = i + dir;
        const next = slots[k];
        // "makes Old Quarry Stout and Hazel Lane Pale": a product's coordinated name the tagger read as a place is a product too.
        if (next && from.type === 'product' && types.includes('product') && (next.type === 'person' || next.type === 'place') && !next.coreference && dir === 1 && COORDINATION.test(lower.slice(slots[i]!.end, next.start).trim()) && !CLAUSE_VERB_AFTER.test(lower.slice(next.end))) retype(next, types);
        if (!next || !fits(next, types) || next.type === 'date' || (from.type && next.type && next.type !== from.type)) break;
        // "Harvard, and he is …": a pronoun starts a clause of its own, it is not one more name of a list.
        if (next.coreference || slots[i]!.coreference) break;
        // "the capital of Portugal and Budapest is …": a name right after a preposition or verb is that word's object, not a list member.
        if (dir === -1 && OBJECT_OF_BEFORE.test(lower.slice(Math.max(0, next.start - 30), next.start))) break;
        // "…, not Yangon, and Yamoussoukro is …": a name the text denies is no member of the list.
        if (/\bnot\s+$/.test(lower.slice(Math.max(0, next.start - 8), next.start))) break;
        // "Yangon, and Yamoussoukro is the capital": a singular verb after the last name takes that name alone as its subject.
        if (dir === -1 && from === subject && SINGULAR_VERB_NEXT.test(lower.slice(from.end))) break;
        const link = (dir === 1 ? lower.slice(slots[i]!.end, next.start) : lower.slice(next.end, slots[i]!.start)).trim();
        if (!COORDINATION.test(link)) break;
        // "B is …" after the link is a new clause with its own verb, not one more name of the list.
        if (dir === 1 && CLAUSE_VERB_AFTER.test(lower.slice(next.end))) break;
        links.push(link);
        out.push(next);
        i = k;
      }
      // Keep a comma-linked name only when an "and" closes the list.
      const lastAnd = links.map((l) => /\band\b|&/.test(l)).lastIndexOf(true);
      links = links.slice(0, lastAnd + 1);
      return out.slice(0, lastAnd + 1);
    };
    for (const s of chain(later, 1, typesL)) {
      const r = role(s);
      emit(rule, r.subject, r.object, '', true);
    }
    for (const s of chain(earlier, -1, typesE)) {
      const r = roleE(s);
      emit(rule, r.subject, r.object, '', true);
    }
  }
}

/**
 * "Constance lives in Margate, Perpetua in Faversham": a clause with its verb left out repeats the
 * claim before it for a new pair, its subject and "in" with the object, and nothing more after them.
 */
export function extendByGapping(emitted: ReadonlyArray<{ rule: RelationRule; subject: Slot; object: Slot }>, slots: Slot[], lower: string, emit: Emit): void {
  for (const { rule, subject, object } of [...emitted]) {
    if (rule.order !== 'forward' || subject.start > object.start || !/\bin(?: the)?$/.test(trimCue(lower.slice(subject.end, object.start)))) continue;
    const k = slots.indexOf(object);
    const c = slots[k + 1];
    const d = slots[k + 2];
    if (!c || !d || c.coreference || d.coreference || !fits(c, rule.subject) || !fits(d, rule.object) || (c.type ?? c.inferred) !== (subject.type ?? subject.inferred)) continue;
    if (!/^,\s*$/.test(lower.slice(object.end, c.start)) || !/^\s+in\s+$/.test(lower.slice(c.end, d.start)) || !/^\s*(?:[.;!]|$)/.test(lower.slice(d.end, d.end + 2))) continue;
    emit(rule, c, d, '', true);
  }
}

const EVENT: Record<string, { date?: string; place?: string; owner: 'subject' | 'object' }> = {
  born_in: { date: 'born_on', owner: 'subject' },
  born_on: { place: 'born_in', owner: 'subject' },
  died_in: { date: 'died_on', owner: 'subject' },
  died_on: { place: 'died_in', owner: 'subject' },
  founded: { date: 'founded_on', owner: 'object' },
};

/**
 * "born in Zanzibar on 5 September 1946", "born on 9 December 1906 in New York City", "founded by
 * William Boeing in Seattle in 1916": a date or place that follows an event's last name, joined by
 * "in"/"on" (through a region or coordinated names), belongs to the same event.
 */
export function continueEvents(emitted: ReadonlyArray<{ rule: RelationRule; subject: Slot; object: Slot }>, slots: Slot[], lower: string, emit: Emit): void {
  for (const { rule, subject, object } of [...emitted]) {
    const ev = EVENT[rule.predicate];
    if (!ev) continue;
    const owner = ev.owner === 'subject' ? subject : object;
    let i = slots.indexOf(subject.start > object.start ? subject : object);
    for (;;) {
      const next = slots[i + 1];
      if (!next) break;
      const link = lower.slice(slots[i]!.end, next.start);
      const t = next.type ?? next.inferred;
      if (t === 'date' && EVENT_DATE.test(link)) {
        if (ev.date) emit({ ...rule, predicate: ev.date, subject: [owner.type ?? 'person'], object: ['date'], base: 0.9 }, owner, next, '', true);
        break;
      }
      if ((fits(next, ['place']) || regionTypedAsPerson(slots[i]!, next, lower)) && (EVENT_DATE.test(link) || EVENT_PLACE.test(link) || REGION_LINK.test(link))) {
        if (ev.place && (EVENT_DATE.test(link) || EVENT_PLACE.test(link))) emit({ ...rule, predicate: ev.place, subject: ['person'], object: ['place'], base: 0.9 }, owner, next, '', true);
        i++;
        continue;
      }
      if (COORDINATION.test(link.trim()) && next.type === slots[i]!.type) {
        i++;
        continue;
      }
      break;
    }
  }
}
