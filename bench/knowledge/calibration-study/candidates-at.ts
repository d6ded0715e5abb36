/**
 * The candidates an extractor of the past proposed on a set it had never seen, with their labels
 * and the features a learned calibrator would see (docs/knowledge-nlp.md, "A learned calibrator").
 *
 *   git worktree add --detach /tmp/wt-fourth 5f65798 && ln -s "$PWD/node_modules" /tmp/wt-fourth/
 *   npx tsx bench/knowledge/calibration-study/candidates-at.ts /tmp/wt-fourth fourth >> /tmp/blind.jsonl
 *
 * The first argument is a checkout of the commit that added the set (its extractor is the one the
 * set was blind to); the labels and the features come from this checkout.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import nlp from 'compromise';
import { ONTOLOGY } from '../../../lib/knowledge/ontology';
import { labelOf, parseLabels, tripleKey } from '../score';

const [checkout, set] = process.argv.slice(2) as [string, string];
const { extractCandidates } = await import(path.resolve(checkout, 'lib/knowledge/extract/extractor.ts'));
const { parseTranscript } = await import(path.resolve(checkout, 'lib/knowledge/extract/transcript.ts'));
const dir = path.join(import.meta.dirname, '../../../test/fixtures/knowledge', set);
const labels = parseLabels(await readFile(path.join(dir, 'labels.jsonl'), 'utf8'), 'false');
const parsed = parseTranscript(await readFile(path.join(dir, 'chat.jsonl'), 'utf8'));
if (!parsed.ok) throw new Error(parsed.message);

const PREDICATES = Object.keys(ONTOLOGY);
const CUES = ['coreference', 'typed-by-pattern', 'cross-turn', 'confirmed', 'question', 'hedged', 'reported', 'negated', 'past', 'superseded', 'ambiguous', 'partial-name', 'answer'];
const PARTICLES = new Set(['of', 'de', 'des', 'du', 'la', 'le', 'von', 'van', 'der', 'di', 'da', 'del', '&', 'y', 'al', 'bin', 'den', 'dos', 'das', 'st', 'the', 'and']);
const LEGAL_ONLY = /^(?:ltd|limited|gmbh|inc|incorporated|co|corp|corporation|plc|llc|ag|sa|nv|n\.v\.|oy|ab|as|group|holdings|company|sons|& co)\.?$/i;

/** What the tagger makes of a name on its own, and its shape: junk names ("are", "German", "Ltd", "Lavazza, and when"). */
function nameFeatures(m: { text: string; type: string }, sentence: string): number[] {
  if (m.type === 'date') return Array(9).fill(0);
  const words = m.text.split(/\s+/);
  const doc = nlp(m.text);
  const notANoun = words.length === 1 && !doc.has('#ProperNoun') && ['#Verb', '#Adjective', '#Conjunction', '#Preposition', '#Determiner', '#Pronoun', '#Adverb'].some((t) => doc.has(t));
  const lower = !/\p{Lu}/u.test(m.text);
  const functionWords = lower ? 0 : words.filter((w) => /^[a-z]/.test(w) && !PARTICLES.has(w)).length;
  const found = { person: doc.people().found, place: doc.places().found, organisation: doc.organizations().found };
  const clash = m.type === 'person' ? +found.place + +found.organisation : m.type === 'place' ? +found.person + +found.organisation : m.type === 'organisation' ? +(found.place && !found.organisation) + +found.person : 0;
  return [+notANoun, +doc.has('#Demonym'), Math.min(functionWords, 3), +/[,;:]/.test(m.text), +LEGAL_ONLY.test(m.text.trim()), +!sentence.toLowerCase().includes(m.text.toLowerCase()), clash, Math.min(words.length, 5) / 5, +lower];
}

for (const c of extractCandidates(parsed.value, set)) {
  const label = labelOf(labels, tripleKey(labels, c.subject.text, c.predicate, c.object.text)) === true ? 1 : 0;
  const features = [
    c.confidence,
    ...PREDICATES.map((p) => +(c.predicate === p)),
    ...CUES.map((q) => +c.cues.includes(q)),
    ...nameFeatures(c.subject, c.span.text),
    ...nameFeatures(c.object, c.span.text),
    +c.span.text.trim().endsWith('?'),
    Math.min(c.span.text.split(/\s+/).length, 60) / 60,
    +/^\s*[A-Z][\w ]{0,25}:\s/.test(c.span.text),
    Math.min(Math.abs(c.subject.start - c.object.start), 200) / 200,
  ];
  console.log(JSON.stringify({ set, extractor: c.extractor, label, confidence: c.confidence, features, triple: `${c.subject.text}|${c.predicate}|${c.object.text}` }));
}
