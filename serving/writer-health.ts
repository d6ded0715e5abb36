/**
 * Whether a batched writer is keeping up. A writer that answers requests before it writes (the
 * prediction recorder, the online-prediction writer) can fail silently: requests still get 200
 * while nothing reaches PostgreSQL. So each writer reports here, and /healthz turns 503 with the
 * reason when one is stuck (its oldest pending row waits too long, or its writes keep failing) or
 * has dropped rows recently; the same facts are Prometheus metrics, per writer.
 */
import type { GatewayMetrics } from './metrics';
import type { WriterName } from './dead-letters';

export interface WriterLimits {
  /** The oldest pending row may wait this long before the writer counts as stuck. */
  stuckAfterMs: number;
  /** This many failed writes in a row (no success between) count as stuck. */
  maxConsecutiveFailures: number;
  /** A dropped row keeps the writer unhealthy this long. */
  dropWindowMs: number;
}

export const DEFAULT_WRITER_LIMITS: WriterLimits = { stuckAfterMs: 30_000, maxConsecutiveFailures: 5, dropWindowMs: 60_000 };

export interface WriterState {
  /** When the oldest row still waiting to be written arrived (epoch ms); undefined when none waits. */
  oldestPendingAt: number | undefined;
  consecutiveFailures: number;
  lastError: string | undefined;
  lastDropAt: number | undefined;
}

/** Why the writer is unhealthy, or undefined. Pure: the judgement is unit-tested on its own. */
export function writerProblem(name: string, s: WriterState, now: number, limits: WriterLimits = DEFAULT_WRITER_LIMITS): string | undefined {
  const why = s.lastError ? ` (last error: ${s.lastError})` : '';
  if (s.oldestPendingAt !== undefined && now - s.oldestPendingAt > limits.stuckAfterMs) {
    return `${name} writer stuck: oldest pending row waiting ${Math.round((now - s.oldestPendingAt) / 1000)} s${why}`;
  }
  if (s.consecutiveFailures >= limits.maxConsecutiveFailures) return `${name} writer failing: ${s.consecutiveFailures} writes in a row failed${why}`;
  if (s.lastDropAt !== undefined && now - s.lastDropAt < limits.dropWindowMs) return `${name} writer dropped rows ${Math.round((now - s.lastDropAt) / 1000)} s ago`;
  return undefined;
}

/** The part of a writer the gateway watches. */
export interface MonitoredWriter {
  readonly monitor: WriterMonitor;
  oldestPendingAt(): number | undefined;
}

export class WriterMonitor {
  private consecutiveFailures = 0;
  private lastError: string | undefined;
  private lastDropAt: number | undefined;

  constructor(
    readonly writer: WriterName,
    private readonly metrics: Pick<GatewayMetrics, 'writerDeadLetters' | 'writerDropped' | 'writerFailures' | 'writerOldestPending'> | undefined,
    private readonly limits: WriterLimits = DEFAULT_WRITER_LIMITS,
  ) {
    // Every writer's counters exist from the start at 0: a series that appears only with its first
    // failure hides that failure from increase() and leaves dashboards empty in a healthy gateway.
    for (const c of [metrics?.writerDeadLetters, metrics?.writerDropped, metrics?.writerFailures]) c?.inc({ writer }, 0);
  }

  succeeded(): void {
    this.consecutiveFailures = 0;
  }

  /** A write failed for a reason other than its rows: the rows wait for a retry. */
  failed(err: Error): void {
    this.consecutiveFailures++;
    this.lastError = err.message;
    this.metrics?.writerFailures.inc({ writer: this.writer });
  }

  deadLettered(n: number): void {
    if (n > 0) this.metrics?.writerDeadLetters.inc({ writer: this.writer }, n);
  }

  dropped(n: number, now = Date.now()): void {
    if (n <= 0) return;
    this.lastDropAt = now;
    this.metrics?.writerDropped.inc({ writer: this.writer }, n);
  }

  problem(oldestPendingAt: number | undefined, now = Date.now()): string | undefined {
    this.metrics?.writerOldestPending.set({ writer: this.writer }, oldestPendingAt === undefined ? 0 : Math.max(0, now - oldestPendingAt) / 1000);
    const state = { oldestPendingAt, consecutiveFailures: this.consecutiveFailures, lastError: this.lastError, lastDropAt: this.lastDropAt };
    return writerProblem(this.writer, state, now, this.limits);
  }
}

/** The reasons the writers are unhealthy now (empty when all are fine); refreshes their gauges. */
export function writerProblems(writers: readonly MonitoredWriter[], now = Date.now()): string[] {
  const out: string[] = [];
  for (const w of writers) {
    const p = w.monitor.problem(w.oldestPendingAt(), now);
    if (p) out.push(p);
  }
  return out;
}
