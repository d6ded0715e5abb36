/**
 * Confidence: the per-candidate threshold, and how independent sources combine. Sources combine
 * by noisy-or over the best candidate of each source, so repeating a claim within one source
 * adds nothing, while agreement across sources does.
 */
import type { CandidateRef, Decision } from './types';
import type { ValidationPolicy } from './policy';

/** What the text says about a claim, beyond the claim: most telling first. */
const STANDING: Array<[cue: string, says: string]> = [
  ['negated', 'negated: the text says it does not hold'],
  ['superseded', 'superseded: the text says it held until a change ("until", "replaced", "succeeding")'],
  ['past', 'past: the text says it held once ("former", "used to", "previously")'],
  ['reported', "reported: someone else's claim, passed on (hearsay), not the speaker's own"],
  ['question', 'a question, not a statement'],
  ['hedged', 'hedged: the speaker is not sure ("I think", "rumour has it", "apparently")'],
];

/** The claim's standing in words, from the extractor's cues; undefined for a plain statement. */
export function standingOf(cues: ReadonlyArray<string> | undefined): string | undefined {
  const says = STANDING.filter(([cue]) => cues?.includes(cue)).map(([, s]) => s);
  return says.length ? says.join('; ') : undefined;
}

export function checkConfidence(c: CandidateRef & { cues?: ReadonlyArray<string> }, policy: Pick<ValidationPolicy, 'minConfidence'>): Decision {
  const base = { candidateId: c.candidateId, stage: 'confidence' as const };
  if (!(c.confidence >= policy.minConfidence)) {
    const standing = standingOf(c.cues);
    return { ...base, outcome: 'reject', reason: `${standing ? `${standing}: ` : ''}confidence ${c.confidence.toFixed(2)} is below ${policy.minConfidence.toFixed(2)}` };
  }
  return { ...base, outcome: 'pass', reason: `confidence ${c.confidence.toFixed(2)} ≥ ${policy.minConfidence.toFixed(2)}` };
}

/** Best confidence per source, combined as 1 − Π(1 − cᵢ). */
export function combineBySource(items: ReadonlyArray<{ source: string; confidence: number }>): { confidence: number; sources: string[] } {
  const best = new Map<string, number>();
  for (const it of items) best.set(it.source, Math.max(best.get(it.source) ?? 0, clamp01(it.confidence)));
  let miss = 1;
  for (const c of best.values()) miss *= 1 - c;
  return { confidence: 1 - miss, sources: [...best.keys()].sort() };
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
