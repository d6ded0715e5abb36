/** Retraining: the stage, challenger and champion on the same holdout, the decision with its reason, and the canary. */
import type { ModelScore, RetrainingResult, RetrainingStatus } from '../../workflows/retraining';
import { formatCell } from '../output';
import { closedBadly, fields, section, type Renderer } from './types';

const score = (m: ModelScore | undefined) => (m ? `v${m.version} accuracy ${formatCell(m.accuracy)}, log loss ${formatCell(m.logLoss)}` : undefined);

export const renderRetraining: Renderer<RetrainingStatus, RetrainingResult> = ({ status: s, result: r, ...view }) => {
  const decision = r?.decision ?? s?.decision;
  const canary = r?.canary ?? s?.canary;
  return [
    ...fields({
      stage: s?.stage ?? (r ? 'done' : undefined),
      trigger: s ? JSON.stringify(s.trigger) : undefined,
      dataset: s?.dataset,
      comparison: s ? `${s.metric}, margin ${s.margin}${s.holdoutRows ? ` on ${s.holdoutRows} holdout rows` : ''}` : undefined,
      training: s?.trainingWorkflowId,
      challenger: score(r?.challenger ?? s?.challenger),
      champion: score(r?.champion ?? s?.champion),
    }),
    ...(decision || canary || s?.error
      ? section(
          'outcome',
          fields({
            decision: decision?.kind,
            reason: decision?.reason,
            canary: canary ? `${canary.workflowId}${canary.outcome ? `: ${canary.outcome}` : ''}${canary.reason ? ` (${canary.reason})` : ''}` : undefined,
            error: s?.error,
          }),
        )
      : []),
    ...closedBadly({ ...view, status: s, result: r }),
  ];
};
