/**
 * Scoring a knowledge run against a labelled set: labels (with aliases), precision, full recall
 * (against every true fact the labels list, extracted or not) and F1, overall and per relation
 * type. Pure, so the unit tests can check the arithmetic.
 */

export interface LabelSet {
  /** Normalised "subject|predicate|object" → true (a fact stated) or false (must not be accepted). */
  truth: Map<string, boolean>;
  /** Normalised surface form → normalised canonical name. */
  aliases: Map<string, string>;
  /** Extracted triples the labels do not list: an error (development set) or false (held-out set). */
  unlabelled: 'error' | 'false';
}

export const norm = (s: string) =>
  s
    .normalize('NFC')
    .trim()
    .toLowerCase()
    .replace(/^the\s+/, '')
    .replace(/[.,;:!?]+$/, '')
    .replace(/\s+/g, ' ');

export function parseLabels(text: string, unlabelled: LabelSet['unlabelled']): LabelSet {
  const truth = new Map<string, boolean>();
  const aliases = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.alias) aliases.set(norm(r.alias), norm(r.canonical));
  }
  const set: LabelSet = { truth, aliases, unlabelled };
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.fact) {
      const [s, p, o] = r.fact.split('|');
      truth.set(tripleKey(set, s, p, o), r.true);
    }
  }
  return set;
}

export function tripleKey(labels: Pick<LabelSet, 'aliases'>, subject: string, predicate: string, object: string): string {
  const name = (x: string) => labels.aliases.get(norm(x)) ?? norm(x);
  return `${name(subject)}|${predicate}|${name(object)}`;
}

/** The label of an extracted triple: true, false, or undefined when the labels do not list it. */
export function labelOf(labels: LabelSet, k: string): boolean | undefined {
  const t = labels.truth.get(k);
  return t === undefined && labels.unlabelled === 'false' ? false : t;
}

export interface Score {
  triples: number;
  trueStated: number;
  accepted: number;
  tp: number;
  fp: number;
  precision: number;
  recall: number;
  f1: number;
  falseAccepted: string[];
  missed: string[];
  perRelation: Record<string, { stated: number; accepted: number; tp: number; precision: number; recall: number }>;
}

/**
 * `accepted`: every distinct extracted triple key → whether any of its candidates was committed.
 * Recall's denominator is every true fact in the labels, so a fact the extractor never proposed
 * counts as missed.
 */
export function scoreRun(accepted: ReadonlyMap<string, boolean>, labels: LabelSet): Score {
  const unknown = [...accepted.keys()].filter((k) => !labels.truth.has(k));
  if (unknown.length && labels.unlabelled === 'error') throw new Error(`${unknown.length} extracted triples have no label (the extractor changed?): ${unknown.slice(0, 5).join('; ')}`);
  const trueFacts = [...labels.truth].filter(([, t]) => t).map(([k]) => k);
  const falseAccepted = [...accepted].filter(([k, acc]) => acc && labelOf(labels, k) !== true).map(([k]) => k);
  const tpKeys = trueFacts.filter((k) => accepted.get(k) === true);
  const missed = trueFacts.filter((k) => accepted.get(k) !== true);
  const tp = tpKeys.length;
  const fp = falseAccepted.length;
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = trueFacts.length ? tp / trueFacts.length : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  const perRelation: Score['perRelation'] = {};
  const rel = (k: string) => k.split('|')[1]!;
  const row = (p: string) => (perRelation[p] ??= { stated: 0, accepted: 0, tp: 0, precision: 1, recall: 0 });
  for (const k of trueFacts) row(rel(k)).stated++;
  for (const k of tpKeys) row(rel(k)).tp++;
  for (const [k, acc] of accepted) if (acc) row(rel(k)).accepted++;
  for (const r of Object.values(perRelation)) {
    r.precision = r.accepted ? r.tp / r.accepted : 1;
    r.recall = r.stated ? r.tp / r.stated : 0;
  }
  return { triples: accepted.size, trueStated: trueFacts.length, accepted: tp + fp, tp, fp, precision, recall, f1, falseAccepted, missed, perRelation };
}
