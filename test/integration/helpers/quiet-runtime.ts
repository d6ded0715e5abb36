/**
 * Integration tests run real workers in-process; at INFO their SDK logs every state change (some 80
 * lines a run) and hides what failed. Warnings and errors still show; FLYWHEEL_TEST_LOG_LEVEL=INFO
 * (or DEBUG) brings the rest back. Runs in every test worker before any Worker or connection exists.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

const level = (process.env.FLYWHEEL_TEST_LOG_LEVEL ?? 'WARN') as LogLevel;
try {
  Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } } });
} catch {
  // Already installed in this worker process (a file that installs its own runtime ran first).
}
