/**
 * Corroboration: a fact is accepted when enough independent sources state it (counting sources
 * that already back it in the graph), or when one source states it confidently enough; anything
 * in between is borderline and waits for a reviewer.
 */
import type { ValidationPolicy } from './policy';
import type { ResolvedFact } from './types';

export interface CorroborationVerdict {
  outcome: 'accept' | 'review';
  reason: string;
  sources: string[];
}

export function corroborate(fact: ResolvedFact, graphSources: ReadonlyArray<string>, policy: Pick<ValidationPolicy, 'acceptConfidence' | 'corroborationSources'>): CorroborationVerdict {
  const sources = [...new Set([...fact.sources, ...graphSources])].sort();
  const n = sources.length;
  if (n >= policy.corroborationSources) {
    return { outcome: 'accept', sources, reason: `corroborated by ${n} independent sources (${sources.join(', ')})` };
  }
  if (fact.confidence >= policy.acceptConfidence) {
    return { outcome: 'accept', sources, reason: `confidence ${fact.confidence.toFixed(2)} from ${plural(n, 'source')} ≥ ${policy.acceptConfidence.toFixed(2)}` };
  }
  return {
    outcome: 'review',
    sources,
    reason: `borderline: confidence ${fact.confidence.toFixed(2)} from ${plural(n, 'source')} (accepting needs ${policy.acceptConfidence.toFixed(2)} or ${policy.corroborationSources} sources)`,
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
