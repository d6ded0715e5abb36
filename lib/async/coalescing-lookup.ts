/**
 * Lookups by key from many concurrent requests, coalesced: while `maxInFlight` reads are running,
 * the keys asked for meanwhile wait and go together in the next read. Under a trickle every lookup
 * is read at once; under load each read carries the keys of every request that arrived during the
 * last one, so the number of statements stays near `maxInFlight` per read time instead of one per
 * request. That matters when planning a statement costs more than running it, as for a lookup over a
 * partitioned table (the feedback guard's "is this prediction labelled already", once per label
 * request at a thousand a second, was what saturated PostgreSQL in issue 18's sustained ingestion).
 */
export class CoalescingLookup<K, V> {
  private waiting = new Map<K, Array<{ resolve: (v: V | undefined) => void; reject: (e: unknown) => void }>>();
  private inFlight = 0;

  constructor(
    /** Reads these keys; keys it leaves out have no value. */
    private readonly read: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxInFlight = 1,
  ) {}

  async get(keys: readonly K[]): Promise<Map<K, V>> {
    const out = new Map<K, V>();
    const done = keys.map(
      (k) =>
        new Promise<void>((resolve, reject) => {
          const list = this.waiting.get(k) ?? this.waiting.set(k, []).get(k)!;
          list.push({
            resolve: (v) => {
              if (v !== undefined) out.set(k, v);
              resolve();
            },
            reject,
          });
        }),
    );
    // Whichever caller finds a free slot reads; the rest are served by the reads already running,
    // each of which takes the keys that arrived meanwhile when it ends.
    void this.pump();
    await Promise.all(done);
    return out;
  }

  private async pump(): Promise<void> {
    while (this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      const batch = this.waiting;
      this.waiting = new Map();
      this.inFlight++;
      try {
        const values = await this.read([...batch.keys()]);
        for (const [k, list] of batch) for (const w of list) w.resolve(values.get(k));
      } catch (err) {
        for (const list of batch.values()) for (const w of list) w.reject(err);
      } finally {
        this.inFlight--;
      }
    }
  }
}
