/**
 * Where one model version's inference runs: on the gateway's event loop or in a session thread.
 *
 * Handing a run to a thread is not free: on the 2-core bench machine the round trip (postMessage
 * both ways, waking the thread) cost the gateway about 0.15 ms of CPU per request, ten times what
 * `session.run` of a 4-feature model costs (docs/benchmarks.md, "Serving against its limit"). A run
 * on the event loop blocks it for the run's whole duration, so only cheap runs belong there.
 *
 * The policy learns each version's cost per row from the runs themselves, as the thread timed them
 * (compute only, no hand-off) and, once inline, as the event loop timed them. A version starts in
 * the threads and moves to the event loop only after `warmupRuns` thread runs say it is cheap
 * (their median); a batch goes inline only while its estimated cost (rows × cost per row, an upper
 * bound: the per-call part is paid once) stays under `inlineMaxMs`. The estimate keeps learning while
 * inline, so a version that turns out slower (a bigger batch shape, a busy machine) goes back.
 */

export interface PlacementOptions {
  /** The most a run may cost on the event loop; 0 keeps every run in the threads. */
  inlineMaxMs: number;
  /** Thread runs observed before a version may run inline. */
  warmupRuns: number;
  /** Weight of each new observation in the running estimate. */
  smoothing: number;
}

export const DEFAULT_PLACEMENT: PlacementOptions = { inlineMaxMs: 0.2, warmupRuns: 64, smoothing: 0.05 };

export type Place = 'inline' | 'thread';

interface Estimate {
  runs: number;
  /** Warm-up samples (ms per row), until the first estimate is taken from their median. */
  warmup: number[];
  /** Running estimate of milliseconds per row. */
  perRowMs: number;
}

/** One observation moves the estimate at most this many times its current value: a thread or the
 * event loop descheduled mid-run (a busy machine) is not the model getting slower, while a model
 * that really is slower still gets there within a few runs. */
const CLIP = 4;

export class PlacementPolicy {
  private readonly estimates = new Map<string, Estimate>();

  constructor(private readonly opts: PlacementOptions = DEFAULT_PLACEMENT) {}

  /** Runs observed before a version may run inline (the load-time warm-up runs as many). */
  get warmupRuns(): number {
    return this.opts.warmupRuns;
  }

  /** Where a run of `rows` rows of `key` should go now. */
  place(key: string, rows: number): Place {
    if (!(this.opts.inlineMaxMs > 0)) return 'thread';
    const e = this.estimates.get(key);
    if (!e || e.runs < this.opts.warmupRuns) return 'thread';
    return e.perRowMs * rows <= this.opts.inlineMaxMs ? 'inline' : 'thread';
  }

  /** A run's own time (compute only), wherever it ran. */
  observe(key: string, rows: number, ms: number): void {
    if (!(rows > 0) || !Number.isFinite(ms) || ms < 0) return;
    const perRow = ms / rows;
    let e = this.estimates.get(key);
    if (!e) {
      e = { runs: 0, warmup: [], perRowMs: Number.NaN };
      this.estimates.set(key, e);
    }
    e.runs++;
    if (e.runs <= this.opts.warmupRuns) {
      e.warmup.push(perRow);
      if (e.runs === this.opts.warmupRuns) {
        // The median: the first runs (cold caches, JIT) and a descheduled one do not count.
        const sorted = e.warmup.sort((a, b) => a - b);
        e.perRowMs = sorted[Math.floor(sorted.length / 2)]!;
        e.warmup = [];
      }
      return;
    }
    const bounded = e.perRowMs > 0 ? Math.min(perRow, CLIP * e.perRowMs) : perRow;
    e.perRowMs += this.opts.smoothing * (bounded - e.perRowMs);
  }

  /** Forgets a version (unloaded): a reload of the same key learns again. */
  forget(key: string): void {
    this.estimates.delete(key);
  }

  /** What the policy believes, for /v1/models and logs. */
  view(key: string): { runs: number; perRowMs: number | null; inlineSingleRow: boolean } | undefined {
    const e = this.estimates.get(key);
    return e && { runs: e.runs, perRowMs: Number.isNaN(e.perRowMs) ? null : e.perRowMs, inlineSingleRow: this.place(key, 1) === 'inline' };
  }
}
