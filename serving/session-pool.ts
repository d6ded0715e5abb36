/**
 * The gateway's worker threads, each holding its own onnxruntime session of every loaded model
 * version. A run goes to the thread with the fewest runs in flight. A thread that dies is
 * replaced and given back every loaded model; its runs in flight fail (the gateway answers 500).
 */
import { Worker } from 'node:worker_threads';
import type { IoMetadata } from './model-check';

const THREAD_ENTRY = new URL('./session-thread.mjs', import.meta.url);

export interface RunResult {
  /** Row-major [rows, classes]. */
  probabilities: Float32Array;
  /** Class index per row. */
  labels: Int32Array;
  /** The run's own time, without any hand-off (serving/session-core.mjs). */
  computeMs: number;
}

export interface LoadedSignature {
  inputs: IoMetadata[];
  outputs: IoMetadata[];
}

/** What the catalog and the routes need of the sessions, wherever they run. */
export interface Sessions {
  /** Session threads; 0 when inference runs on the event loop (inline-sessions.ts). */
  readonly size: number;
  readonly inFlight: number;
  load(key: string, bytes: Uint8Array): Promise<LoadedSignature>;
  unload(key: string): void;
  has(key: string): boolean;
  run(key: string, data: Float32Array, rows: number, cols: number): Promise<RunResult>;
  close(): Promise<void>;
}

type Pending = { resolve: (r: RunResult) => void; reject: (e: Error) => void };
type PendingLoad = { resolve: (s: LoadedSignature) => void; reject: (e: Error) => void };

interface Thread {
  worker: Worker;
  inFlight: Map<number, Pending>;
  loads: Map<string, PendingLoad>;
  /** False while a replacement thread is still loading the models. */
  ready: boolean;
}

type ThreadMessage =
  | { op: 'result'; id: number; probabilities: Float32Array; labels: Int32Array; computeMs: number }
  | { op: 'error'; id: number; error: string }
  | { op: 'loaded'; key: string; inputs: IoMetadata[]; outputs: IoMetadata[] }
  | { op: 'failed'; key: string; error: string };

export class SessionPool implements Sessions {
  private readonly threads: Thread[] = [];
  /** Bytes of every loaded model, to reload a replacement thread. */
  private readonly models = new Map<string, Uint8Array>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number, private readonly onThreadExit: (error: string) => void = () => undefined) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn(i));
  }

  private spawn(index: number): Thread {
    const worker = new Worker(THREAD_ENTRY);
    const thread: Thread = { worker, inFlight: new Map(), loads: new Map(), ready: true };
    worker.on('message', (msg: ThreadMessage) => {
      if (msg.op === 'result' || msg.op === 'error') {
        const p = thread.inFlight.get(msg.id);
        if (!p) return;
        thread.inFlight.delete(msg.id);
        if (msg.op === 'result') p.resolve({ probabilities: msg.probabilities, labels: msg.labels, computeMs: msg.computeMs });
        else p.reject(new Error(msg.error));
      } else {
        const p = thread.loads.get(msg.key);
        if (!p) return;
        thread.loads.delete(msg.key);
        if (msg.op === 'loaded') p.resolve({ inputs: msg.inputs, outputs: msg.outputs });
        else p.reject(new Error(msg.error));
      }
    });
    // 'error' is followed by 'exit'; only 'exit' replaces the thread.
    worker.on('error', () => undefined);
    worker.on('exit', (code) => {
      const why = `session thread ${index} exited (code ${code})`;
      for (const p of thread.inFlight.values()) p.reject(new Error(why));
      for (const p of thread.loads.values()) p.reject(new Error(why));
      if (this.closed) return;
      this.onThreadExit(why);
      const replacement = this.spawn(index);
      replacement.ready = false;
      this.threads[index] = replacement;
      void Promise.all([...this.models].map(([key, bytes]) => this.loadInto(replacement, key, bytes).catch(() => undefined))).then(() => {
        replacement.ready = true;
      });
    });
    return thread;
  }

  private loadInto(thread: Thread, key: string, bytes: Uint8Array): Promise<LoadedSignature> {
    return new Promise((resolve, reject) => {
      thread.loads.get(key)?.reject(new Error(`load of ${key} superseded`));
      thread.loads.set(key, { resolve, reject });
      // A copy per thread: transferring would hand the one buffer to the first thread only.
      thread.worker.postMessage({ op: 'load', key, bytes });
    });
  }

  /** Loads a model into every thread; resolves with its signature once all have it. */
  async load(key: string, bytes: Uint8Array): Promise<LoadedSignature> {
    const results = await Promise.allSettled(this.threads.map((t) => this.loadInto(t, key, bytes)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.unload(key);
      throw failed.reason as Error;
    }
    this.models.set(key, bytes);
    return (results[0] as PromiseFulfilledResult<LoadedSignature>).value;
  }

  /** Threads release the session once the runs already sent to it have finished. */
  unload(key: string): void {
    this.models.delete(key);
    for (const t of this.threads) t.worker.postMessage({ op: 'unload', key });
  }

  has(key: string): boolean {
    return this.models.has(key);
  }

  run(key: string, data: Float32Array, rows: number, cols: number): Promise<RunResult> {
    let best: Thread | undefined;
    for (const t of this.threads) if (t.ready && (!best || t.inFlight.size < best.inFlight.size)) best = t;
    if (!best) return Promise.reject(new Error('no session thread is ready'));
    const id = this.nextId++;
    const thread = best;
    return new Promise<RunResult>((resolve, reject) => {
      thread.inFlight.set(id, { resolve, reject });
      thread.worker.postMessage({ op: 'run', id, key, data, rows, cols }, [data.buffer as ArrayBuffer]);
    });
  }

  get inFlight(): number {
    return this.threads.reduce((n, t) => n + t.inFlight.size, 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
