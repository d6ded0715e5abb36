/** HyperparameterSearch: the stage, trial counts, the best trial so far, recent trials, and the final training. */
import type { SearchResult, SearchStatus } from '../../workflows/hyperparameter-search';
import { formatCell } from '../output';
import { closedBadly, fields, section, type Renderer } from './types';

export const renderHyperparameterSearch: Renderer<SearchStatus, SearchResult> = ({ status: s, result: r, ...view }) => {
  const t = r?.trials ?? s?.trials;
  const best = r?.best ?? s?.best;
  const metric = r?.metric ?? s?.metric;
  return [
    ...fields({
      stage: r ? 'done' : s?.stage,
      sampler: s ? `${s.sampler}, pruner ${s.pruner}` : undefined,
      metric: metric ? `${metric} (${r?.direction ?? s?.direction})` : undefined,
      trials: t ? `${t.total} total: ${t.complete} complete, ${'running' in t ? `${t.running} running, ` : ''}${t.pruned} pruned, ${t.failed} failed` : undefined,
      best: best ? `#${best.number} ${metric}=${formatCell(best.value)} ${JSON.stringify(best.params)}` : undefined,
    }),
    ...section(
      'recent trials',
      (s?.recent ?? []).map((x) => `#${String(x.number).padEnd(4)} ${x.state.padEnd(9)} ${x.value === undefined ? '-' : formatCell(x.value)}  ${x.steps} steps  ${JSON.stringify(x.params)}`),
    ),
    ...(r
      ? section('outcome', fields({ hyperparameters: JSON.stringify(r.hyperparameters), mlflowRun: r.mlflowRunId, trained: r.final ? `${r.final.model} v${r.final.version} (${r.final.workflowId})` : 'no (search only)' }))
      : s?.error
        ? section('outcome', fields({ error: s.error }))
        : s?.final
          ? section('outcome', fields({ training: `${s.final.workflowId}${s.final.version ? ` → v${s.final.version}` : ''}` }))
          : []),
    ...closedBadly({ ...view, status: s, result: r }),
  ];
};
