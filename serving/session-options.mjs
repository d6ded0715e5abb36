// The onnxruntime session options of the gateway's session threads, in a module of its own so the
// serving benchmark's bare `session.run` (bench/serving/session-run.ts) builds its session alike.
// One intra-op thread: the pool is the parallelism, and per-session thread pools on a small
// machine would only fight the gateway's own threads for cores.
export const SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
