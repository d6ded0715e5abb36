/** KnowledgeValidation: the stage, each stage's counts and timing, the totals, open reviews, and what was committed. */
import type { KnowledgeStatus, KnowledgeValidationResult } from '../../workflows/knowledge-validation';
import { closedBadly, fields, section, took, type Renderer } from './types';

export const renderKnowledgeValidation: Renderer<KnowledgeStatus, KnowledgeValidationResult> = ({ status: s, result: r, ...view }) => {
  const totals = r?.totals ?? s?.totals;
  return [
    ...fields({
      stage: s ? `${s.state}, ${s.stage}` : r ? 'done' : undefined,
      batch: s?.batchId ?? r?.batchId,
      extractor: s?.extractor,
      totals: totals ? `${totals.candidates} candidates, ${totals.facts} facts: ${totals.accepted} accepted, ${totals.rejected} rejected, ${totals.review} reviewed, ${totals.committed} committed (${totals.alreadyCommitted} already)` : undefined,
      review: s?.review ? `${s.review.items.filter((i) => i.state === 'waiting').length} waiting of ${s.review.items.length}, deadline ${s.review.deadline} (then ${s.review.defaultDecision})` : undefined,
    }),
    ...section(
      'stages',
      (s?.stages ?? []).map((st) => {
        const counts = Object.entries(st.counts).map(([k, v]) => `${k} ${v}`).join(', ');
        const t = took(st.startedAt, st.finishedAt);
        return `${st.state.padEnd(8)} ${st.name.padEnd(14)} ${counts}${t ? ` (${t})` : ''}`;
      }),
    ),
    ...(r ? section('outcome', fields({ committed: r.committed.length ? r.committed : 'none' })) : s?.error ? section('outcome', fields({ error: s.error })) : []),
    ...closedBadly({ ...view, status: s, result: r }),
  ];
};
