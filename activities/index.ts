/** All activities of the CPU pool, bound to one configuration. */
import type { FlywheelConfig } from '../config/index';
import { createDataActivities } from './data';
import { createEvaluationActivities } from './evaluation';
import { createHpoActivities } from './hpo';
import { createCanaryActivities } from './canary';
import { createExperimentActivities } from './experiment';
import { createKnowledgeActivities } from './knowledge';
import { createServingActivities } from './deploy';
import { createExportActivities } from './export';
import { createOnlineActivities } from './online';
import { createPipelineRecordActivities } from './pipeline-record';
import { createRegistryActivities } from './registry';
import { createTrainingActivities } from './training';
import { createDriftActivities } from './drift';
import { createFeatureDriftActivities } from './feature-drift';
import { createRetrainingActivities } from './retraining';
import { createReconcileActivities } from './reconcile';
import { createBackupActivities } from './backup';
import { createTrafficPartitionActivities } from './traffic-partitions';

export function createActivities(config: FlywheelConfig, gitCommit: string) {
  return {
    ...createDataActivities(config),
    ...createTrainingActivities(config),
    ...createExportActivities(config),
    ...createEvaluationActivities(config),
    ...createRegistryActivities(config, gitCommit),
    ...createPipelineRecordActivities(config),
    ...createHpoActivities(config, gitCommit),
    ...createServingActivities(config),
    ...createCanaryActivities(config),
    ...createExperimentActivities(config),
    ...createOnlineActivities(config, gitCommit),
    ...createKnowledgeActivities(config),
    ...createDriftActivities(config),
    ...createFeatureDriftActivities(config),
    ...createRetrainingActivities(config),
    ...createReconcileActivities(config),
    ...createBackupActivities(config),
    ...createTrafficPartitionActivities(config),
  };
}
