/**
 * A map that holds at most `limit` entries by keeping two generations: writes go to the young
 * one; when it is full the old one is dropped and the young one becomes old. Reads look in both
 * (an old hit is promoted). Every operation is O(1): evicting "the oldest key" of a single JS Map
 * instead costs a scan past every deleted slot V8 has not yet compacted, which under steady
 * eviction grows with the map (it showed as the gateway's hottest function).
 */
export class BoundedMap<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(limit: number) {
    this.half = Math.max(1, Math.floor(limit / 2));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.set(key, o);
    }
    return o;
  }

  has(key: K): boolean {
    return this.young.has(key) || this.old.has(key);
  }

  set(key: K, value: V): this {
    if (!this.young.has(key)) {
      this.old.delete(key);
      if (this.young.size >= this.half) {
        this.old = this.young;
        this.young = new Map();
      }
    }
    this.young.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    const a = this.young.delete(key);
    const b = this.old.delete(key);
    return a || b;
  }
}
