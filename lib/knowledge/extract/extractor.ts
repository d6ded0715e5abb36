/**
 * The extractor: mentions per sentence (compromise), relationship patterns between them, and a
 * confidence for each candidate with the cues that set it. Pronouns opening a sentence ("She was
 * born in…") refer to the conversation's last entity of a fitting type.
 */
import { candidateId } from '../ids';
import type { CandidateFact, EntityType, Mention } from '../types';
import { leadingPronoun, sentencesOf, type RawMention, type Sentence } from './mentions';
import { HEDGE, LIFESPAN, NEGATION, PAST, RELATIVE, RULES, type RelationRule } from './rules';
import type { Turn } from './transcript';

/** Recorded with every fact's provenance: bump the pattern version when a rule changes. */
export const EXTRACTOR_VERSION = 'flywheel-patterns/1+compromise/14.17.0';

const FACTOR = { untyped: 0.85, coreference: 0.85, hedged: 0.6, negated: 0.15, question: 0.3, past: 0.3, 'partial-name': 0.75 };

interface Slot extends RawMention {
  /** The type a pattern gave an untyped name earlier in the sentence. */
  inferred?: EntityType;
  /** The surface text the claim is about (the antecedent's, for a pronoun). */
  name: string;
  coreference?: boolean;
}

export function extractCandidates(turns: ReadonlyArray<Turn>, batchDigest: string): CandidateFact[] {
  const byConversation = new Map<string, Turn[]>();
  for (const t of turns) byConversation.set(t.conversation, [...(byConversation.get(t.conversation) ?? []), t]);
  const out: CandidateFact[] = [];
  for (const convTurns of byConversation.values()) {
    const last = new Map<EntityType, Slot>();
    for (const turn of [...convTurns].sort((a, b) => a.turn - b.turn)) {
      for (const sentence of sentencesOf(turn.text)) {
        const slots: Slot[] = sentence.mentions.map((m) => ({ ...m, name: m.text }));
        const pronoun = leadingPronoun(sentence);
        const antecedent = pronoun && last.get(pronoun.type);
        if (pronoun && antecedent && !slots.some((s) => s.start < pronoun.end && pronoun.start < s.end)) {
          slots.unshift({ ...pronoun, type: antecedent.type, name: antecedent.name, value: antecedent.value, coreference: true });
        }
        out.push(...fromSentence(turn, sentence, slots, batchDigest));
        for (const s of slots) if (s.type && s.type !== 'date') last.set(s.type, s);
      }
    }
  }
  return out;
}

function fromSentence(turn: Turn, sentence: Sentence, slots: Slot[], batchDigest: string): CandidateFact[] {
  const found = new Map<string, CandidateFact>();
  const lower = turn.text.toLowerCase();
  const sentenceLower = sentence.text.toLowerCase();
  const sentenceCues = [...(HEDGE.test(sentenceLower) ? ['hedged'] : []), ...(sentence.text.trim().endsWith('?') ? ['question'] : [])];
  const emit = (rule: RelationRule, subject: Slot, object: Slot, cueText: string, near = false) => {
    const cues = [...sentenceCues];
    if (PAST.test(cueText)) cues.push('past');
    if (NEGATION.test(cueText) || NEGATION.test(lower.slice(Math.min(subject.end, object.end), Math.max(subject.start, object.start)))) cues.push('negated');
    if (!subject.type || !object.type) cues.push('typed-by-pattern');
    if (subject.coreference || object.coreference) cues.push('coreference');
    // "Albert" or "Meyer" alone: the tagger may have cut a longer name, and many people share one.
    if ([subject, object].some((m) => (m.type ?? m.inferred) === 'person' && !m.coreference && !/\s/.test(m.name))) cues.push('partial-name');
    const words = lower.slice(Math.min(subject.end, object.end), Math.max(subject.start, object.start)).split(/\s+/).filter(Boolean).length;
    const distance = near || words <= 6 ? 1 : words <= 12 ? 0.93 : words <= 20 ? 0.85 : 0.75;
    let confidence = rule.base * distance;
    if (!subject.type) confidence *= FACTOR.untyped;
    if (!object.type) confidence *= FACTOR.untyped;
    for (const c of cues) if (c in FACTOR && c !== 'untyped') confidence *= FACTOR[c as keyof typeof FACTOR];
    const s = asMention(subject, rule.subject[0]!);
    const o = asMention(object, rule.object[0]!);
    if (!subject.type) subject.inferred ??= s.type;
    if (!object.type) object.inferred ??= o.type;
    const id = candidateId(batchDigest, turn.conversation, turn.turn, sentence.start, sentence.end, rule.predicate, s.text, o.text);
    const prev = found.get(id);
    if (prev && prev.confidence >= confidence) return;
    found.set(id, {
      candidateId: id,
      subject: s,
      predicate: rule.predicate,
      object: o,
      confidence: Math.round(confidence * 1000) / 1000,
      span: { conversation: turn.conversation, source: turn.source, turn: turn.turn, speaker: turn.speaker, start: sentence.start, end: sentence.end, text: sentence.text },
      extractor: EXTRACTOR_VERSION,
      cues: [...new Set(cues)],
    });
  };

  for (let j = 0; j < slots.length; j++) {
    const b = slots[j]!;
    const prev = slots[j - 1];
    const cueText = trimCue(lower.slice(prev ? prev.end : sentence.start, b.start));
    for (const rule of RULES) {
      if (rule.order === 'forward') {
        if (!fits(b, rule.object) || !rule.between.test(cueText)) continue;
        // A relative clause, a semicolon or a bracket between the mentions: the claim is about the sentence's head.
        const raw = turn.text.slice(prev ? prev.end : sentence.start, b.start);
        const clause = RELATIVE.test(cueText) || raw.includes(';') || raw.includes('(');
        const subject = pickSubject(slots.slice(0, j), rule, clause);
        if (subject) emit(rule, subject, b, cueText);
      } else if (prev) {
        if (!fits(b, rule.subject) || !fits(prev, rule.object) || !rule.between.test(cueText)) continue;
        if (rule.before && !rule.before.test(trimCue(lower.slice(sentence.start, prev.start)))) continue;
        if (!rule.before && /\bcapital(?: city)? of(?: the)?$/.test(trimCue(lower.slice(sentence.start, prev.start))) && rule.predicate === 'capital_of') continue;
        emit(rule, b, prev, cueText);
      }
    }
  }
  for (const m of sentence.text.matchAll(LIFESPAN)) {
    const person = slots.find((s) => fits(s, ['person']) && s.start < sentence.start + m.index!);
    if (!person) continue;
    const at = sentence.start + m.index!;
    const years = slots.filter((s) => s.type === 'date' && s.start > at && s.end <= at + m[0].length);
    const rules: RelationRule[] = [
      { predicate: 'born_on', subject: ['person'], object: ['date'], order: 'forward', between: /$/, base: 0.88 },
      { predicate: 'died_on', subject: ['person'], object: ['date'], order: 'forward', between: /$/, base: 0.88 },
    ];
    // The lifespan is a fixed notation closing the description: its distance from the name says nothing.
    years.slice(0, 2).forEach((y, i) => emit(rules[i]!, person, y, '', true));
  }
  return [...found.values()];
}

/** An untyped name can fill any slot but a date's; a typed one only its own. */
function fits(m: Slot, types: EntityType[]): boolean {
  const t = m.type ?? m.inferred;
  return t === undefined ? !types.includes('date') : types.includes(t);
}

/**
 * Nearest earlier mention that can fill the subject slot, a typed one before an untyped one (the
 * tagger's evidence beats the pattern's guess); across a relative clause, the sentence's head.
 */
function pickSubject(before: Slot[], rule: RelationRule, relative: boolean): Slot | undefined {
  const typed = (s: Slot) => s.type !== undefined && rule.subject.includes(s.type);
  if (relative && before[0] && fits(before[0], rule.subject)) return before[0];
  for (let i = before.length - 1; i >= 0; i--) if (typed(before[i]!)) return before[i];
  for (let i = before.length - 1; i >= 0; i--) if (fits(before[i]!, rule.subject)) return before[i];
  // No mention of a fitting type: keep the nearest, and let the ontology stage say why it is wrong.
  return before[before.length - 1];
}

function asMention(s: Slot, slotType: EntityType): Mention {
  const type = s.type ?? s.inferred ?? slotType;
  return { text: type === 'date' ? (s.value ?? s.name) : s.name, type, start: s.start, end: s.end };
}

function trimCue(text: string): string {
  return text.replace(/[()[\]"“”;:]+/g, ' ').replace(/\s+/g, ' ').trim().replace(/^[.,]\s*/, '').replace(/\s*,$/, '');
}
