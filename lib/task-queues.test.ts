import { describe, expect, it } from 'vitest';
import { CONTROL_SCHEDULE_TO_START_SECONDS, controlQueueOptions } from './task-queues';

describe('controlQueueOptions', () => {
  it('sends control calls to the control queue with a schedule-to-start limit', () => {
    expect(controlQueueOptions({ cpu: 'c', control: 'k' })).toEqual({ taskQueue: 'k', scheduleToStartTimeout: `${CONTROL_SCHEDULE_TO_START_SECONDS} seconds` });
  });

  it('keeps inputs from before the control queue on the CPU queue, unlimited as they were started', () => {
    expect(controlQueueOptions({ cpu: 'c' })).toEqual({ taskQueue: 'c' });
    expect(controlQueueOptions({ cpu: 'c', control: '' })).toEqual({ taskQueue: 'c' });
  });
});
