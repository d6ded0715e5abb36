/** CanaryRollout: the state and step, the weights, every decision with its reason, the latest analyses, the outcome. */
import type { RolloutResult, RolloutStatus } from '../../workflows/canary-rollout';
import { formatCell } from '../output';
import { closedBadly, fields, pct, section, type Renderer } from './types';

export const renderCanaryRollout: Renderer<RolloutStatus, RolloutResult> = ({ status: s, result: r, ...view }) => [
  ...fields({
    stage: s ? `${s.state}, step ${s.step}/${s.steps?.length ?? 0}${s.steps?.length ? ` (${s.steps.map((x) => (x.shadow ? 'shadow' : `${x.weight}%`)).join(' → ')})` : ''}` : r?.outcome,
    candidate: s || r ? `v${s?.candidateVersion ?? r?.candidateVersion}` : undefined,
    stable: (s?.stableVersion ?? r?.stableVersion) ? `v${s?.stableVersion ?? r?.stableVersion}` : undefined,
    weights: s && Object.keys(s.weights).length ? Object.entries(s.weights).map(([v, w]) => `v${v} ${pct(w)}`).join(', ') : undefined,
    failures: s?.failures,
  }),
  ...section('decisions', (s?.decisions ?? []).map((d) => `${d.at}  ${d.action.padEnd(8)} ${d.reason}`)),
  ...section(
    'analyses (newest last)',
    (s?.analyses ?? []).slice(-5).map((a) => `${a.at}  step ${a.step} ${a.verdict.padEnd(12)} ${a.candidateRequests}/${a.stableRequests} requests  ${a.checks.map((c) => `${c.segment ? `${c.segment}/` : ''}${c.metric}=${formatCell(c.candidate)}:${c.verdict}`).join(' ')}`),
  ),
  ...(r ? section('outcome', fields({ outcome: r.outcome, reason: r.reason, analyses: r.analyses })) : s?.error ? section('outcome', fields({ error: s.error })) : []),
  ...closedBadly({ ...view, status: s, result: r }),
];
