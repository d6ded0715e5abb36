/**
 * Confidence: the per-candidate threshold, and how independent sources combine. Sources combine
 * by noisy-or over the best candidate of each source, so repeating a claim within one source
 * adds nothing, while agreement across sources does.
 */
import type { CandidateRef, Decision } from './types';
import type { ValidationPolicy } from './policy';

export function checkConfidence(c: CandidateRef, policy: Pick<ValidationPolicy, 'minConfidence'>): Decision {
  const base = { candidateId: c.candidateId, stage: 'confidence' as const };
  if (!(c.confidence >= policy.minConfidence)) {
    return { ...base, outcome: 'reject', reason: `confidence ${c.confidence.toFixed(2)} is below ${policy.minConfidence.toFixed(2)}` };
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
