/**
 * Process-wide setup shared by both workers: structured JSON logs, Prometheus metrics from the
 * SDK's core, and the connection to Temporal. Runtime.install must run before any connection.
 */
import { DefaultLogger, NativeConnection, Runtime, type LogEntry } from '@temporalio/worker';
import type { FlywheelConfig } from '../config/index';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export function installRuntime(config: FlywheelConfig, component: string, metricsPort: number): void {
  const minLevel = config.logLevel.toUpperCase() as (typeof LEVELS)[number];
  Runtime.install({
    logger: new DefaultLogger(minLevel, (entry: LogEntry) => {
      const { level, message, meta, timestampNanos } = entry;
      process.stdout.write(
        `${JSON.stringify({ ts: new Date(Number(timestampNanos / 1_000_000n)).toISOString(), level: level.toLowerCase(), component, msg: message, ...meta })}\n`,
      );
    }),
    telemetryOptions: {
      metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } },
      logging: { forward: {}, filter: { core: 'WARN', other: 'WARN' } },
    },
  });
}

export async function connectWorker(config: FlywheelConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.temporal.address });
}

/** Graceful stop on SIGTERM/SIGINT: the SDK finishes in-flight tasks, then run() resolves. */
export function logReady(component: string, taskQueue: string): void {
  Runtime.instance().logger.info('worker ready', { component, taskQueue, pid: process.pid });
}
