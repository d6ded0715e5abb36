/**
 * The model's own cost in the serving benchmark: onnxruntime-node `session.run` in this process on
 * the rows the servers get, one call after another (no HTTP, no threads), with the gateway's
 * session options. Latency per call and calls per second.
 */
import * as ort from 'onnxruntime-node';
import { LatencyRecorder, type LatencySummary } from '../../traffic/latency';
import { SESSION_OPTIONS } from '../../serving/session-core.mjs';

export interface SessionRunResult {
  calls: number;
  callsPerS: number;
  latency: LatencySummary;
}

export async function measureSessionRun(bytes: Uint8Array, rows: number[][], durationMs: number): Promise<SessionRunResult> {
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  const input = session.inputNames[0]!;
  const cols = rows[0]!.length;
  const run = (i: number) => session.run({ [input]: new ort.Tensor('float32', Float32Array.from(rows[i % rows.length]!), [1, cols]) });
  for (let i = 0; i < 2_000; i++) await run(i); // warm-up
  const latency = new LatencyRecorder();
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < durationMs) {
    const t = performance.now();
    await run(calls++);
    latency.add(performance.now() - t);
  }
  const elapsedS = (performance.now() - t0) / 1000;
  await session.release();
  return { calls, callsPerS: Math.round(calls / elapsedS), latency: latency.summary() };
}
