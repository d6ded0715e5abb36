import { describe, expect, it } from 'vitest';
import { writerProblem, type WriterState } from './writer-health';

const limits = { stuckAfterMs: 30_000, maxConsecutiveFailures: 5, dropWindowMs: 60_000 };
const healthy: WriterState = { oldestPendingAt: undefined, consecutiveFailures: 0, lastError: undefined, lastDropAt: undefined };
const now = 1_000_000;

describe('writerProblem', () => {
  it('is healthy with nothing pending, a young backlog, a few failures or an old drop', () => {
    expect(writerProblem('predictions', healthy, now, limits)).toBeUndefined();
    expect(writerProblem('predictions', { ...healthy, oldestPendingAt: now - 29_000, consecutiveFailures: 4 }, now, limits)).toBeUndefined();
    expect(writerProblem('predictions', { ...healthy, lastDropAt: now - 61_000 }, now, limits)).toBeUndefined();
  });

  it('names the writer and the reason when stuck, failing or dropping', () => {
    expect(writerProblem('predictions', { ...healthy, oldestPendingAt: now - 45_000, lastError: 'boom' }, now, limits)).toBe(
      'predictions writer stuck: oldest pending row waiting 45 s (last error: boom)',
    );
    expect(writerProblem('feedback', { ...healthy, consecutiveFailures: 5, lastError: 'ECONNREFUSED' }, now, limits)).toBe(
      'feedback writer failing: 5 writes in a row failed (last error: ECONNREFUSED)',
    );
    expect(writerProblem('online_predictions', { ...healthy, lastDropAt: now - 2_000 }, now, limits)).toBe('online_predictions writer dropped rows 2 s ago');
  });
});
