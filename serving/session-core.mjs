// What every onnxruntime session of the gateway shares, whether it runs in a session thread
// (session-thread.mjs) or on the event loop (inline-sessions.ts), and the serving benchmark's bare
// `session.run` (bench/serving/session-run.ts). Plain JavaScript: a thread loads it without a
// TypeScript loader.
import * as ort from 'onnxruntime-node';

// One intra-op thread: the pool is the parallelism, and per-session thread pools on a small
// machine would only fight the gateway's own threads for cores.
export const SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

export function metadataOf(list) {
  return list.map((m) => ({ name: m.name, isTensor: m.isTensor, type: m.type, shape: m.shape ? [...m.shape] : undefined }));
}

/**
 * Runs rows × cols features; resolves with row-major probabilities, a class index per row and
 * `computeMs`, the run's own time (lib/serving/placement.ts decides from it where runs go).
 *
 * onnxruntime-node runs a session synchronously inside a setImmediate callback, so timing the
 * await would also count whatever the event loop did before that callback. An immediate queued
 * just before `session.run` runs right before its one (immediates run in order, and nothing is
 * awaited between the two); the continuation here runs in the microtasks right after the run's.
 */
export async function runSession(session, data, rows, cols) {
  const input = session.inputNames[0];
  let started = 0;
  setImmediate(() => {
    started = performance.now();
  });
  const out = await session.run({ [input]: new ort.Tensor('float32', data, [rows, cols]) });
  const computeMs = performance.now() - started;
  const probabilities = out.probabilities.data;
  const k = probabilities.length / rows;
  const labels = new Int32Array(rows);
  if (out.label) {
    for (let r = 0; r < rows; r++) labels[r] = Number(out.label.data[r]);
  } else {
    // Models without a label output: the most probable class.
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (probabilities[r * k + j] > probabilities[r * k + best]) best = j;
      labels[r] = best;
    }
  }
  return { probabilities: new Float32Array(probabilities), labels, computeMs };
}
