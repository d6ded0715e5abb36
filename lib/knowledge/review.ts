/**
 * Human review of borderline facts, as plain state transitions: the workflow's update validator
 * and handler call these, so an unknown or already-decided fact is refused before it is accepted
 * into history.
 */
import type { ReviewDecision } from './types';

export interface ReviewItem {
  factId: string;
  summary: string;
  reason: string;
  state: 'waiting' | 'accepted' | 'rejected';
  decidedBy?: 'reviewer' | 'deadline';
  decisionReason?: string;
  reviewer?: string;
}

export interface ReviewRequest {
  factId: string;
  decision: ReviewDecision;
  reason?: string;
  reviewer?: string;
}

/** Throws the message the reviewer sees; returns nothing when the request may be applied. */
export function validateReview(items: ReadonlyArray<ReviewItem>, open: boolean, req: ReviewRequest): void {
  if (!req || typeof req.factId !== 'string') throw new Error('a review needs a factId');
  if (req.decision !== 'accept' && req.decision !== 'reject') throw new Error(`decision must be accept or reject (got ${String(req.decision)})`);
  const item = items.find((i) => i.factId === req.factId);
  if (!item) {
    const waiting = items.filter((i) => i.state === 'waiting').map((i) => i.factId);
    throw new Error(`fact ${req.factId} is not waiting for review in this batch${waiting.length ? ` (waiting: ${waiting.slice(0, 5).join(', ')}${waiting.length > 5 ? ', …' : ''})` : ''}`);
  }
  if (item.state !== 'waiting') throw new Error(`fact ${req.factId} was already ${item.state}${item.decidedBy === 'deadline' ? ' when its review deadline passed' : ''}`);
  if (!open) throw new Error(`the review of this batch is closed; fact ${req.factId} was not decided in time`);
}

export function applyReview(item: ReviewItem, req: ReviewRequest): void {
  item.state = req.decision === 'accept' ? 'accepted' : 'rejected';
  item.decidedBy = 'reviewer';
  item.reviewer = req.reviewer;
  item.decisionReason = req.reason?.trim() || `${req.decision}ed by ${req.reviewer ?? 'a reviewer'}`;
}

export function applyDeadline(items: ReviewItem[], decision: ReviewDecision, timeoutSeconds: number): ReviewItem[] {
  const expired = items.filter((i) => i.state === 'waiting');
  for (const item of expired) {
    item.state = decision === 'accept' ? 'accepted' : 'rejected';
    item.decidedBy = 'deadline';
    item.decisionReason = `no review within ${formatSeconds(timeoutSeconds)}: default decision ${decision}`;
  }
  return expired;
}

export function formatSeconds(s: number): string {
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
