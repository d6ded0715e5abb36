/** DriftMonitor: what it watches, ADWIN's window and estimate, and each drift event with the retraining it started. */
import type { DriftMonitorResult, DriftMonitorStatus } from '../../workflows/drift-monitor';
import { closedBadly, fields, section, type Renderer } from './types';

export const renderDriftMonitor: Renderer<DriftMonitorStatus, DriftMonitorResult> = ({ status, result, ...view }) => {
  const s = status ?? result;
  return [
    ...fields({
      stage: s?.state,
      samples: s?.samples,
      'window width': s?.width,
      'error estimate': s?.estimation,
      detections: s?.detections,
      retrainings: s?.retrainingsStarted,
      'last poll': s?.lastPollAt,
    }),
    ...section(
      'drift events (decisions)',
      (s?.recentEvents ?? []).map((e) => `#${e.event} sample ${e.sample} ${e.direction} ${e.before.toFixed(4)} → ${e.after.toFixed(4)}${e.retrainingWorkflowId ? ` → ${e.retrainingWorkflowId}` : ''}: ${e.note}`),
    ),
    ...(result ? section('outcome', fields({ outcome: 'stopped', samples: result.samples, detections: result.detections })) : []),
    ...closedBadly({ ...view, status, result }),
  ];
};
