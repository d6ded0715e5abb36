// One worker thread of the gateway's session pool: it owns an onnxruntime session per loaded
// model version and runs inferences off the gateway's event loop (session.run holds the thread it
// runs on). Plain JavaScript so a thread starts without a TypeScript loader: less memory per thread.
//
// Messages in:  { op: 'load', key, bytes } | { op: 'unload', key } | { op: 'run', id, key, data, rows, cols }
// Messages out: { op: 'loaded', key, inputs, outputs } | { op: 'failed', key, error }
//               { op: 'result', id, probabilities, labels, computeMs } | { op: 'error', id, error }
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { metadataOf, runSession, SESSION_OPTIONS } from './session-core.mjs';

/** key → { session, running, unloadWhenIdle } */
const sessions = new Map();

async function load({ key, bytes }) {
  try {
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    const previous = sessions.get(key);
    sessions.set(key, { session, running: 0, unloadWhenIdle: false });
    if (previous) await release(previous);
    parentPort.postMessage({ op: 'loaded', key, inputs: metadataOf(session.inputMetadata), outputs: metadataOf(session.outputMetadata) });
  } catch (err) {
    parentPort.postMessage({ op: 'failed', key, error: err instanceof Error ? err.message : String(err) });
  }
}

async function release(entry) {
  if (entry.running > 0) {
    entry.unloadWhenIdle = true;
    return;
  }
  await entry.session.release().catch(() => undefined);
}

async function unload({ key }) {
  const entry = sessions.get(key);
  if (!entry) return;
  sessions.delete(key);
  await release(entry);
}

async function run({ id, key, data, rows, cols }) {
  const entry = sessions.get(key);
  if (!entry) {
    parentPort.postMessage({ op: 'error', id, error: `model version ${key} is not loaded in this thread` });
    return;
  }
  entry.running++;
  try {
    const { probabilities: probs, labels, computeMs } = await runSession(entry.session, data, rows, cols);
    parentPort.postMessage({ op: 'result', id, probabilities: probs, labels, computeMs }, [probs.buffer, labels.buffer]);
  } catch (err) {
    parentPort.postMessage({ op: 'error', id, error: err instanceof Error ? err.message : String(err) });
  } finally {
    entry.running--;
    if (entry.unloadWhenIdle && entry.running === 0) await entry.session.release().catch(() => undefined);
  }
}

parentPort.on('message', (msg) => {
  if (msg.op === 'run') void run(msg);
  else if (msg.op === 'load') void load(msg);
  else if (msg.op === 'unload') void unload(msg);
});
