/**
 * Which activity task queue a workflow's quick control-plane calls go to. Training, trials and
 * evaluation stay on the CPU queue; traffic weights, deploy/registry tags, analysis reads and
 * bookkeeping go to the control queue, whose worker has its own slots, so a rollback never waits
 * behind hours of training.
 */

/** The activity queues a workflow input names. `control` is optional: executions started before
 * the control queue existed carry only `cpu`, and keep running there. */
export interface ActivityTaskQueues {
  cpu: string;
  control?: string;
}

/**
 * How long a control activity may wait for a control worker to pick it up. Control work starts in
 * milliseconds when a control worker runs, and a restarting one is back within seconds; past this a
 * missing control worker fails the call (a non-retried timeout naming the queue) instead of hanging.
 */
export const CONTROL_SCHEDULE_TO_START_SECONDS = 60;

/** Task queue options for a control-plane proxy. Without a control queue (old inputs) the calls stay
 * on the CPU queue with no schedule-to-start limit, exactly as those executions were started. */
export function controlQueueOptions(queues: ActivityTaskQueues): { taskQueue: string; scheduleToStartTimeout?: string } {
  if (!queues.control) return { taskQueue: queues.cpu };
  return { taskQueue: queues.control, scheduleToStartTimeout: `${CONTROL_SCHEDULE_TO_START_SECONDS} seconds` };
}
