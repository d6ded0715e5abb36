/**
 * Stopping and starting the Temporal server a test runs against: the stack's dev server by default
 * (only when Flywheel started it), or, with FLYWHEEL_TEST_TEMPORAL_RESTART naming a command that
 * takes `stop` / `start` (scripts/production-temporal/main.ts), a server run another way.
 */
import { execSync } from 'node:child_process';
import type { FlywheelConfig } from '../../../config/index';
import { PROJECT_ROOT } from '../../../config/index';
import { isTemporalHealthy, ownedTemporal, startTemporal, stopTemporal } from '../../../scripts/stack/temporal';

export interface TemporalServerControl {
  /** Whether this test may stop the server at all. */
  ours(): Promise<boolean>;
  stop(): Promise<void>;
  start(): Promise<void>;
  healthy(): Promise<boolean>;
}

export function temporalServerControl(config: FlywheelConfig): TemporalServerControl {
  const command = process.env.FLYWHEEL_TEST_TEMPORAL_RESTART;
  const healthy = () => isTemporalHealthy(config);
  if (command) {
    const run = async (verb: 'stop' | 'start') => void execSync(`${command} ${verb}`, { cwd: PROJECT_ROOT, stdio: 'inherit' });
    return { ours: async () => true, stop: () => run('stop'), start: () => run('start'), healthy };
  }
  return {
    ours: async () => (await ownedTemporal(config)) !== undefined,
    stop: async () => void (await stopTemporal(config)),
    start: async () => void (await startTemporal(config)),
    healthy,
  };
}
