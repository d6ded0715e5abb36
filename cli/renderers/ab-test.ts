/** ABTest: the state, the split, looks and elapsed time, each arm at the latest look, the decision with its reason. */
import type { Look } from '../../lib/experiment/evaluate';
import type { ABTestResult, ABTestStatus } from '../../workflows/ab-test';
import { formatCell } from '../output';
import { closedBadly, fields, section, type Renderer } from './types';

function arms(look: Look | undefined): string[] {
  if (!look) return [];
  return look.arms.map((a, i) => {
    const c = i === 0 ? undefined : look.comparisons[i - 1];
    const lift = c?.lift === null || c?.lift === undefined ? '' : `  lift ${(c.lift * 100).toFixed(2)}%`;
    const p = c?.adjustedPValue === undefined || c?.adjustedPValue === null ? '' : `  p ${formatCell(c.adjustedPValue)}`;
    return `v${a.version}${i === 0 ? ' (control)' : ''}: ${a.requests} requests, n ${a.n}, estimate ${formatCell(a.estimate)}${lift}${p}`;
  });
}

export const renderABTest: Renderer<ABTestStatus, ABTestResult> = ({ status: s, result: r, ...view }) => {
  const decision = r?.decision ?? s?.decision ?? s?.latest?.decision;
  return [
    ...fields({
      stage: s?.state ?? (r ? 'concluded' : undefined),
      split: s ? s.split.map((w, i) => `v${s.versions[i]} ${w}%`).join(', ') : undefined,
      looks: r?.looks ?? s?.looks,
      elapsed: s ? `${s.elapsedSeconds.toFixed(0)} s` : undefined,
      runs: s?.runs,
    }),
    ...section('decisions', (s?.decisions ?? []).map((d) => `${d.at}  ${d.action.padEnd(8)} ${d.reason}`)),
    ...section('arms (latest look)', arms(r?.latest ?? s?.latest)),
    ...(decision ? section('outcome', fields({ decision: decision.kind, reason: decision.reason, promotion: r?.promotion ? `${r.promotion.workflowId}: ${r.promotion.outcome}` : s?.promotion ? `${s.promotion.workflowId}${s.promotion.outcome ? `: ${s.promotion.outcome}` : ''}` : undefined })) : []),
    ...closedBadly({ ...view, status: s, result: r }),
  ];
};
