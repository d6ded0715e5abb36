/** FeatureDriftMonitor: checks made, the last check's largest PSI, and each event with the features that moved. */
import type { FeatureDriftMonitorStatus } from '../../workflows/feature-drift-monitor';
import { closedBadly, fields, section, type Renderer } from './types';

export const renderFeatureDriftMonitor: Renderer<FeatureDriftMonitorStatus, FeatureDriftMonitorStatus> = ({ status, result, ...view }) => {
  const s = status ?? result;
  const last = s?.lastCheck;
  return [
    ...fields({
      stage: s?.state,
      checks: s?.checks,
      'last check': last ? `${last.at}: ${last.judged ? `${last.windowRows} rows, largest PSI ${last.maxPsi.toFixed(3)} against v${last.championVersion}'s training data` : `not judged (${last.windowRows} rows)`}` : undefined,
      retrainings: s?.retrainingsStarted,
    }),
    ...section(
      'feature drift events',
      (s?.recentEvents ?? []).map((e) => `#${e.eventId} ${e.features.map((f) => `${f.name} PSI ${f.psi.toFixed(2)}`).join(', ')}${e.retrainingWorkflowId ? ` → ${e.retrainingWorkflowId}` : ''}: ${e.note}`),
    ),
    ...(result ? section('outcome', fields({ outcome: 'stopped', checks: result.checks })) : []),
    ...closedBadly({ ...view, status, result }),
  ];
};
