/**
 * A quality score per feedback item, in [0, 1], stored with it so consumers can down-weight
 * rather than lose what looks wrong. Four signals, each a multiplicative penalty with a flag:
 *
 *   duplicate     the same content for the same prediction seen recently (without an
 *                 idempotency key, so not a retry): a double-submitted form, a replayed beacon
 *   impossible    a value the world cannot produce: dwell longer than the cap, a label that is
 *                 not one of the model's classes
 *   burst         one source sending faster than a person could: penalty grows with the excess
 *   disagreement  at odds with the unit's history: a rating far from the unit's mean, a second
 *                 different label for one prediction, a click on what the unit dismissed
 *   client_burst_contradiction
 *                 a burst of labels from ONE authenticated client that contradict the predictions
 *                 far more often than other clients' labels for the same unit and model version
 *                 do (`clientBurstContradiction`; its counts are read by the gateway, one bounded
 *                 query per batch). Decisions (canary, A/B, drift) leave such items out by default.
 *
 * `scoreSignals` is the pure combination; `QualityTracker` keeps the bounded, in-memory history
 * the signals are measured against (no I/O; the clock is passed in, so tests replay time).
 */
import { BoundedMap } from './bounded-map';
import type { FeedbackItem } from './channels';

export type QualityFlag = 'duplicate' | 'impossible' | 'burst' | 'disagreement' | 'client_burst_contradiction';

export interface QualitySignals {
  duplicate: boolean;
  /** Why the value is impossible, or null. */
  impossible: string | null;
  /** Items per second from this item's source over the limit (0 when within it). */
  burstExcess: number;
  /** 0 (consistent) … 1 (contradicts the unit's history outright). */
  disagreement: number;
  /** The item belongs to a client's burst of contradicting labels (`clientBurstContradiction`). */
  clientContradiction?: boolean;
}

export interface QualityResult {
  quality: number;
  flags: QualityFlag[];
  /** The impossible value's reason, for logs and responses. */
  reason?: string;
}

export const QUALITY_WEIGHTS = { duplicate: 0.1, impossible: 0.02, minBurst: 0.1, disagreement: 0.7, clientContradiction: 0.1 } as const;

/** Rounded to 1e-3 so the stored real and the reported number agree. */
export function scoreSignals(s: QualitySignals): QualityResult {
  let q = 1;
  const flags: QualityFlag[] = [];
  if (s.duplicate) {
    q *= QUALITY_WEIGHTS.duplicate;
    flags.push('duplicate');
  }
  if (s.impossible) {
    q *= QUALITY_WEIGHTS.impossible;
    flags.push('impossible');
  }
  if (s.burstExcess > 0) {
    // At twice the limit half the weight, never below the floor: a burst may still be genuine.
    q *= Math.max(QUALITY_WEIGHTS.minBurst, 1 / (1 + s.burstExcess));
    flags.push('burst');
  }
  if (s.disagreement > 0) {
    q *= 1 - QUALITY_WEIGHTS.disagreement * Math.min(1, s.disagreement);
    flags.push('disagreement');
  }
  if (s.clientContradiction) {
    q *= QUALITY_WEIGHTS.clientContradiction;
    flags.push('client_burst_contradiction');
  }
  const out: QualityResult = { quality: Math.round(q * 1000) / 1000, flags };
  if (s.impossible) out.reason = s.impossible;
  return out;
}

export interface QualityOptions {
  /** Per source, items per second before the burst penalty starts. */
  burstPerSecond: number;
  /** How long content is remembered for duplicate detection. */
  duplicateWindowMs: number;
  /** Longest believable dwell, in seconds. */
  maxDwellSeconds: number;
  /** Ratings a unit must have given before one is judged against their mean. */
  minRatingsForHistory: number;
  /** Bound on each remembered map: oldest entries go first. */
  maxEntries: number;
}

export const DEFAULT_QUALITY_OPTIONS: QualityOptions = {
  burstPerSecond: 50,
  duplicateWindowMs: 10 * 60_000,
  maxDwellSeconds: 6 * 3600,
  minRatingsForHistory: 3,
  maxEntries: 100_000,
};

interface UnitHistory {
  ratings: number;
  ratingSum: number;
}

interface PredictionHistory {
  label?: string;
  clicked?: boolean;
  dismissed?: boolean;
}

export interface ItemContext {
  /** The classes of the model that made the prediction, when known. */
  classes?: readonly string[];
  /** Flagged by the gateway's client-contradiction check (`clientBurstContradiction`). */
  clientContradiction?: boolean;
}

/** Labels and, among them, those that contradict the prediction they label. */
export interface LabelCounts {
  labels: number;
  contradicting: number;
}

export interface ClientContradictionOptions {
  /** How far back a client's labels and the unit's history are counted. */
  windowMs: number;
  /** Labels from the client (in the window, this batch included) before it can be judged a burst. */
  minLabels: number;
  /** Labels from other clients for the unit before there is a history to contradict. */
  minOtherLabels: number;
  /** The client's contradiction rate must exceed the others' by at least this much… */
  minExcess: number;
  /**
   * …and be this improbable under the others' rate: flagged when n · KL(k/n ‖ p₀) ≥ this
   * (Chernoff: P(X ≥ k | n, p₀) ≤ e^(−n·KL)); ln(10⁴) ≈ 9.2, about one honest client in 10⁴ per look.
   */
  minLogEvidence: number;
  /** Rows each side of the gateway's query reads at most (the query stays bounded under any load). */
  maxRows: number;
}

export const DEFAULT_CLIENT_CONTRADICTION: ClientContradictionOptions = {
  windowMs: 60 * 60_000,
  minLabels: 5,
  minOtherLabels: 20,
  minExcess: 0.2,
  minLogEvidence: Math.log(1e4),
  maxRows: 1000,
};

/**
 * The history a client's labels for one version are judged against: the other clients' labels for
 * that version, or, while it has fewer than `minOtherLabels` (a canary candidate's first minutes,
 * exactly when a forged burst would weigh most), theirs for every version of the model being served.
 */
export function unitHistory(version: LabelCounts, model: LabelCounts, opts: Pick<ClientContradictionOptions, 'minOtherLabels'> = DEFAULT_CLIENT_CONTRADICTION): LabelCounts {
  return version.labels >= opts.minOtherLabels ? version : model;
}

/** Bernoulli KL divergence KL(a ‖ b), with 0·ln 0 = 0. */
function bernoulliKl(a: number, b: number): number {
  const t = (x: number, y: number) => (x === 0 ? 0 : x * Math.log(x / y));
  return t(a, b) + t(1 - a, 1 - b);
}

/**
 * Whether a client's labels for one unit (a unit key, else the whole model) and model version are a
 * burst that contradicts the unit's history: enough of them, and contradicting the predictions far
 * more often than the other clients' labels for the same unit and version do. Per version, so a
 * forger cannot hide wrong labels for a canary candidate among agreeing labels for the stable version.
 * Without a history from others (a single labelling client) nothing is flagged: there is nothing
 * to contradict. Pure; the counts come from the gateway (serving/feedback-trust.ts).
 */
export function clientBurstContradiction(mine: LabelCounts, others: LabelCounts, opts: ClientContradictionOptions = DEFAULT_CLIENT_CONTRADICTION): boolean {
  if (mine.labels < opts.minLabels || others.labels < opts.minOtherLabels) return false;
  // The others' rate, smoothed (one of each) so a perfect history is not a rate of exactly 0.
  const p0 = (others.contradicting + 1) / (others.labels + 2);
  const r = mine.contradicting / mine.labels;
  if (r < p0 + opts.minExcess) return false;
  return mine.labels * bernoulliKl(r, p0) >= opts.minLogEvidence;
}

export class QualityTracker {
  private readonly opts: QualityOptions;
  private readonly seen: BoundedMap<string, number>;
  private readonly units: BoundedMap<string, UnitHistory>;
  private readonly predictions: BoundedMap<string, PredictionHistory>;
  private readonly rates: BoundedMap<string, { second: number; count: number; previous: number }>;

  constructor(opts: Partial<QualityOptions> = {}) {
    this.opts = { ...DEFAULT_QUALITY_OPTIONS, ...opts };
    this.seen = new BoundedMap(this.opts.maxEntries);
    this.units = new BoundedMap(this.opts.maxEntries);
    this.predictions = new BoundedMap(this.opts.maxEntries);
    this.rates = new BoundedMap(this.opts.maxEntries);
  }

  /** Scores one item and then remembers it; call in arrival order. */
  score(item: FeedbackItem, nowMs: number, ctx: ItemContext = {}): QualityResult {
    const signals: QualitySignals = {
      duplicate: this.duplicate(item, nowMs),
      impossible: this.impossible(item, ctx),
      burstExcess: this.burst(item, nowMs),
      disagreement: this.disagreement(item),
      clientContradiction: ctx.clientContradiction === true,
    };
    this.remember(item);
    return scoreSignals(signals);
  }

  /**
   * Undoes what `score` remembered of an item that was never stored (its write failed), so the
   * client's retry is not taken for a duplicate nor counted twice in the unit's ratings.
   */
  forget(item: FeedbackItem): void {
    if (item.idempotencyKey === null) this.seen.delete(fingerprint(item));
    if (item.kind === 'rating') {
      const u = this.units.get(unitOf(item));
      if (u && u.ratings > 0) {
        u.ratings--;
        u.ratingSum -= item.value!;
      }
    }
  }

  private duplicate(item: FeedbackItem, nowMs: number): boolean {
    // A keyed repeat is a retry and is answered from the stored row; it never reaches scoring.
    if (item.idempotencyKey !== null) return false;
    const fp = fingerprint(item);
    const last = this.seen.get(fp);
    this.seen.set(fp, nowMs);
    return last !== undefined && nowMs - last <= this.opts.duplicateWindowMs;
  }

  private impossible(item: FeedbackItem, ctx: ItemContext): string | null {
    if (item.kind === 'dwell' && item.value !== null && item.value > this.opts.maxDwellSeconds) {
      return `dwell of ${item.value} s is longer than ${this.opts.maxDwellSeconds} s`;
    }
    if (item.kind === 'label' && ctx.classes && !ctx.classes.includes(item.label!)) {
      return `label ${item.label} is not one of the model's classes`;
    }
    if ((item.kind === 'click' || item.kind === 'copy' || item.kind === 'dismiss') && item.value !== null && item.value < 0) {
      return `${item.kind} with a negative value`;
    }
    return null;
  }

  /** Rate over the current and the previous whole second, weighted by how far into this one we are. */
  private burst(item: FeedbackItem, nowMs: number): number {
    if (item.source === null) return 0;
    const second = Math.floor(nowMs / 1000);
    let r = this.rates.get(item.source);
    if (!r || second - r.second > 1) r = { second, count: 0, previous: 0 };
    else if (second !== r.second) r = { second, count: 0, previous: r.count };
    r.count++;
    this.rates.set(item.source, r);
    const into = (nowMs % 1000) / 1000;
    const rate = r.count + r.previous * (1 - into);
    const excess = rate / this.opts.burstPerSecond - 1;
    return excess > 0 ? excess : 0;
  }

  private disagreement(item: FeedbackItem): number {
    const p = this.predictions.get(item.predictionId);
    if (item.kind === 'label') return p?.label !== undefined && p.label !== item.label ? 1 : 0;
    if (item.kind === 'click' && p?.dismissed) return 0.5;
    if (item.kind === 'dismiss' && p?.clicked) return 0.5;
    if (item.kind === 'rating') {
      const u = this.units.get(unitOf(item));
      if (!u || u.ratings < this.opts.minRatingsForHistory) return 0;
      // A point either way is taste; four points (the whole 1–5 scale) contradicts the history.
      return Math.max(0, Math.abs(item.value! - u.ratingSum / u.ratings) - 1) / 3;
    }
    return 0;
  }

  private remember(item: FeedbackItem): void {
    if (item.kind === 'rating') {
      const key = unitOf(item);
      const u = this.units.get(key) ?? { ratings: 0, ratingSum: 0 };
      u.ratings++;
      u.ratingSum += item.value!;
      this.units.set(key, u);
    }
    if (item.kind === 'label' || item.kind === 'click' || item.kind === 'dismiss') {
      const p = this.predictions.get(item.predictionId) ?? {};
      if (item.kind === 'label') p.label ??= item.label!;
      else if (item.kind === 'click') p.clicked = true;
      else p.dismissed = true;
      this.predictions.set(item.predictionId, p);
    }
  }
}

function fingerprint(item: FeedbackItem): string {
  return `${item.predictionId}|${item.kind}|${item.value}|${item.label}|${item.event}|${item.comment}`;
}

/** Without a unit key the prediction itself is the unit. */
function unitOf(item: FeedbackItem): string {
  return item.unitKey ?? `prediction:${item.predictionId}`;
}
