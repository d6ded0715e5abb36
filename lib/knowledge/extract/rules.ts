/**
 * Relationship patterns: what the text between two mentions (and, for a few, just before the
 * first) must look like for a relationship to be claimed. Each pattern's base confidence says how
 * specific its cue is; the extractor lowers it for distance, hedges, negation and questions.
 */
import type { EntityType } from '../types';

export interface RelationRule {
  predicate: string;
  subject: EntityType[];
  object: EntityType[];
  /** forward: subject is the earlier mention; inverse: the later one. */
  order: 'forward' | 'inverse';
  /** Tested on the lower-cased text between the two mentions, trimmed of brackets and spaces. */
  between: RegExp;
  /** Tested on the lower-cased sentence text before the earlier mention, when present. */
  before?: RegExp;
  /** Forward rules: tested on the lower-cased sentence text right after the later mention ("… is Amazon's CEO"). */
  after?: RegExp;
  base: number;
  /**
   * The subject is the name right before the cue, with a type (the tagger's, a pattern's or a pronoun's),
   * and no preposition's object ("the headquarters of X are in …" is not X being in …).
   */
  nameBefore?: boolean;
  /** The object is a role said without its organisation ("is the CEO"), standing for the organisation in focus. */
  role?: boolean;
}

const COMPASS = '(?:(?:north|south|east|west)(?:ern|east|west|eastern|western)?|central|north[- ]central|south[- ]central|northern|southern|eastern|western)';
/** Adverbs that sit between a subject and its verb without changing the claim: "still works for", "also acquired". */
const ADV = '(?:(?:both|all|still|now|also|currently|today|later|then|actually|already) )*';
/** An organisation's own sites: "its workshop is in Gotha", "our plant in Graz". */
const SITE = '(?:plant|factory|workshop|roastery|brewery|warehouse|lab|laboratory|studio|mill|distillery|shipyard|office|offices|site|store|shop|depot|mine|branch|campus|(?:claims|sales|regional|local|branch|service) (?:office|offices|centre|center)|(?:service|repair|distribution) (?:depot|centre|center)|atelier|sawmill|clinic|clinics)';
const HQ = '(?:headquarters|head office|head offices|hq|main office)';
const IS = '(?:is|are|was|were|has been|have been)';
/** "the dock worker", "the twins", "two volunteers", "the astronomer": who the founders were, before their names. */
const FOUNDER_DESCRIPTION = '(?: (?:the|a|an|two|three|four|his|her|their) [a-z-]+(?: [a-z-]+){0,2})?';
/** Kinds of organisation a description names: "a little studio", "a family firm". */
const ORG_KIND = '(?:company|firm|studio|business|startup|start-up|agency|practice|brewery|bakery|publisher|label|charity|co-operative|cooperative|workshop|shop|pottery|mill|club|band|society|school|archive|museum|library)';
const PLACE_NOUN = '(?:city|town|port|port city|village|state|region|country|island|province|seaport|resort|borough|county|municipality)';

export const RULES: RelationRule[] = [
  { predicate: 'born_in', subject: ['person'], object: ['place'], order: 'forward', between: /\bborn (?:\w+ )?in(?: the)?(?: (?:city|town|village) of)?$/, base: 0.92 },
  { predicate: 'born_on', subject: ['person'], object: ['date'], order: 'forward', between: /\bborn (?:on|in)$/, base: 0.92 },
  { predicate: 'died_in', subject: ['person'], object: ['place'], order: 'forward', between: /\bdied (?:at (?:his|her|their) (?:home|villa|house|estate|residence|farm) )?in(?: the)?$/, base: 0.9 },
  { predicate: 'died_on', subject: ['person'], object: ['date'], order: 'forward', between: /\bdied (?:on|in)$/, base: 0.9 },
  { predicate: 'works_for', subject: ['person'], object: ['organisation'], order: 'forward', between: new RegExp(`\\b${ADV}(?:works|worked|working|work|is employed|was employed) (?:for|at)(?: the)?$`), base: 0.9 },
  // "She joined Samsung last spring", "just got a job at Tidewell Insurance".
  { predicate: 'works_for', subject: ['person'], object: ['organisation'], order: 'forward', between: new RegExp(`\\b${ADV}(?:joined|(?:just )?(?:got|took|started) a (?:new )?job (?:at|with))$`), base: 0.88 },
  { predicate: 'works_for', subject: ['person'], object: ['organisation'], order: 'forward', between: /^(?:is|was) (?:an? |the )?(?:engineer|developer|scientist|manager|designer|researcher|analyst|employee|director|vp|head of \w+)(?: \w+)? (?:at|of|for)$/, base: 0.85 },
  // "is a mechanic with the RNLI", "is a senior forecaster at …": a job, named by an agent noun, at or with an organisation.
  { predicate: 'works_for', subject: ['person'], object: ['organisation'], order: 'forward', between: /^(?:is|was) (?:an? |the )(?:[a-z-]+ )?[a-z-]+(?:er|or|ist|ian|ic|ant|ent)(?: \w+)? (?:at|with|for)(?: the)?$/, base: 0.85 },
  { predicate: 'ceo_of', subject: ['person'], object: ['organisation'], order: 'forward', between: new RegExp(`(?:^|\\bwho )(?:is |was |became |has been )?${ADV}(?:the )?(?:current |new )?(?:ceo|chief executive(?: officer)?) (?:of|at)$`), base: 0.92 },
  // "Satya Nadella has been Microsoft's chief executive", "who is still our CEO", "is still its CEO".
  { predicate: 'ceo_of', subject: ['person'], object: ['organisation'], order: 'forward', between: new RegExp(`(?:^|\\bwho |\\band )(?:is|was|became|has been|remains)(?: (?:still|now|currently|also))?$`), after: /^(?:['’]s?)?\s+(?:current |new )?(?:ceo|chief executive)\b/, base: 0.9 },
  { predicate: 'ceo_of', subject: ['person'], object: ['organisation'], order: 'inverse', between: /^(?:['’]s?)?\s*(?:current |new )?(?:ceo|chief executive(?: officer)?)(?:,| is| is now| is still)?$/, base: 0.9 },
  // "Ingrid Solbakken has been chief executive since 2020", "Ferreiro stays on as CEO": the role stands for the organisation in focus.
  { predicate: 'ceo_of', subject: ['person'], object: ['organisation'], order: 'forward', between: /^(?:is|was|has been|became|remains|stays on as|is now)(?: (?:still|now|currently|also))?(?: the)?(?: current| new)?$|^(?:is|was) (?:the )?(?:chairman|chair|president) and$/, role: true, base: 0.9 },
  // "his son, Chidi Okonjo, runs it as CEO".
  { predicate: 'ceo_of', subject: ['person'], object: ['organisation'], order: 'forward', between: /^(?:runs|leads|has run|has led)$/, after: /^\s+(?:now |today |still )?as (?:its |the )?(?:ceo|chief executive)\b/, base: 0.9 },
  { predicate: 'founded', subject: ['person'], object: ['organisation'], order: 'inverse', between: /^(?:['’]s)?\s*(?:founder|co-founder|cofounder),?$/, base: 0.88 },
  { predicate: 'founded', subject: ['person', 'organisation'], object: ['organisation'], order: 'forward', between: /\b(?:founded|co-founded|cofounded|established|started)(?: the)?$/, base: 0.9 },
  // "was set up by Dr. Halima Osei", "founded by the dock worker Samuel Prynne", "by two volunteers, Duncan McAra": a short description of the founder may stand between "by" and the name.
  { predicate: 'founded', subject: ['person'], object: ['organisation'], order: 'inverse', between: new RegExp(`^(?:was |is )?(?:founded|co-founded|established|started|set up)(?: there| here)? by${FOUNDER_DESCRIPTION}$`), base: 0.92 },
  // "It's a little studio founded by Hester Pengelly", "X, a family firm set up by Y": the kind of organisation before the verb.
  { predicate: 'founded', subject: ['person'], object: ['organisation'], order: 'inverse', between: new RegExp(`^(?:(?:['’]s|is|was) )?(?:an?|the) (?:[a-z-]+ ){0,2}${ORG_KIND} (?:founded|co-founded|established|started|set up) by${FOUNDER_DESCRIPTION}$`), base: 0.9 },
  // "Two sisters, A and B, set it up": the particle after the pronoun.
  { predicate: 'founded', subject: ['person'], object: ['organisation'], order: 'forward', between: /^(?:,\s*)?(?:set|started)$/, after: /^\s+up\b/, base: 0.9 },
  // "Ajax is based in Amsterdam and was founded on …": a verb phrase after "and" shares the subject.
  { predicate: 'founded_on', subject: ['organisation'], object: ['date'], order: 'forward', between: /^(?:and )?(?:was |is )?(?:founded|established|started|created|incorporated|set up)(?: there| here)? (?:in|on)$/, base: 0.9 },
  { predicate: 'headquartered_in', subject: ['organisation'], object: ['place'], order: 'forward', between: new RegExp(`\\b(?:is |was |are |were )?${ADV}(?:headquartered|based) in(?: the)?$|\\bhas (?:its )?${HQ} in(?: the)?$`), base: 0.9 },
  // "Volkswagen's headquarters are in Wolfsburg", "its head office is in Lugano", "our roastery and head office are now in Boise".
  { predicate: 'headquartered_in', subject: ['organisation'], object: ['place'], order: 'forward', between: new RegExp(`^(?:['’]s?\\s+)?(?:${SITE} and )?${HQ}(?: (?:${IS}) ${ADV}in| ${IS}| in)(?: the)?$`), base: 0.9 },
  // "the headquarters of Norrvik Timber are in Trondheim".
  { predicate: 'headquartered_in', subject: ['organisation'], object: ['place'], order: 'forward', before: new RegExp(`\\b${HQ} of$`), between: new RegExp(`^${IS} ${ADV}in(?: the)?$`), base: 0.9 },
  // "the Huddersfield-based Loomwright Mills": the place fused to "-based" is where the firm is based.
  { predicate: 'headquartered_in', subject: ['organisation'], object: ['place'], order: 'inverse', between: /^-based$/, base: 0.9 },
  // "Orvane Dental, the Aarhus-based maker of …", "We're a Wageningen-based company".
  { predicate: 'headquartered_in', subject: ['organisation'], object: ['place'], order: 'forward', between: /^(?:(?:['’]re|is|are|was|were|['’]s) )?(?:an?|the)$/, after: /^-based\s+(?:[a-z-]+\s+){0,2}(?:company|firm|maker|manufacturer|group|business|startup|start-up|studio|publisher|label|brand|producer|retailer|chain|bank|insurer|charity|developer|supplier)\b/, base: 0.9 },
  // "Meteo Wessex, a private firm in Yeovil", "Hollowell Sound, a small studio in Swansea": an apposition placing the firm.
  { predicate: 'located_in', subject: ['organisation'], object: ['place'], order: 'forward', between: /^(?:an?|the) (?:[a-z-]+ ){0,2}(?:firm|company|studio|business|startup|start-up|agency|practice|brewery|bakery|publisher|label|maker|manufacturer|charity|co-operative|cooperative|workshop|shop) in(?: the)?$/, base: 0.88 },
  // "we … have clinics in Morningside", "runs two workshops in Leeds": sites the organisation has.
  { predicate: 'located_in', subject: ['organisation'], object: ['place'], order: 'forward', between: new RegExp(`\\b(?:has|have|runs|run|operates|operate) (?:a |an |two |three |four |several |its |their )?(?:[a-z-]+ )?${SITE} in(?: the)?$`), base: 0.88 },
  // "its workshop is in Gotha", "spares ship from our plant in Graz".
  { predicate: 'located_in', subject: ['organisation'], object: ['place'], order: 'forward', between: new RegExp(`^(?:['’]s?\\s+)?(?:main |new |largest |biggest )?${SITE}(?: and ${HQ})?(?: (?:${IS}) ${ADV}in| in)(?: the)?$`), base: 0.9 },
  { predicate: 'acquired', subject: ['organisation'], object: ['organisation'], order: 'forward', between: new RegExp(`^(?:has |had )?${ADV}(?:acquired|bought|purchased|took over)$`), base: 0.9 },
  // "Veolia completed its acquisition of Suez": a finished acquisition named as a noun.
  { predicate: 'acquired', subject: ['organisation'], object: ['organisation'], order: 'forward', between: /^(?:has |had )?(?:completed|finalised|finalized|closed) (?:its|the) (?:acquisition|purchase|takeover) of$/, base: 0.9 },
  // "was bought by the Finnish group Fiskars": a description of the buyer may stand between "by" and its name.
  { predicate: 'acquired', subject: ['organisation'], object: ['organisation'], order: 'inverse', between: /^(?:was |has been )?(?:acquired|bought|purchased) by(?: the (?:[a-z-]+ ){0,2}(?:group|company|firm|conglomerate|giant|maker|manufacturer|chain|retailer|publisher|bank|insurer))?$/, base: 0.9 },
  // "Pennock & Rowe is now part of Drummond Bancorp", "became a subsidiary of": owned by the later name.
  { predicate: 'acquired', subject: ['organisation'], object: ['organisation'], order: 'inverse', between: /^(?:is|has been|became) (?:now )?(?:part|a subsidiary|a division) of$/, base: 0.88 },
  // "makes the PlayStation", "makes payroll software called Quinlex Pay".
  { predicate: 'makes', subject: ['organisation'], object: ['product'], order: 'forward', between: new RegExp(`\\b${ADV}(?:makes|make|made|produces|produce|produced|manufactures|manufacture|released|launched|develops|develop|developed|sells|sell|ships)(?: the| an?)?(?: (?:[a-z-]+ ){0,3}(?:called|named))?$`), base: 0.9 },
  // "make the migraine drug Cephalyn", "makes a really good white wine called …": a kind of product before its name.
  { predicate: 'makes', subject: ['organisation'], object: ['product'], order: 'forward', between: new RegExp(`\\b${ADV}(?:makes|make|produces|produce|manufactures|manufacture|sells|sell) (?:the|an?|its|their) (?:[a-z-]+ ){0,2}(?:drug|medicine|vaccine|game|console|phone|car|wine|beer|cheese|crisps|show|series|magazine|app|software|telescope|camera|watch|drone)$`), base: 0.9 },
  // "co-founded a startup, Helixmoor …": the organisation in apposition to the kind of thing founded.
  { predicate: 'founded', subject: ['person', 'organisation'], object: ['organisation'], order: 'forward', between: new RegExp(`\\b(?:founded|co-founded|cofounded|started|set up|established) (?:a|an|the) (?:[a-z-]+ ){0,2}(?:${ORG_KIND}|lab|bank)$`), base: 0.9 },
  // "A founded X with B", "A co-founded X with her old lab mate B": B is a founder too.
  { predicate: 'founded', subject: ['person'], object: ['organisation'], order: 'inverse', before: /\b(?:founded|co-founded|cofounded|started|set up|established)(?: (?:a|an|the) (?:[a-z-]+ ){0,2}[a-z-]+)?$/, between: /^with(?: (?:his|her|their) (?:[a-z-]+ ){0,3}[a-z-]+)?$/, base: 0.9 },
  // "Akio Morita, one of Sony's founders", "X, Y's founder,": an apposition naming the founder.
  { predicate: 'founded', subject: ['person'], object: ['organisation'], order: 'forward', between: /^(?:one of|(?:is|was) one of)$/, after: /^['’]s?\s+(?:co-)?founders\b/, base: 0.88 },
  {
    predicate: 'capital_of',
    subject: ['place'],
    object: ['place'],
    order: 'forward',
    between: new RegExp(`(?:^|\\b)(?:is |was |became |has been )?(?:the )?(?:(?:present|state|national|federal|official|current|new) )?capital(?: city)?(?: and (?:the )?largest (?:port )?city)?(?: city)? of(?: the)?(?: state of)?(?: ${COMPASS})?$`),
    base: 0.92,
  },
  { predicate: 'capital_of', subject: ['place'], object: ['place'], order: 'inverse', between: /^(?:['’]s)?\s*capital(?: city)? (?:is|was)$/, base: 0.9 },
  // "the capital of Chad is N'Djamena", "… is now Abuja".
  { predicate: 'capital_of', subject: ['place'], object: ['place'], order: 'inverse', before: /\bcapital(?: city)? of(?: the)?$/, between: /^(?:is|was)(?: (?:now|still|currently|today|also))?$/, base: 0.9 },
  {
    predicate: 'located_in',
    subject: ['place'],
    object: ['place'],
    order: 'forward',
    between: new RegExp(`(?:^|\\b)(?:is |was )?(?:an? |the )?(?:\\w+ ){0,2}${PLACE_NOUN} (?:\\w+ )?(?:in|of)(?: the)?(?: ${COMPASS})?$|\\blocated in(?: the)?(?: ${COMPASS})?$`),
    // "is a village in", "is located in": a cue only a place fills, worth a name the tagger did not know (patterns/7: 0.85 → 0.9).
    base: 0.9,
  },
  // "Harvard University is in Cambridge", "It's in Ballyfern, a small town": an organisation or place is in a place
  // (only a name the tagger or a pattern typed: "Tomas is in Malmö" says where a person is today, nothing lasting).
  { predicate: 'located_in', subject: ['organisation', 'place'], object: ['place'], order: 'forward', between: /^(?:is|are|['’]s|has been|have been) (?:still |now |also |both )?in(?: the)?$/, nameBefore: true, base: 0.88 },
  { predicate: 'lives_in', subject: ['person'], object: ['place'], order: 'forward', between: new RegExp(`\\b${ADV}(?:lives|lived|living|live|resides|moved) (?:in|to)(?: the)?$`), base: 0.9 },
];

/** Words that, between or just before the two mentions, deny the claim: every "-n't" ("don't", "won't", "aren't"), not only some. */
export const NEGATION = /\b(?:not|never|no longer|cannot|\w+n['’]t)\b/;
/** Words that make a speaker's claim less certain. */
export const HEDGE = /\b(?:i think|i believe|i guess|i heard|maybe|perhaps|probably|possibly|might|may have|not sure|rumou?red|rumou?r|apparently|allegedly|supposedly|could be|i suppose)\b/;
/** The claim was true once, not now ("former capital of"). */
export const PAST = /\b(?:former|formerly|once|used to(?: be)?|ex-|previous|previously|before that|before then)\b/;
/** "True or false: …", "Quiz question: …": a claim put up to be judged, not asserted. */
export const QUIZ = /\btrue or false\b|\bquiz question\b/;
/** "moved to the United States as a child": true of a time long past, not now. */
export const CHILDHOOD_AFTER = /^[^.;]{0,12}?\b(?:as an? (?:child|boy|girl|baby|kid|teenager|toddler)|when (?:he|she|they) was (?:young|little|a child))\b/;
/** After the claim: "lived in Canberra for four years before that": a stretch that has ended ("worked there before joining X" is kept: past employment still holds as a fact). */
export const ENDED_AFTER = /^[^.;]{0,40}?\bbefore (?:that|then|this)\b/;
/** Someone else's claim, reported by the speaker: hearsay, not the speaker's own statement. */
export const REPORTED = /\b(?:insists?|insisted|swears?|swore|claims?|claimed|says|said|told me|tells me|reckons|according to|heard|believes|thinks|suggests|suggested)\b/;
/** After the claim: "until 2020", "until recently" — it held once and no longer does. */
export const SUPERSEDED_AFTER = /^[^.;]{0,12}?\b(?:until|till)\b/;
/** Before the claim: "replaced Yangon as …", "succeeding Laxman Narasimhan". */
export const SUPERSEDED_BEFORE = /\b(?:replaced|succeeding|succeeded|replacing)\s*$/;
/** "A and his brother B", "A and her cousin B": a relative named after "and" is one more name of the list. */
export const RELATIVE_OF = '(?:his|her|their) (?:twin |younger |elder |older |little |big |old )?(?:brother|sister|cousin|wife|husband|son|daughter|father|mother|partner|business partner|friend|colleague|brother-in-law|sister-in-law|son-in-law|daughter-in-law|father-in-law|mother-in-law|lab mate|classmate|schoolfriend)';
/** Relatives who share the name's surname ("Samuel Prynne and his brother Elias" is Elias Prynne). */
export const SAME_SURNAME_RELATIVE = /^\s+and\s+(?:his|her|their)\s+(?:twin\s+|younger\s+|elder\s+|older\s+|little\s+|big\s+)?(?:brother|sister|son|daughter|father|mother)\s+$/i;
/** Names in a list: a comma, "and", ", and", "&". */
export const COORDINATION = new RegExp(`^(?:,|and|, and|&|,\\s*and)(?: ${RELATIVE_OF})?$`);
/** A verb right after a name starts a clause of its own: "…of Brazil, and Rio is its largest city" coordinates clauses, not names. */
export const CLAUSE_VERB_AFTER = /^\s+(?:is|was|are|were|has|have|had|will|would|can|could|does|did|remains|became|becomes)\b/;
/** "Milan, Ohio", "Smiljan, in present-day Croatia": a place's region after a comma. */
export const REGION_LINK = /^,\s+(?:in\s+(?:present-day|modern(?:-day)?|today['’]s)\s+(?:the\s+)?)?$/;
/** A date or place continuing an event: "on 5 September 1946", ", in 1847", "in Seattle". */
/** A place continuing an event after its date: "died on 12 January 1976 at her home in Wallingford". */
export const EVENT_PLACE = /^,?\s+(?:at (?:his|her|their) (?:home|villa|house|estate|residence|farm) )?in\s+(?:the\s+)?$/;
export const EVENT_DATE = /^,?\s+(?:in|on)\s+(?:the\s+)?$/;
/** A relative clause between the mentions: the subject is the head noun the clause hangs on. */
export const RELATIVE = /\b(?:that|which|who|whose)\b/;
/** "(1900-1958)": a lifespan after a person's description. */
export const LIFESPAN = /\((?:c\.\s*|circa\s+)?(\d{3,4})\s*[-–]\s*(\d{3,4})\)/g;
