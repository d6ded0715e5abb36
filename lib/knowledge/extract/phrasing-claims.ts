/**
 * For the phrasing tests: a conversation's turns in, its candidate claims out as
 * "subject predicate object" strings with their confidence and cues. Turns alternate user/agent
 * unless a text starts with "agent:" or "user:".
 */
import { extractCandidates } from './extractor';

export interface PhrasingClaim {
  claim: string;
  confidence: number;
  cues: string[];
}

export const claims = (...texts: string[]): PhrasingClaim[] =>
  extractCandidates(
    texts.map((raw, i) => {
      const m = /^(agent|user):\s*/.exec(raw);
      return { conversation: 'c1', turn: i, source: 'c1', speaker: m ? m[1]! : i % 2 ? 'agent' : 'user', text: m ? raw.slice(m[0].length) : raw };
    }),
    'digest',
  ).map((c) => ({ claim: `${c.subject.text} ${c.predicate} ${c.object.text}`, confidence: c.confidence, cues: c.cues ?? [] }));

export const by = (got: PhrasingClaim[], claim: string): PhrasingClaim | undefined => got.find((c) => c.claim === claim);
