/**
 * The gateway's default sessions: every model version in the session threads, and small ones also
 * on the event loop, where a run goes once the version's own runs show it costs less than handing
 * it to a thread (lib/serving/placement.ts). A large model never blocks the event loop: it has no
 * session there. FLYWHEEL_GATEWAY_INLINE_MAX_MS=0 keeps every run in the threads; threads=0 puts
 * every run on the event loop (serving/inline-sessions.ts alone).
 *
 * A version's cost is measured when it is loaded, before it takes traffic, by single-row runs of a
 * zero row in the threads: otherwise a new version would serve its first requests through the
 * threads while the version it is compared with runs on the event loop, and a canary judge would
 * see the candidate's latency tail as worse than stable's for a reason that has nothing to do with
 * the model (it did: rollouts.test.ts rolled back a good candidate on "beyond stable p95").
 */
import { PlacementPolicy, type Place } from '../lib/serving/placement';
import type { InlineSessions } from './inline-sessions';
import { fixedDim } from './model-check';
import type { LoadedSignature, RunResult, SessionPool, Sessions } from './session-pool';

/**
 * Models above this size get no session on the event loop: a run of a graph with a million
 * weights costs more than a thread's round trip whatever the policy would learn, and a second
 * session of a large model is memory spent for nothing.
 */
export const INLINE_MAX_MODEL_BYTES = 4 * 1024 * 1024;

export class AdaptiveSessions implements Sessions {
  constructor(
    private readonly threads: SessionPool,
    private readonly inline: InlineSessions,
    private readonly policy: PlacementPolicy,
    /** Told of every run and where it went (the gateway's counter). */
    private readonly onRun: (place: Place) => void = () => undefined,
    private readonly maxInlineBytes = INLINE_MAX_MODEL_BYTES,
  ) {}

  get size(): number {
    return this.threads.size;
  }

  get inFlight(): number {
    return this.threads.inFlight + this.inline.inFlight;
  }

  async load(key: string, bytes: Uint8Array): Promise<LoadedSignature> {
    // A reload of a key is a new session: its cost is learnt again.
    this.policy.forget(key);
    const signature = await this.threads.load(key, bytes);
    if (bytes.byteLength <= this.maxInlineBytes) {
      // onnxruntime-node builds a session synchronously: this blocks the event loop once per
      // version, for milliseconds at this size. Not fatal: without it a version stays in the threads.
      await this.inline.load(key, bytes).catch(() => this.inline.unload(key));
    } else {
      this.inline.unload(key);
    }
    const cols = fixedDim(signature.inputs[0]?.shape?.[1]);
    if (this.inline.has(key) && cols !== undefined) await this.warmUp(key, cols);
    return signature;
  }

  /** The policy's warm-up, before traffic: a failed run leaves the rest to real requests. */
  private async warmUp(key: string, cols: number): Promise<void> {
    for (let i = 0; i < this.policy.warmupRuns; i++) {
      // A new row each time: the pool transfers the buffer to the thread.
      const out = await this.threads.run(key, new Float32Array(cols), 1, cols).catch(() => undefined);
      if (!out) return;
      this.policy.observe(key, 1, out.computeMs);
    }
  }

  unload(key: string): void {
    this.threads.unload(key);
    this.inline.unload(key);
    this.policy.forget(key);
  }

  has(key: string): boolean {
    return this.threads.has(key);
  }

  async run(key: string, data: Float32Array, rows: number, cols: number): Promise<RunResult> {
    const place: Place = this.inline.has(key) ? this.policy.place(key, rows) : 'thread';
    const out = place === 'inline' ? await this.inline.run(key, data, rows, cols) : await this.threads.run(key, data, rows, cols);
    this.policy.observe(key, rows, out.computeMs);
    this.onRun(place);
    return out;
  }

  /** Where a single-row run of `key` goes now, and what the policy has learnt. */
  placement(key: string) {
    return this.policy.view(key);
  }

  async close(): Promise<void> {
    await Promise.all([this.threads.close(), this.inline.close()]);
  }
}
