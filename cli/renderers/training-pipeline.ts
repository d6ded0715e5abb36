/** TrainingPipeline: the stage, each stage's timing, the training progress, and the registered version. */
import type { TrainingPipelineResult, TrainingStatus } from '../../workflows/training-pipeline';
import { renderTrainingStatus } from '../render-status';
import { closedBadly, fields, section, took, type Renderer } from './types';

export const renderTrainingPipeline: Renderer<TrainingStatus, TrainingPipelineResult> = ({ status: s, result: r, ...view }) => [
  ...fields({ stage: r ? 'done' : s?.stage, progress: s ? renderTrainingStatus(s) : undefined, family: s?.family, dataset: s?.dataset, placement: s?.placement?.note }),
  ...section(
    'stages',
    (s?.stages ?? []).map((st) => `${st.state.padEnd(8)} ${st.name}${took(st.startedAt, st.finishedAt) ? ` (${took(st.startedAt, st.finishedAt)})` : ''}`),
  ),
  ...(r
    ? section('outcome', [
        ...fields({
          registered: `${r.model} v${r.version}`,
          accuracy: r.metrics.accuracy,
          logLoss: r.metrics.logLoss,
          mlflowRun: r.mlflowRunId,
          onnx: r.onnxUri,
          training: `${r.training.epochs} epochs, final loss ${r.training.finalLoss.toFixed(4)}, ${r.training.trainSeconds.toFixed(1)} s${r.training.device ? ` on ${r.training.device}` : ''}`,
        }),
      ])
    : s?.error
      ? section('outcome', fields({ error: s.error }))
      : []),
  ...closedBadly({ ...view, status: s, result: r }),
];
