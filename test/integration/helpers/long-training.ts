/**
 * A TrainingPipeline slow enough to interrupt in the middle of training (a worker kill, a server
 * restart): 200k synthetic rows × 40 features at batch size 1, a few hundred ms per epoch.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { MODEL_NAME } from '../../../config/search-attributes';
import { statusQuery, type TrainingStatus } from '../../../workflows/training-pipeline';
import type { TestEnv } from './env';

export function startLongTraining(env: TestEnv, model: string, epochs: number): Promise<WorkflowHandle> {
  return env.client.workflow.start('TrainingPipeline', {
    taskQueue: env.taskQueues.workflows,
    workflowId: `train-${model}`,
    args: [
      {
        model,
        dataset: 'synthetic:rows=200000,features=40,classes=3,seed=11',
        family: 'softmax-regression',
        hyperparameters: { epochs, batchSize: 1, learningRate: 0.01 },
        taskQueues: { cpu: env.taskQueues.cpu },
      },
    ],
    typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
  });
}

/** Polls the status query until training has reported `epoch` epochs (or the pipeline left `train`). */
export async function waitForEpoch(handle: WorkflowHandle, epoch: number): Promise<TrainingStatus> {
  let status: TrainingStatus | undefined;
  for (let i = 0; i < 600; i++) {
    status = await handle.query(statusQuery);
    if (status.stage === 'train' && (status.progress?.epoch ?? 0) >= epoch) break;
    if (status.state !== 'running' || (status.stage !== 'train' && status.stage !== 'validate' && status.stage !== 'split')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return status!;
}
