/**
 * Two ways to drive a server. Closed loop: N connections, each sends its next request when the
 * last one is answered (measures throughput). Open loop: requests start on a fixed schedule
 * whether or not earlier ones were answered (measures latency at a given rate, without the
 * closed loop's habit of slowing down exactly when the server does).
 */
import { LatencyRecorder, type LatencySummary } from './latency';

/** One request; resolves true when it succeeded. */
export type Send = (i: number) => Promise<boolean>;

export interface LoadResult {
  mode: 'closed' | 'open';
  sent: number;
  ok: number;
  failed: number;
  elapsedS: number;
  throughputRps: number;
  latency: LatencySummary;
  /** Open loop only: how late the client started requests (its own lag, not the server's). */
  maxScheduleLagMs?: number;
}

function finish(mode: LoadResult['mode'], sent: number, ok: number, t0: number, latency: LatencyRecorder, extra: Partial<LoadResult> = {}): LoadResult {
  const elapsedS = (performance.now() - t0) / 1000;
  return { mode, sent, ok, failed: sent - ok, elapsedS: Math.round(elapsedS * 1000) / 1000, throughputRps: Math.round(ok / elapsedS), latency: latency.summary(), ...extra };
}

/** `from`: when the request's clock starts; by default when it is sent. */
async function timed(send: Send, i: number, latency: LatencyRecorder, from = performance.now()): Promise<boolean> {
  const t = from;
  let ok = false;
  try {
    ok = await send(i);
  } catch {
    ok = false;
  }
  latency.add(performance.now() - t);
  return ok;
}

export async function closedLoop(opts: { connections: number; durationMs: number; send: Send }): Promise<LoadResult> {
  const latency = new LatencyRecorder();
  const t0 = performance.now();
  const end = t0 + opts.durationMs;
  let sent = 0;
  let ok = 0;
  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      while (performance.now() < end) {
        const i = sent++;
        if (await timed(opts.send, i, latency)) ok++;
      }
    }),
  );
  return finish('closed', sent, ok, t0, latency);
}

/**
 * `fromSchedule`: count each request's latency from the time it was due, not from when it was
 * sent, so a stall (the server's or the client's) counts against every request it delays — no
 * coordinated omission. Off by default, as the figures recorded before it were measured.
 */
export async function openLoop(opts: { rate: number; durationMs: number; send: Send; maxInFlight?: number; fromSchedule?: boolean }): Promise<LoadResult> {
  const latency = new LatencyRecorder();
  const t0 = performance.now();
  const total = Math.floor((opts.rate * opts.durationMs) / 1000);
  const maxInFlight = opts.maxInFlight ?? 10_000;
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let ok = 0;
  let maxLag = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - t0) * opts.rate) / 1000) + 1);
    while (sent < due && inFlight.size < maxInFlight) {
      const dueAt = t0 + (sent * 1000) / opts.rate;
      maxLag = Math.max(maxLag, now - dueAt);
      const p = timed(opts.send, sent, latency, opts.fromSchedule ? dueAt : undefined).then((good) => {
        if (good) ok++;
        inFlight.delete(p);
      });
      inFlight.add(p);
      sent++;
    }
    const next = t0 + (sent * 1000) / opts.rate;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await Promise.all(inFlight);
  return finish('open', sent, ok, t0, latency, { maxScheduleLagMs: Math.round(maxLag * 100) / 100 });
}
