/**
 * Which served rows keep their features, and in what form (issue 15, feature logging): a per-model
 * sampling rate, a daily row budget so a traffic spike cannot fill the database, and columns to
 * drop (stored as NULL) or hash (stored as a stable pseudonym) before anything is written.
 * Pure: the gateway (serving/feature-logger.ts) feeds it rows, a random draw and the clock.
 */

export interface FeatureLogPolicy {
  /** Share of served rows whose features are kept, in [0, 1]. */
  sampleRate: number;
  /** Rows with features kept per model per UTC day (per gateway process); 0 keeps none. */
  dailyRowBudget: number;
  /** 0-based feature columns never stored (NULL in the stored array). */
  drop: readonly number[];
  /** 0-based feature columns stored as a hash of the value (equal values, equal hashes). */
  hash: readonly number[];
}

export type Decision = 'logged' | 'sampled-out' | 'over-budget';

const DAY_MS = 86_400_000;

/**
 * Counts rows kept per model within the current UTC day. A new day starts a fresh count, so the
 * budget bounds storage per day rather than stopping logging for good once reached.
 */
export class DailyBudget {
  private day = -1;
  private used = new Map<string, number>();

  /** Takes one row of `model`'s budget; false when the day's budget is spent. */
  take(model: string, budget: number, nowMs: number): boolean {
    const day = Math.floor(nowMs / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.used.clear();
    }
    const used = this.used.get(model) ?? 0;
    if (used >= budget) return false;
    this.used.set(model, used + 1);
    return true;
  }
}

/** Sampling first (so a sampled-out row never spends budget), then the budget. */
export function decide(policy: FeatureLogPolicy, budget: DailyBudget, model: string, draw: number, nowMs: number): Decision {
  if (!(draw < policy.sampleRate)) return 'sampled-out';
  return budget.take(model, policy.dailyRowBudget, nowMs) ? 'logged' : 'over-budget';
}

/**
 * A float32 value's pseudonym: FNV-1a over the salt, the column and the value's 32 bits, folded to
 * 24 bits so it is exact in a float32 column. Equal values map to equal pseudonyms (a hashed id
 * still groups), the raw value is not stored. Not a secret-keyed hash: a small domain can be
 * enumerated by anyone who knows the salt, so drop a column that must not be recoverable.
 */
export function hashValue(value: number, column: number, salt: string): number {
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (let i = 0; i < salt.length; i++) {
    const c = salt.charCodeAt(i);
    mix(c);
    mix(c >>> 8);
  }
  mix(column);
  mix(column >>> 8);
  const bits = new Uint32Array(Float32Array.of(value).buffer)[0]!;
  for (let s = 0; s < 32; s += 8) mix(bits >>> s);
  return (h ^ (h >>> 24)) & 0xffffff;
}

/** Row `r` of a row-major matrix as it is stored: dropped columns NULL, hashed ones pseudonyms. */
export function maskedRow(matrix: Float32Array, r: number, nFeatures: number, policy: FeatureLogPolicy, salt: string): Array<number | null> {
  const out: Array<number | null> = new Array(nFeatures);
  for (let i = 0; i < nFeatures; i++) out[i] = matrix[r * nFeatures + i]!;
  for (const c of policy.hash) if (c < nFeatures) out[c] = hashValue(out[c] as number, c, salt);
  for (const c of policy.drop) if (c < nFeatures) out[c] = null;
  return out;
}

/** A PostgreSQL array literal (`{1.5,NULL,2}`) of a stored row: the recorder sends one per row. */
export function arrayLiteral(row: ReadonlyArray<number | null>): string {
  return `{${row.map((v) => (v === null ? 'NULL' : String(v))).join(',')}}`;
}
