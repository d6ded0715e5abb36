/**
 * Process-wide setup shared by the workers: structured JSON logs, Prometheus metrics from the
 * SDK's core, and the connection to Temporal. Runtime.install must run before any connection.
 */
import { startTracing } from '../clients/tracing';
import { DefaultLogger, NativeConnection, Runtime, type LogEntry } from '@temporalio/worker';
import { temporalConnectionOptions } from '../clients/temporal';
import { SHUTDOWN_FORCE_MARGIN_SECONDS, type FlywheelConfig } from '../config/index';
import { DURATION_BUCKETS } from '../activities/domain-metrics';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** The Python worker sets the same (gpu-worker/flywheel_gpu_worker/worker.py): one naming across pools. */
export const PROMETHEUS_NAMING = { countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } as const;

export function installRuntime(config: FlywheelConfig, component: string, metricsPort: number): void {
  startTracing(component);
  const minLevel = config.logLevel.toUpperCase() as (typeof LEVELS)[number];
  Runtime.install({
    logger: new DefaultLogger(minLevel, (entry: LogEntry) => {
      const { level, message, meta, timestampNanos } = entry;
      process.stdout.write(
        `${JSON.stringify({ ts: new Date(Number(timestampNanos / 1_000_000n)).toISOString(), level: level.toLowerCase(), component, msg: message, ...meta })}\n`,
      );
    }),
    telemetryOptions: {
      // Prometheus conventions (what stock Temporal SDK dashboards expect): counters end in _total,
      // durations in seconds with the unit in the name (temporal_activity_schedule_to_start_latency_seconds).
      metrics: { prometheus: { bindAddress: `${metricsBindHost(config.metrics.host)}:${metricsPort}`, ...PROMETHEUS_NAMING, histogramBucketOverrides: DURATION_BUCKETS } },
      logging: { forward: {}, filter: { core: 'WARN', other: 'WARN' } },
    },
  });
}

/** An IPv6 literal is bracketed in a bind address. */
export function metricsBindHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export async function connectWorker(config: FlywheelConfig): Promise<NativeConnection> {
  // The same address, TLS/mTLS and API key as every client connection (clients/temporal.ts).
  return NativeConnection.connect(temporalConnectionOptions(config));
}

export function logReady(component: string, taskQueue: string): void {
  Runtime.instance().logger.info('worker ready', { component, taskQueue, pid: process.pid });
}

/**
 * Drain on SIGTERM/SIGINT (the Runtime turns those signals into Worker.shutdown()): polling stops
 * at once, in-flight activities get `shutdownGraceSeconds` to finish, then they are cancelled (a
 * training sees it at its next heartbeat and its retry resumes from the last epoch's checkpoint).
 * The SDK's own default grace time is 0: without this, SIGTERM cancels everything at once.
 * After a further SHUTDOWN_FORCE_MARGIN_SECONDS run() gives up on activities that ignore
 * cancellation, so the process always exits: Kubernetes' terminationGracePeriodSeconds must exceed both.
 */
export function shutdownOptions(config: FlywheelConfig): { shutdownGraceTime: number; shutdownForceTime: number } {
  return { shutdownGraceTime: config.shutdownGraceSeconds * 1000, shutdownForceTime: (config.shutdownGraceSeconds + SHUTDOWN_FORCE_MARGIN_SECONDS) * 1000 };
}

/** Says in the log that a drain began and how long it may take (the SDK's own shutdown is silent). */
export function logDrainOnSignal(component: string, config: FlywheelConfig): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => Runtime.instance().logger.info('draining: polling stopped, in-flight activities may finish', { component, signal, graceSeconds: config.shutdownGraceSeconds }));
  }
}
