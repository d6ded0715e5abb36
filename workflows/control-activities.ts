/**
 * The workflow side of the control queue: a proxy for quick control-plane activities (weights,
 * deploys, tags, analysis reads, records) on the control queue, whose schedule-to-start timeout
 * turns into one clear, non-retryable failure naming the queue and what to start. Without a control
 * queue in the input (executions started before it existed) it is a plain proxy on the CPU queue.
 */
import * as wf from '@temporalio/workflow';
import { ActivityFailure, ApplicationFailure, TimeoutFailure, type ActivityInterfaceFor, type ActivityOptions } from '@temporalio/workflow';
import { CONTROL_SCHEDULE_TO_START_SECONDS, controlQueueOptions, type ActivityTaskQueues } from '../lib/task-queues';

export const NO_CONTROL_WORKER = 'NoControlWorker';

export function proxyControlActivities<A extends object>(queues: ActivityTaskQueues, options: Omit<ActivityOptions, 'taskQueue' | 'scheduleToStartTimeout'>): ActivityInterfaceFor<A> {
  const acts = wf.proxyActivities<A>({ ...options, ...controlQueueOptions(queues) });
  if (!queues.control) return acts;
  const control = queues.control;
  // Same commands as the plain proxy (replay is unaffected); only the failure is reworded.
  return new Proxy(acts, {
    get(target, name) {
      const call = Reflect.get(target, name) as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        try {
          return await call(...args);
        } catch (err) {
          if (!(err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START')) throw err;
          throw ApplicationFailure.create({
            type: NO_CONTROL_WORKER,
            nonRetryable: true,
            message: `no control worker took ${String(name)} from task queue ${control} within ${CONTROL_SCHEDULE_TO_START_SECONDS} s: start one (flywheel up, or node --import tsx workers/control-worker.ts)`,
            cause: err,
          });
        }
      };
    },
  });
}
