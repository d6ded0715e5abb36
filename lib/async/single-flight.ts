/**
 * One read at a time per key: callers that ask for a key while its read is running share that
 * read's result, and after a failed read every caller for `backoffMs` gets the failure at once
 * instead of starting another. A cache refreshed by whichever request finds it stale (the feedback
 * trust check's counts) otherwise starts one read per concurrent request the moment it expires —
 * hundreds of the same slow query at a thousand requests a second — and, when they time out, keeps
 * doing so, since none of them ever fills the cache.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();
  private readonly failed = new Map<string, { at: number; error: unknown }>();

  constructor(
    private readonly backoffMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  run(key: string, read: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running) return running;
    const f = this.failed.get(key);
    if (f && this.now() - f.at < this.backoffMs) return Promise.reject(f.error);
    this.failed.delete(key);
    const p = read().then(
      (v) => {
        this.running.delete(key);
        return v;
      },
      (error: unknown) => {
        this.running.delete(key);
        this.failed.set(key, { at: this.now(), error });
        throw error;
      },
    );
    this.running.set(key, p);
    return p;
  }
}
