/**
 * The extractor: mentions per sentence (compromise), relationship patterns between them, and a
 * confidence for each candidate with the cues that set it. Pronouns opening a sentence ("She was
 * born in…") refer to the conversation's last entity of a fitting type. Which name fills which slot
 * is slots.ts; claims that reach past the matched pair (coordination, gapping, an event's date and
 * place) are clause-extensions.ts.
 */
import { candidateId } from '../ids';
import type { CandidateFact, EntityType, Mention } from '../types';
import { ANSWER_LEAD, ANSWER_TAIL, CONFIRMATION, openQuestion, type OpenQuestion } from './answers';
import { pronounsOf, SELF_INTRODUCTION, sentencesOf, type RawMention, type Sentence } from './mentions';
import { CHILDHOOD_AFTER, ENDED_AFTER, COORDINATION, QUIZ, HEDGE, LIFESPAN, NEGATION, PAST, REGION_LINK, RELATIVE, REPORTED, RULES, SAME_SURNAME_RELATIVE, SUPERSEDED_AFTER, SUPERSEDED_BEFORE, type RelationRule } from './rules';
import type { Turn } from './transcript';
import { continueEvents, extendByCoordination, extendByGapping } from './clause-extensions';
import { asMention, fits, fitsOrRetype, GOVERNED_BEFORE, pickSubject, regionTypedAsPerson, retype, trimCue, type Slot } from './slots';

/** Recorded with every fact's provenance: bump the pattern version when a rule changes. */
export const EXTRACTOR_VERSION = 'flywheel-patterns/7+compromise/14.17.0';

/**
 * How much each cue multiplies a pattern's confidence. A name the tagger does not know costs little
 * when the pattern types it (multi-word names nothing: "Solvane Energy" after "headquartered" is an
 * organisation); hearsay, hedges, negation and superseded claims sink below the acceptance level,
 * so the default policy never accepts them alone.
 */
const FACTOR = { untyped: 0.95, 'untyped-multiword': 1, coreference: 0.95, hedged: 0.6, reported: 0.5, negated: 0.15, question: 0.3, past: 0.3, superseded: 0.2, 'partial-name': 0.75, ambiguous: 0.85 };


/** "Google bought it, SoftBank acquired it": a name followed by a verb taking "it" is that verb's subject, never what "it" stands for. */
const SUBJECT_OF_IT = /^\s+(?:[a-z]+\s+)?(?:founded|co-founded|started|bought|acquired|sold|runs|ran|leads|led|joined|owns|owned|makes|made|built)\s+(?:it|us|them)\b/i;

/** A question that is only a name: "and the Internet Archive?", "what about Fenwick?". */
const FOLLOW_UP = /^\s*(?:(?:and|so|ok|okay)[,\s]+)?(?:(?:what|how) about\s+)?(?:the\s+)?([^?.!,;]+?)\s*\?\s*$/iu;

/** A tag question with a personal pronoun: "…, didn't she?", "…, wasn't he?". */
const TAG_QUESTION_PERSON = /,\s*(?:didn['’]t|doesn['’]t|isn['’]t|wasn['’]t|hasn['’]t|hadn['’]t|won['’]t|did|does|is|was|has)\s+(?:he|she)\s*\?\s*$/i;

/** A name in capitals, three to five letters: an acronym ("AXA", "NASA"); two-letter ones are as often places ("UK", "DC"). */
const ACRONYM = /^\p{Lu}{3,5}$/u;

/** "is the CEO", "has been chief executive since …", "stays on as CEO": a role with no "of X" after it (group 1: the role's words). */
const ROLE_ALONE = /\b(?:is|was|has been|became|remains|stays on as|is now|chairman and|chair and|president and)\s+(?:(?:still|now|currently|also)\s+)?(?:the\s+)?(?:current\s+|new\s+)?(ceo|chief executive(?: officer)?)\b(?!\s+(?:of|at|for|in)\b)(?!['’]s)/gi;

/** A clause opened by a semicolon or a conjunction, whose subject is a noun phrase of its own ("; the capital of …", "but the firm is …"). */
const NEW_SUBJECT_CLAUSE = /(?:;|\b(?:but|although|though|whereas|while|whilst|because))\s*(?:the|a|an|this|that|these|those|its|his|her|their|our|my|your|some|one)\b/;

const REGION_RULE: RelationRule = { predicate: 'located_in', subject: ['place'], object: ['place'], order: 'forward', between: /$/, base: 0.9 };

export function extractCandidates(turns: ReadonlyArray<Turn>, batchDigest: string): CandidateFact[] {
  const byConversation = new Map<string, Turn[]>();
  for (const t of turns) byConversation.set(t.conversation, [...(byConversation.get(t.conversation) ?? []), t]);
  const out: CandidateFact[] = [];
  for (const convTurns of byConversation.values()) {
    const last = new Map<EntityType, Slot>();
    /** The name each speaker gave for themselves ("I'm Dario Ferri"): what their "I" refers to. */
    const selves = new Map<string, Slot>();
    /** Full names of people (two words or more) said so far in the conversation. */
    const people: string[] = [];
    /** One-word names the tagger read as places so far in the conversation. */
    const placesSaid = new Set<string>();
    /** The first organisation each speaker named, and the conversation's first: what a speaker's "our" means. */
    const ownOrganisation = new Map<string, Slot>();
    let firstOrganisation: Slot | undefined;
    let firstSpeaker: string | undefined;
    /** How many organisations the last turn naming one named: with two or more, a later "it" or "the company" could mean any. */
    let organisationsInFocus = 0;
    /** The previous turn's wh-question and yes/no claims, for an answer in the next speaker's turn. */
    let asked: { speaker?: string; question?: OpenQuestion; claims: CandidateFact[] } = { claims: [] };
    for (const turn of [...convTurns].sort((a, b) => a.turn - b.turn)) {
      const answering = asked.speaker !== turn.speaker;
      const askedNow: typeof asked = { speaker: turn.speaker, claims: [] };
      // The organisations this turn names (names sharing their first word, "Tidewell Books" and "Tidewell Publishing", count as one; a pronoun as what it stands for).
      const turnOrganisations = new Set<string>();
      for (const [index, sentence] of sentencesOf(turn.text).entries()) {
        const slots: Slot[] = sentence.mentions.map((m) => ({ ...m, name: m.text }));
        for (const s of slots) {
          if ((s.type && s.type !== 'person') || /\s/.test(s.text)) continue;
          // One earlier full name with this word as its first or last name: the same person ("Darwin", "Yusuf").
          const full = [...new Set(people.filter((p) => { const w = p.split(/\s+/); return w[0] === s.text || w[w.length - 1] === s.text; }))];
          if (full.length === 1) s.fullName = full[0];
          // "Eero left; he …" after "Eero Lahtinen": an untyped first name is that person (a surname alone may name their company: "Deere").
          if (full.length === 1 && !s.type && full[0]!.split(/\s+/)[0] === s.text) s.type = 'person';
        }
        // "posted to Santiago … Santiago, the capital of Chile": a one-word name the conversation already used as a
        // place stays a place when the tagger later reads it as a person (unless a full name it can stand for is known).
        for (const s of slots) if (s.type === 'person' && !s.fullName && !/\s/.test(s.text) && placesSaid.has(s.text)) s.type = 'place';
        shareSurnames(slots, turn.text);
        // "Zaha Hadid had her own firm, didn't she?": a tag question's "he"/"she" names its subject a person.
        if (TAG_QUESTION_PERSON.test(sentence.text) && slots[0] && !slots[0].type && !slots[0].coreference) slots[0].type = 'person';
        for (const s of slots) {
          if (s.type === 'person' && SELF_INTRODUCTION.test(turn.text.slice(0, s.start)) && /\s/.test(s.text)) selves.set(turn.speaker ?? '', s);
        }
        // A first pass types the names the patterns give a type to ("Marrowby Foods" as the one who
        // works for …), so a pronoun after them can find them; then the pronouns, then the claims.
        let found = fromSentence(turn, sentence, slots, batchDigest);
        // Only the antecedent search uses the first pass's guesses; the claims are made afresh.
        // "AXA is French; it's …": a name in capitals the tagger did not know is an organisation's acronym, for "it" to find.
        const guessed = new Map(slots.map((s) => [s, s.type ?? s.cueTyped ?? (ACRONYM.test(s.text) ? ('organisation' as const) : undefined)]));
        let added = false;
        for (const p of pronounsOf(sentence)) {
          if (slots.some((s) => s.start < p.end && p.start < s.end)) continue;
          const objectIt = /^(?:it|us)$/i.test(p.text);
          const before = slots.filter((s) => s.end <= p.start && guessed.get(s) === p.type && !s.coreference && !(objectIt && SUBJECT_OF_IT.test(turn.text.slice(s.end, p.end))));
          // "Marrowby Foods, the company that makes …": an apposition names its antecedent right before it.
          const apposed = slots.find((s) => s.end <= p.start && /^,\s*$/.test(turn.text.slice(s.end, p.start)) && !s.coreference && (guessed.get(s) ?? 'organisation') === 'organisation');
          // "our site in Boston", "Our CEO is …" from an agent: the organisation the speaker first named, or the conversation's
          // first (the one the customer called about), not the acquirer or rival named last.
          // "Drummond bought us": never the buyer named before it.
          // "We make …", "We've been based in …": the speaker's own organisation, as their "our".
          // "when Felsbach bought us, but we kept our atelier": "our" is the speaker's own organisation even after another one in the sentence.
          const spoken = ownOrganisation.get(turn.speaker ?? '');
          const own = (/^(?:our|we)$/i.test(p.text) && (!before.length || spoken)) || /^us$/i.test(p.text) ? (spoken ?? firstOrganisation) : undefined;
          // "Is the arm one of yours?" / "Fanuc makes the arm … our depot": the first organisation this speaker named is not
          // theirs for sure when another speaker named a different one first (the one called about).
          const ownInDoubt = own !== undefined && spoken !== undefined && firstOrganisation !== undefined && spoken !== firstOrganisation && spoken.name.split(/\s+/)[0] !== firstOrganisation.name.split(/\s+/)[0] && firstSpeaker !== turn.speaker;
          // "we" stands only for the speaker's own organisation, never for whatever was named last.
          const antecedent = p.speaker ? selves.get(turn.speaker ?? '') : /^we$/i.test(p.text) ? own : ((/^the /i.test(p.text) && apposed ? apposed : undefined) ?? own ?? before[before.length - 1] ?? last.get(p.type));
          if (!antecedent) continue;
          const type = antecedent.type ?? guessed.get(antecedent) ?? antecedent.inferred ?? p.type;
          // "Google bought it, SoftBank acquired it, and Hyundai owns it. The company is based in …": the focus is no longer one organisation.
          const ambiguous = (p.type === 'organisation' && !p.speaker && antecedent === last.get('organisation') && !before.includes(antecedent) && antecedent !== own && organisationsInFocus >= 2) || (antecedent === own && ownInDoubt);
          slots.push({ ...p, type, name: (type === 'person' && antecedent.fullName) || antecedent.name, value: antecedent.value, coreference: true, ...(ambiguous ? { ambiguous } : {}) });
          slots.sort((a, b) => a.start - b.start);
          added = true;
        }
        // "Ingrid Solbakken has been chief executive since 2020", "Şahin is the CEO": a role named
        // without its organisation is the role at the organisation in focus — the last one named in the
        // sentence before it, or else in the conversation.
        for (const r of sentence.text.matchAll(ROLE_ALONE)) {
          const start = sentence.start + r.index! + r[0].length - r[1]!.length;
          const end = start + r[1]!.length;
          if (slots.some((s) => s.start < end && start < s.end)) continue;
          const org = [...slots].reverse().find((s) => s.end <= start && (s.type ?? guessed.get(s)) === 'organisation') ?? last.get('organisation');
          if (!org) continue;
          slots.push({ text: r[1]!, start, end, type: 'organisation', name: org.name, value: org.value, coreference: true, role: true });
          slots.sort((a, b) => a.start - b.start);
          added = true;
        }
        if (added) {
          for (const s of slots) s.inferred = undefined;
          found = fromSentence(turn, sentence, slots, batchDigest);
        }
        out.push(...found);
        if (index === 0 && answering) out.push(...answersIn(turn, sentence, slots, asked, batchDigest));
        const question = openQuestion(sentence.text);
        if (question) {
          askedNow.question = question;
          // "where was usain bolt born?": a name the tagger missed is still what "he" in the answer refers to.
          if (!slots.some((x) => (x.type ?? x.inferred) === question.knownType)) last.set(question.knownType, { text: question.known, name: question.known, type: question.knownType, start: sentence.start, end: sentence.start });
          // "Who runs Loomwright?": the one organisation asked about is the answer's focus, whatever the turn before named.
          if (question.knownType === 'organisation') {
            turnOrganisations.clear();
            turnOrganisations.add(question.known.split(/\s+/)[0]!.toLowerCase());
            organisationsInFocus = 1;
          }
        }
        // "and the Internet Archive?", "What about Fenwick?": a bare name asked after puts it in focus for the answer's "it".
        const followUp = slots.length === 1 && !slots[0]!.coreference && FOLLOW_UP.exec(sentence.text)?.[1] === slots[0]!.text ? slots[0]! : undefined;
        if (followUp) {
          const t = followUp.type ?? 'organisation';
          last.set(t, { ...followUp, type: t });
          if (t === 'organisation') {
            turnOrganisations.clear();
            organisationsInFocus = 1;
          }
        }
        if (sentence.text.trim().endsWith('?')) askedNow.claims.push(...found.filter((c) => c.cues?.includes('question')));
        for (const s of slots) if (!s.role && (s.type ?? s.inferred) === 'organisation') turnOrganisations.add(s.name.split(/\s+/)[0]!.toLowerCase());
        if (turnOrganisations.size) organisationsInFocus = turnOrganisations.size;
        for (const s of slots) {
          // A name typed by the pattern it filled ("Vireo Robotics makes …") is as good an antecedent as a tagged one.
          const t = s.type ?? s.inferred;
          if (t && t !== 'date' && !s.coreference) last.set(t, s);
          if (t === 'organisation' && !s.coreference) {
            if (!ownOrganisation.has(turn.speaker ?? '')) ownOrganisation.set(turn.speaker ?? '', s);
            if (!firstOrganisation) {
              firstOrganisation = s;
              firstSpeaker = turn.speaker;
            }
          }
          if (t === 'person' && !s.coreference && /\s/.test(s.name)) people.push(s.name);
          // "Perpetua" given the surname she shares: her full name is one a later "Perpetua" can stand for.
          if (t === 'person' && !s.coreference && s.fullName && !/\s/.test(s.name)) people.push(s.fullName);
          if (s.type === 'place' && !s.coreference && !/\s/.test(s.text)) placesSaid.add(s.text);
        }
        // "Tallinn; it's the capital of Estonia … lives there": the place a sentence describes, not the
        // country it is placed in, is the one in focus for a later "there".
        const described = found.find((c) => (c.predicate === 'capital_of' || c.predicate === 'located_in') && c.subject.type === 'place' && c.object.type === 'place');
        const describedSlot = described && slots.find((s) => s.start === described.subject.start && !s.coreference);
        if (describedSlot) last.set('place', describedSlot);
      }
      asked = askedNow;
    }
  }
  return out;
}

/** How much less a name answering another speaker's question is worth than a stated claim. */
const ANSWER_BASE = 0.88;
const ANSWER_EVENT_DATE: Record<string, string> = { born_in: 'born_on', died_in: 'died_on', founded: 'founded_on' };

/**
 * The first sentence of a turn answering the previous speaker: a bare name answering a wh-question
 * ("Ottawa.", "In Sherwood Content, a small town …", "Pasadena, California, on August 15, 1912."),
 * or a confirmation ("Yes, …", "She did.") of a yes/no question's claims.
 */
function answersIn(turn: Turn, sentence: Sentence, slots: Slot[], asked: { question?: OpenQuestion; claims: CandidateFact[] }, batchDigest: string): CandidateFact[] {
  const out: CandidateFact[] = [];
  const text = sentence.text.trimStart();
  const at = sentence.start + (sentence.text.length - text.length);
  const span = { conversation: turn.conversation, source: turn.source, turn: turn.turn, speaker: turn.speaker, start: sentence.start, end: sentence.end, text: sentence.text };
  const make = (predicate: string, subject: Mention, object: Mention, confidence: number, cues: string[]): CandidateFact => ({
    candidateId: candidateId(batchDigest, turn.conversation, turn.turn, sentence.start, sentence.end, predicate, subject.text, object.text),
    subject,
    predicate,
    object,
    confidence: Math.round(confidence * 1000) / 1000,
    span,
    extractor: EXTRACTOR_VERSION,
    cues,
  });
  // "We were, until 2017.", "Yes, but not any more": a confirmation that says the claim is over or denies part of it confirms nothing now.
  // "Yes, but in 1744, not 1742": a denial aimed at a name ("not X") rules out only the claims whose
  // answer is X ("Yes, though the capital is Wiesbaden, not Frankfurt" still confirms Frankfurt's region); one aimed at nothing ("isn't", "no longer") rules out them all.
  const lowerText = text.toLowerCase();
  const denied = [...lowerText.matchAll(/\bnot (?:in |on |at )?([\p{L}\d][\p{L}\d'’-]*)/gu)].map((m) => m[1]!);
  const deniesAll = NEGATION.test(lowerText.replace(/\bnot (?:in |on |at )?[\p{L}\d][\p{L}\d'’-]*/gu, ''));
  if (CONFIRMATION.test(text) && !SUPERSEDED_AFTER.test(lowerText) && !deniesAll) {
    const dates = slots.filter((x) => x.type === 'date' && x.value && !x.coreference);
    for (const c of asked.claims) {
      if (c.cues?.some((x) => x === 'negated' || x === 'reported' || x === 'hedged')) continue;
      // "…, but in 1744, not 1742": the claim whose answer is denied.
      if (denied.some((d) => c.object.text.toLowerCase().startsWith(d))) continue;
      const cues = [...c.cues!.filter((x) => x !== 'question'), 'confirmed'];
      // "founded in 2014, wasn't it?" / "Yes, on 14 October 2014.": the answer's fuller date is the one stated.
      const fuller = c.object.type === 'date' ? dates.find((d) => d.value!.startsWith(`${c.object.text}-`)) : undefined;
      const object = fuller ? { text: fuller.value!, type: 'date' as const, start: fuller.start, end: fuller.end } : c.object;
      out.push(make(c.predicate, c.subject, object, c.confidence / FACTOR.question, cues));
    }
  }
  const q = asked.question;
  if (!q) return out;
  const lead = ANSWER_LEAD.exec(text)![0];
  const first = slots.find((x) => x.start === at + lead.length && !x.coreference);
  if (!first) return out;
  // "Uğur Şahin and Özlem Türeci, who …", "A and his brother-in-law B, in London in 1905.": coordinated names all answer.
  const answers = [first];
  for (let k = slots.indexOf(first) + 1; k < slots.length; k++) {
    const next = slots[k]!;
    const prevAnswer = answers[answers.length - 1]!;
    if (next.coreference || !(next.type === undefined || next.type === first.type) || !COORDINATION.test(turn.text.slice(prevAnswer.end, next.start).trim().toLowerCase())) break;
    answers.push(next);
  }
  // Only a list closed by "and" is a list of answers ("Milan, Ohio" is a place and its region).
  if (answers.length > 1 && !/\band\b|&/.test(turn.text.slice(answers[answers.length - 2]!.end, answers[answers.length - 1]!.start))) answers.splice(1);
  const answer = answers[answers.length - 1]!;
  if (!ANSWER_TAIL.test(turn.text.slice(answer.end, sentence.end))) return out;
  const t = answer.type ?? answer.inferred;
  // "In Sherwood Content": after "in", a name the tagger took for a person is the place asked for.
  if (t !== undefined && t !== q.answerType && !(q.answerType === 'place' && t === 'person' && /\b(?:in|at)\s+$/i.test(lead))) return out;
  if (answer.name.toLowerCase() === q.known.toLowerCase()) return out;
  const known: Mention = { text: q.known, type: q.knownType, start: sentence.start, end: sentence.start };
  const cues = ['cross-turn', ...(HEDGE.test(sentence.text.toLowerCase()) ? ['hedged'] : [])];
  const confidence = ANSWER_BASE * (cues.includes('hedged') ? FACTOR.hedged : 1);
  let given: Mention | undefined;
  for (const a of answers) {
    if (answers.length > 1 && a !== first && (a.type ?? q.answerType) !== q.answerType) break;
    const name = q.answerType === 'person' ? (a.fullName ?? a.name) : a.name;
    given = { text: q.answerType === 'date' ? (a.value ?? a.name) : name, type: q.answerType, start: a.start, end: a.end };
    if (given.text.toLowerCase() === q.known.toLowerCase()) continue;
    out.push(q.knownRole === 'subject' ? make(q.predicate, known, given, confidence, cues) : make(q.predicate, given, known, confidence, cues));
  }
  if (!given) return out;
  // "Pasadena, California": the answer's region.
  const next = slots[slots.indexOf(answer) + 1];
  if (q.answerType === 'place' && next && (next.type ?? 'place') === 'place' && REGION_LINK.test(turn.text.slice(answer.end, next.start))) {
    out.push(make('located_in', given, { text: next.name, type: 'place', start: next.start, end: next.end }, ANSWER_BASE, ['cross-turn']));
  }
  // "Pasadena, California, on August 15, 1912.": the date after the place is the same event's.
  const datePredicate = ANSWER_EVENT_DATE[q.predicate];
  // "A and B, in London in 1905.": after founders, the place and date of the founding.
  const date = datePredicate && slots.find((x) => x.type === 'date' && x.start > answer.end && /^(?:,\s*(?:in\s+)?\p{Lu}[\p{L}\s-]*)*,?\s+(?:on|in)\s+$/u.test(turn.text.slice(answer.end, x.start)));
  if (datePredicate && date) out.push(make(datePredicate, known, { text: date.value ?? date.name, type: 'date', start: date.start, end: date.end }, confidence, cues));
  return out;
}

/**
 * "the twins Aino and Eero Lahtinen": a first name coordinated with a full name shares its surname;
 * "Samuel Prynne and his brother Elias": so does a sibling, parent or child named after it.
 */
function shareSurnames(slots: Slot[], text: string): void {
  const surname = (s: Slot) => s.name.split(/\s+/).pop()!;
  const personish = (s: Slot) => (s.type ?? 'person') === 'person' && !s.coreference;
  for (let k = 0; k + 1 < slots.length; k++) {
    const a = slots[k]!;
    const b = slots[k + 1]!;
    if (!personish(a) || !personish(b)) continue;
    const link = text.slice(a.end, b.start);
    // "Perpetua and Constance Ashdown-Flett": a first name the tagger left untyped, coordinated with a person's full name, is a person too.
    if (!/\s/.test(a.name) && /\s/.test(b.name) && (b.type === undefined || b.type === 'person') && /^\s+and\s+$/.test(link) && (a.type === 'person' || (a.type === undefined && b.type === 'person'))) {
      a.fullName = `${a.name} ${surname(b)}`;
      a.type = 'person';
    }
    if (/\s/.test(a.name) && a.type === 'person' && !/\s/.test(b.name) && SAME_SURNAME_RELATIVE.test(link)) {
      b.fullName = `${b.name} ${surname(a)}`;
      b.type ??= 'person';
    }
  }
}

function fromSentence(turn: Turn, sentence: Sentence, slots: Slot[], batchDigest: string): CandidateFact[] {
  const found = new Map<string, CandidateFact>();
  const emitted: Array<{ rule: RelationRule; subject: Slot; object: Slot }> = [];
  const lower = turn.text.toLowerCase();
  const sentenceLower = sentence.text.toLowerCase();
  const sentenceCues = [...(HEDGE.test(sentenceLower) ? ['hedged'] : []), ...(sentence.text.trim().endsWith('?') || QUIZ.test(sentenceLower) ? ['question'] : [])];
  const relStart = (x: number) => x - sentence.start;
  const emit = (rule: RelationRule, subject: Slot, object: Slot, cueText: string, near = false) => {
    const cues = [...sentenceCues];
    // The clause before the claim ("She used to work for X; she now lives in Y": not Y's clause).
    const clause = lower.slice(sentence.start, Math.min(subject.start, object.start)).split(/;|\bbut\b/).pop()!;
    if (PAST.test(cueText) || PAST.test(clause.slice(-40)) || CHILDHOOD_AFTER.test(lower.slice(Math.max(subject.end, object.end), sentence.end)) || ENDED_AFTER.test(lower.slice(Math.max(subject.end, object.end), sentence.end))) cues.push('past');
    // "my cousin insists X", "the pub quiz said X": someone else's claim, reported.
    if (REPORTED.test(sentenceLower.slice(0, relStart(Math.min(subject.start, object.start))))) cues.push('reported');
    // "lived in Osaka until 2020", "replaced Yangon as …", "succeeding X": true once, not now.
    const later = Math.max(subject.end, object.end);
    if (SUPERSEDED_AFTER.test(lower.slice(later, sentence.end)) || SUPERSEDED_BEFORE.test(lower.slice(sentence.start, Math.min(subject.start, object.start)))) cues.push('superseded');
    if (NEGATION.test(cueText) || NEGATION.test(lower.slice(Math.min(subject.end, object.end), Math.max(subject.start, object.start)))) cues.push('negated');
    if (!subject.type || !object.type) cues.push('typed-by-pattern');
    if (subject.coreference || object.coreference) cues.push('coreference');
    if (subject.ambiguous || object.ambiguous) cues.push('ambiguous');
    // "Albert" or "Meyer" alone: the tagger may have cut a longer name, and many people share one.
    if ([subject, object].some((m) => (m.type ?? m.inferred) === 'person' && !m.coreference && !m.fullName && !/\s/.test(m.name))) cues.push('partial-name');
    // Distance costs confidence when another name between the two could have been the subject; with
    // none ("X lived in A until 2019 but now lives in B"), only the cue's own length counts.
    const [first, second] = subject.start < object.start ? [subject, object] : [object, subject];
    const competitor = slots.some((m) => m.start >= first.end && m.end <= second.start && m !== first && m !== second && fits(m, rule.subject) && m.type !== 'date' && !GOVERNED_BEFORE.test(lower.slice(Math.max(0, m.start - 16), m.start)));
    let span = competitor || !cueText ? lower.slice(first.end, second.start) : cueText;
    // "Trond Aasen stepped down that year and now lives in …", "Mendeleev, who drew up the periodic table,
    // died in …": with no rival name between, a verb phrase after "and" or a closed clause shares the
    // subject, and only its own words count — unless a noun phrase of its own opens it ("and the manager …").
    const lastPart = span.split(/,|;|\band\b/).pop()!.trim();
    if (!competitor && lastPart && !/[;]/.test(span) && !/^(?:the|a|an|his|her|their|its|our|my|this|that|these|those|he|she|they|it|we|i|you)\b/.test(lastPart)) span = lastPart;
    const words = span.split(/\s+/).filter(Boolean).length;
    const distance = near || words <= 6 ? 1 : words <= 12 ? 0.93 : words <= 20 ? 0.85 : 0.75;
    let confidence = rule.base * distance;
    // A single capitalised word opening the sentence may be an ordinary word; anywhere else the
    // pattern's slot types it as well as the tagger would.
    for (const m of [subject, object]) if (!m.type && !m.coreference && !m.fullName) confidence *= /\s/.test(m.name) || m.start > sentence.start + 1 ? FACTOR['untyped-multiword'] : FACTOR.untyped;
    for (const c of cues) if (c in FACTOR && !c.startsWith('untyped')) confidence *= FACTOR[c as keyof typeof FACTOR];
    const s = asMention(subject, rule.subject[0]!);
    const o = asMention(object, rule.object[0]!);
    // "X acquired X": a pronoun resolved to the other slot's own name claims nothing; nor does "Tallyhawk
    // Timber Co-operative … founded Tallyhawk", a name and its own short form.
    if (s.text === o.text || (s.type === o.type && (o.text.startsWith(`${s.text} `) || s.text.startsWith(`${o.text} `)))) return;
    // "… the play R.U.R. - he was born in …": a personal pronoun between the two names that stands for nobody
    // known is the claim's own subject; a name before it that is not a known person is not ("… he moved to …"
    // after a person's name or pronoun is that person again).
    const [lo, hi] = subject.start < object.start ? [subject.end, object.start] : [object.end, subject.start];
    if (!subject.coreference && (subject.type ?? subject.inferred) !== 'person') {
      for (const m of lower.slice(lo, hi).matchAll(/\b(?:he|she)\b/g)) if (!slots.some((x) => x.coreference && x.start <= lo + m.index! && lo + m.index! < x.end)) return;
    }
    if (!subject.type) subject.inferred ??= s.type;
    if (!object.type) object.inferred ??= o.type;
    emitted.push({ rule, subject, object });
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
    // "died there": the place pronoun stands where "in <place>" would.
    const cueText = trimCue(lower.slice(prev ? prev.end : sentence.start, b.start)) + (/^there$/i.test(b.text) && b.coreference ? ' in' : '');
    const after = lower.slice(b.end, sentence.end);
    // An apposition closing right before this name ("X, the Aarhus-based maker of …, has been acquired by"): see the inverse rules.
    const apposition = /,\s*(?:the|an?)\s[^,;()]*,\s*([^,;()]*)$/.exec(lower.slice(sentence.start, b.start));
    const described = apposition && slots.slice(0, j).find((x) => x.end === sentence.start + apposition.index && !x.coreference);
    for (const rule of RULES) {
      if (rule.order === 'forward') {
        if (!!rule.role !== !!b.role) continue;
        // "Meridian Music Group, which bought …": after a relative pronoun the cue is the clause's verb, its subject the name before.
        const relativeCue = /^\s*,\s*(?:which|who)\s/i.test(turn.text.slice(prev ? prev.end : sentence.start, b.start)) ? cueText.replace(/^(?:which|who) /, '') : cueText;
        if (!fitsOrRetype(b, rule.object, cueText) || !(rule.between.test(cueText) || (rule.between.source.startsWith('^') && rule.between.test(relativeCue)))) continue;
        if (rule.after && !rule.after.test(after)) continue;
        // The cue types the name right after it, whoever the subject turns out to be ("used to work for Wedgwood").
        if (!b.type) b.cueTyped ??= rule.object[0];
        // A relative clause, a semicolon or a bracket between the mentions: the claim is about the sentence's head.
        const raw = turn.text.slice(prev ? prev.end : sentence.start, b.start);
        // "Lagos was the capital until 1991; the capital of Nigeria is …", "… sit in The Hague, but the
        // capital of …": after a semicolon or a clause's conjunction, a noun phrase of its own ("the
        // capital") is the new clause's subject, so no name before it is. A verb straight after ("; located
        // in …", "but was born in …") shares the earlier subject, and a pronoun is a mention of its own.
        if (!rule.before && NEW_SUBJECT_CLAUSE.test(raw.toLowerCase().replace(/\([^)]*\)/g, ''))) continue;
        const clause = RELATIVE.test(cueText) || raw.includes('(');
        // "… Andy Jassy, who is now Amazon's CEO": a claim inside a non-restrictive relative clause is about the name right before it.
        retype(b, rule.object);
        // "Fenwick Dairy, which makes soft cheeses, is based in Hexham": the claim after a closed relative clause is about the name it hangs on.
        const closed = /,\s*(?:which|who)\b[^,;]*,\s*[^,;]*$/.exec(lower.slice(sentence.start, b.start));
        const head = closed && slots.slice(0, j).find((s) => s.end <= sentence.start + closed.index && /^\s*$/.test(lower.slice(s.end, sentence.start + closed.index)));
        if (head && !fits(head, rule.subject) && fitsOrRetype(head, rule.subject)) retype(head, rule.subject);
        // "the headquarters of Norrvik Timber are in …": the subject is the name the words before it govern.
        if (rule.before && !(prev && fits(prev, rule.subject) && rule.before.test(trimCue(lower.slice(sentence.start, prev.start))))) continue;
        // A claim read through a relative pronoun is about the name the clause hangs on, or nobody.
        if (!rule.between.test(cueText) && !(prev && fits(prev, rule.subject))) continue;
        const subject = rule.before
          ? prev
          : prev && /^\s*,\s*(?:who|which)\b/i.test(raw) && fits(prev, rule.subject)
            ? prev
            : head && fits(head, rule.subject)
              ? head
              : pickSubject(slots.slice(0, j), rule, clause, !/[,;]/.test(raw) && cueText.split(' ').length <= 4, lower);
        // "Tarnbrook's mine is in …": a possessive before a noun only an organisation has types the possessor, for "the company" after it.
        if (subject && subject === prev && !subject.type && rule.subject.length === 1 && /^['’]s\s/.test(raw)) subject.cueTyped ??= rule.subject[0];
        if (!subject || (rule.nameBefore && (subject !== prev || (subject.type ?? subject.inferred) === undefined || !fits(subject, rule.subject) || subject.retyped || GOVERNED_BEFORE.test(lower.slice(Math.max(0, subject.start - 16), subject.start))))) continue;
        emit(rule, subject, b, cueText);
      } else if (prev) {
        // "was founded in 2011 by X": the date between the two names is the founding date's, not the object.
        const prev2 = slots[j - 2];
        if (prev.type === 'date' && prev2 && fits(b, rule.subject) && fits(prev2, rule.object)) {
          const skipped = trimCue(lower.slice(prev2.end, prev.start).replace(/\s*\b(?:in|on)\s*$/, '') + ' ' + lower.slice(prev.end, b.start));
          if (rule.between.test(skipped)) emit(rule, b, prev2, skipped);
        }
        // "Orvane Dental, the Aarhus-based maker of the ClearArc aligner, has been acquired by X": the claim skips the
        // apposition and is about the name it describes.
        if (described && described !== prev && rule.between.test(trimCue(apposition[1]!)) && fits(b, rule.subject) && fits(described, rule.object)) {
          if (!b.type) b.cueTyped ??= rule.subject[0];
          emit(rule, b, described, trimCue(apposition[1]!));
          continue;
        }
        if (!fitsOrRetype(b, rule.subject) || !fitsOrRetype(prev, rule.object) || !rule.between.test(cueText)) continue;
        if (rule.before && !rule.before.test(trimCue(lower.slice(sentence.start, prev.start)))) continue;
        if (!rule.before && /\bcapital(?: city)? of(?: the)?$/.test(trimCue(lower.slice(sentence.start, prev.start))) && rule.predicate === 'capital_of') continue;
        retype(b, rule.subject);
        retype(prev, rule.object);
        if (!b.type) b.cueTyped ??= rule.subject[0];
        if (!prev.type) prev.cueTyped ??= rule.object[0];
        emit(rule, b, prev, cueText);
      }
    }
  }
  extendByCoordination(emitted, slots, lower, emit);
  extendByGapping(emitted, slots, lower, emit);
  continueEvents(emitted, slots, lower, emit);
  for (let j = 1; j < slots.length; j++) {
    const a = slots[j - 1]!;
    const b = slots[j]!;
    // "Aarhus, Denmark", "Smiljan, in present-day Croatia": a place and its region.
    // "Constance lives in Margate, Perpetua in Faversham": a name with its own "in …" after it is a clause with its verb left out, not a region.
    if ((a.type ?? a.inferred) === 'place' && (fits(b, ['place']) || regionTypedAsPerson(a, b, turn.text)) && !a.coreference && !b.coreference && REGION_LINK.test(turn.text.slice(a.end, b.start)) && !/^\s*(?:and|or|in|at|on|to|from)\b/.test(lower.slice(b.end))) {
      emit(REGION_RULE, a, b, '', true);
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
