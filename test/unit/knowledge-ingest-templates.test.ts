/** The ingestion benchmark's generated conversations: what each states, and that a batch of 100 fits the workflow's limit. */
import { describe, expect, it } from 'vitest';
import { conversationTurns } from '../../bench/knowledge/ingest-templates';
import { extractCandidates } from '../../lib/knowledge/extract/extractor';
import { MAX_CANDIDATES } from '../../workflows/knowledge-validation';

const turnsOf = (from: number, n: number) =>
  Array.from({ length: n }, (_, k) => conversationTurns(from + k, 'Zorv'))
    .flat()
    .map((t, i) => ({ ...t, turn: i, source: t.conversation }));

describe('ingestion benchmark conversations', () => {
  it('state the intended facts, with the hearsay and the superseded residence below acceptance', { timeout: 30_000 }, () => {
    const got = extractCandidates(turnsOf(0, 1), 'd').map((c) => ({ claim: `${c.subject.text} ${c.predicate} ${c.object.text}`, confidence: c.confidence }));
    const accepted = got.filter((c) => c.confidence >= 0.85).map((c) => c.claim);
    expect(accepted).toEqual(expect.arrayContaining(['Marie Zorva born_in Lisbon', 'Marie Zorva works_for Kela Systems', 'Kela Systems headquartered_in Vienna', 'Tomas Vara ceo_of Kela Systems', 'Marie Zorva lives_in Prague']));
    expect(got.find((c) => c.claim === 'Kela Systems acquired Brama Labs')!.confidence).toBeLessThan(0.5);
    expect(got.find((c) => c.claim === 'Marie Zorva lives_in Lisbon')!.confidence).toBeLessThan(0.5);
  });
  it('a batch of 100 stays under the per-batch candidate limit', () => {
    // The templates repeat every 12 conversations (every third adds hearsay, every fourth a move):
    // 100 conversations are at most 9 such periods.
    expect(extractCandidates(turnsOf(504, 12), 'd').length * Math.ceil(100 / 12)).toBeLessThan(MAX_CANDIDATES);
  }, 30_000);
});
