/**
 * Sessions on the gateway's event loop (FLYWHEEL_GATEWAY_THREADS=0), for models whose inference
 * costs less than handing it to a thread: serving bench/serving's 4-feature model, `session.run`
 * takes about 0.02 ms while a session thread's round trip (postMessage there and back, waking the
 * thread) was the largest self time of the gateway's event loop at saturation (docs/benchmarks.md,
 * "Serving against its limit"). A run blocks the event loop for its whole duration: large models
 * belong in session threads.
 */
import * as ort from 'onnxruntime-node';
import { metadataOf, runSession, SESSION_OPTIONS } from './session-core.mjs';
import type { LoadedSignature, RunResult, Sessions } from './session-pool';

interface Entry {
  session: ort.InferenceSession;
  running: number;
  releaseWhenIdle: boolean;
}

export class InlineSessions implements Sessions {
  readonly size = 0;
  private readonly sessions = new Map<string, Entry>();
  private running = 0;

  async load(key: string, bytes: Uint8Array): Promise<LoadedSignature> {
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    const previous = this.sessions.get(key);
    this.sessions.set(key, { session, running: 0, releaseWhenIdle: false });
    if (previous) this.release(previous);
    return { inputs: metadataOf(session.inputMetadata), outputs: metadataOf(session.outputMetadata) };
  }

  /** As in a session thread: the session is released once the runs already started finish. */
  unload(key: string): void {
    const entry = this.sessions.get(key);
    if (!entry) return;
    this.sessions.delete(key);
    this.release(entry);
  }

  private release(entry: Entry): void {
    if (entry.running > 0) entry.releaseWhenIdle = true;
    else void entry.session.release().catch(() => undefined);
  }

  has(key: string): boolean {
    return this.sessions.has(key);
  }

  async run(key: string, data: Float32Array, rows: number, cols: number): Promise<RunResult> {
    const entry = this.sessions.get(key);
    if (!entry) throw new Error(`model version ${key} is not loaded`);
    entry.running++;
    this.running++;
    try {
      return await runSession(entry.session, data, rows, cols);
    } finally {
      entry.running--;
      this.running--;
      if (entry.releaseWhenIdle && entry.running === 0) void entry.session.release().catch(() => undefined);
    }
  }

  get inFlight(): number {
    return this.running;
  }

  async close(): Promise<void> {
    for (const key of [...this.sessions.keys()]) this.unload(key);
  }
}
