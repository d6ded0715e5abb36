/**
 * Answers given in another speaker's turn: a question names the subject and the relation ("Where
 * was Julia Child born?", "Capital of Canada?", "Who founded Brackwater Athletic?") and the next
 * speaker answers with a bare name ("Pasadena, California, on August 15, 1912.", "Ottawa.", "The
 * blacksmith John Deere, who …"); or a yes/no question states a claim ("X founded Y, didn't she?")
 * and the next speaker confirms it ("She did.", "Yes, …").
 */
import type { EntityType } from '../types';

export interface OpenQuestion {
  predicate: string;
  /** What the question names, as written ("usain bolt" too: a lower-case name the tagger misses). */
  known: string;
  knownType: EntityType;
  /** Whether the question's name is the subject of the relation (born_in) or its object (founded). */
  knownRole: 'subject' | 'object';
  answerType: EntityType;
}

interface QuestionShape {
  pattern: RegExp;
  predicate: string;
  knownType: EntityType;
  knownRole: 'subject' | 'object';
  answerType: EntityType;
}

const LEAD = String.raw`^(?:(?:and|so|ok|okay|also|then)[,\s]+)?`;
const SHAPES: QuestionShape[] = [
  { pattern: new RegExp(`${LEAD}who (?:founded|co-founded|started|set up|established) (?:the )?(.+?)$`, 'i'), predicate: 'founded', knownType: 'organisation', knownRole: 'object', answerType: 'person' },
  { pattern: new RegExp(`${LEAD}where (?:was|is) (.+?) born$`, 'i'), predicate: 'born_in', knownType: 'person', knownRole: 'subject', answerType: 'place' },
  { pattern: new RegExp(`${LEAD}when (?:was|is) (.+?) born$`, 'i'), predicate: 'born_on', knownType: 'person', knownRole: 'subject', answerType: 'date' },
  { pattern: new RegExp(`${LEAD}where did (.+?) die$`, 'i'), predicate: 'died_in', knownType: 'person', knownRole: 'subject', answerType: 'place' },
  { pattern: new RegExp(`${LEAD}when did (.+?) die$`, 'i'), predicate: 'died_on', knownType: 'person', knownRole: 'subject', answerType: 'date' },
  { pattern: new RegExp(`${LEAD}when (?:was|were) (?:the )?(.+?) (?:founded|established|started|set up)$`, 'i'), predicate: 'founded_on', knownType: 'organisation', knownRole: 'subject', answerType: 'date' },
  { pattern: new RegExp(`${LEAD}where (?:is|are) (?:the )?(.+?) (?:headquartered|based)$`, 'i'), predicate: 'headquartered_in', knownType: 'organisation', knownRole: 'subject', answerType: 'place' },
  { pattern: new RegExp(`${LEAD}who (?:is|'s) (?:the )?(?:ceo|chief executive) (?:of|at) (?:the )?(.+?)$`, 'i'), predicate: 'ceo_of', knownType: 'organisation', knownRole: 'object', answerType: 'person' },
  // "Who runs CMA CGM?", "Who is running Halvorsen these days?": the one who runs a company is its chief executive.
  { pattern: new RegExp(`${LEAD}who (?:runs|leads|heads|is running|is leading|is heading|'s running) (?:the )?(.+?)(?: (?:these days|now|today|at the moment|nowadays))?$`, 'i'), predicate: 'ceo_of', knownType: 'organisation', knownRole: 'object', answerType: 'person' },
  // "Capital of Australia?", "What's the capital of Canada, Toronto?": the guess after the comma is not the answer's.
  // "the capital of morocco is casablanca, i think?": the guess after "is" is not part of the country's name either.
  { pattern: new RegExp(`${LEAD}(?:what(?:['’]s| is) )?(?:the )?capital(?: city)? of (?:the )?([^,]+?)(?: (?:is|was) [^,]+)?(?:,.*)?$`, 'i'), predicate: 'capital_of', knownType: 'place', knownRole: 'object', answerType: 'place' },
];

/** "quiz question: …", "Pub quiz prep! …" are split off as sentences; a label and colon are dropped. */
const LABEL = /^[^:?]{0,30}:\s+/;
const PRONOUN = /^(?:he|she|it|they|him|her|them|the (?:company|firm|city|town|club))$/i;

/** The relation a wh-question asks for, and the name it is about; undefined for anything else. */
export function openQuestion(sentence: string): OpenQuestion | undefined {
  const text = sentence.trim();
  const asked = text.endsWith('?');
  const body = text.replace(LABEL, '').replace(/[?!.\s]+$/, '');
  // Without a question mark only a sentence opening with the wh-word ("who made minecraft") is a question.
  if (!asked && !/^(?:who|where|when|what|capital)\b/i.test(body)) return undefined;
  for (const s of SHAPES) {
    const m = s.pattern.exec(body);
    if (!m) continue;
    const known = m[1]!.trim();
    if (!known || PRONOUN.test(known) || known.split(/\s+/).length > 6) return undefined;
    // "where is the practice based?": a lower-case noun after "the" is a description, not a name.
    if (known === known.toLowerCase() && body.toLowerCase().includes(`the ${known}`)) return undefined;
    return { predicate: s.predicate, known, knownType: s.knownType, knownRole: s.knownRole, answerType: s.answerType };
  }
  return undefined;
}

/**
 * What may stand before the answer's name in a bare answer: "In Sherwood Content …", "It was
 * Ottawa.", "The blacksmith John Deere, …". Returns the length of that lead when the rest of the
 * sentence starts with a name, or undefined when the answer is a sentence of its own (its claims are
 * extracted as any other sentence's).
 */
export const ANSWER_LEAD = /^(?:(?:[Ww]ell|[Oo]h|[Aa]h|[Rr]ight|[Ss]ure|[Yy]es)[,!.]?\s+)?(?:(?:[Ii]t was|[Ii]t['’]s|[Ii]t is|[Tt]hat was|[Tt]hat['’]s|[Tt]hat is|[Ii]n|[Aa]t|[Oo]n|[Ff]rom)\s+)?(?:[Tt]he\s+[a-z-]+(?:\s+[a-z-]+)?\s+)?/;
/** After the answer's name: the sentence ends, or a comma opens a description or a region. */
export const ANSWER_TAIL = /^\s*(?:[.,;!]|$)/;

/** "Yes, …", "She did.", "Right, …", "True!": the next speaker confirms a yes/no question's claim. */
export const CONFIRMATION = /^(?:yes|yep|yeah|yup|right|correct|true|exactly|indeed|that's right|that is right|(?:s?he|it|they|i|we) (?:did|does|do|is|was|are|were|has|have)\b(?!\s*(?:not|n['’]t)))\b/i;
