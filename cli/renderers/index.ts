/**
 * One `workflows show` renderer per workflow type. The map is keyed by the names workflows/index.ts
 * exports (the types the worker registers), so a workflow added there without a renderer here is a
 * compile error.
 */
import type * as Workflows from '../../workflows/index';
import type { ABTestStatus } from '../../workflows/ab-test';
import type { BackupStatus } from '../../workflows/backup';
import type { RolloutStatus } from '../../workflows/canary-rollout';
import type { DriftMonitorStatus } from '../../workflows/drift-monitor';
import type { FeatureDriftMonitorStatus } from '../../workflows/feature-drift-monitor';
import type { SearchStatus } from '../../workflows/hyperparameter-search';
import type { KnowledgeStatus } from '../../workflows/knowledge-validation';
import type { OnlineSnapshotStatus } from '../../workflows/online-learning';
import type { ReconcilerStatus } from '../../workflows/reconciler';
import type { RetrainingStatus } from '../../workflows/retraining';
import type { TrainingStatus } from '../../workflows/training-pipeline';
import { renderABTest } from './ab-test';
import { renderBackup } from './backup';
import { renderCanaryRollout } from './canary-rollout';
import { renderDriftMonitor } from './drift-monitor';
import { renderFeatureDriftMonitor } from './feature-drift-monitor';
import { renderHyperparameterSearch } from './hyperparameter-search';
import { renderKnowledgeValidation } from './knowledge-validation';
import { renderOnlineSnapshot } from './online-learning';
import { renderReconciler } from './reconciler';
import { renderRetraining } from './retraining';
import { renderTrainingPipeline } from './training-pipeline';
import { closedBadly, type Renderer, type WorkflowView } from './types';

export type WorkflowType = keyof typeof Workflows;

/** What each workflow's `status` query answers. */
export interface StatusOf {
  TrainingPipeline: TrainingStatus;
  HyperparameterSearch: SearchStatus;
  CanaryRollout: RolloutStatus;
  ABTest: ABTestStatus;
  DriftMonitor: DriftMonitorStatus;
  Retraining: RetrainingStatus;
  KnowledgeValidation: KnowledgeStatus;
  OnlineSnapshot: OnlineSnapshotStatus;
  Reconciler: ReconcilerStatus;
  Backup: BackupStatus;
  FeatureDriftMonitor: FeatureDriftMonitorStatus;
}

/** What each workflow returns. */
export type ResultOf<K extends WorkflowType> = Awaited<ReturnType<(typeof Workflows)[K]>>;

export const renderers: { [K in WorkflowType]: Renderer<StatusOf[K], ResultOf<K>> } = {
  TrainingPipeline: renderTrainingPipeline,
  HyperparameterSearch: renderHyperparameterSearch,
  CanaryRollout: renderCanaryRollout,
  ABTest: renderABTest,
  DriftMonitor: renderDriftMonitor,
  Retraining: renderRetraining,
  KnowledgeValidation: renderKnowledgeValidation,
  OnlineSnapshot: renderOnlineSnapshot,
  Reconciler: renderReconciler,
  Backup: renderBackup,
  FeatureDriftMonitor: renderFeatureDriftMonitor,
};

export const isWorkflowType = (type: string): type is WorkflowType => Object.hasOwn(renderers, type);

/** The lines for any workflow: its type's renderer, or (a workflow Flywheel does not know) the outcome alone. */
export function renderWorkflow(type: string, view: WorkflowView<unknown, unknown>): string[] {
  if (!isWorkflowType(type)) return closedBadly(view);
  try {
    return (renderers[type] as Renderer<unknown, unknown>)(view);
  } catch (err) {
    // A status from a run that failed on its own input can lack what a renderer expects: show what is certain.
    return [...closedBadly(view), `(status not rendered: ${(err as Error).message})`];
  }
}
