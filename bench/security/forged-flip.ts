/**
 * How many forged "wrong" labels from ONE authenticated client it takes to make the canary's
 * sequential judge roll back a candidate that is exactly as good as the stable version.
 *
 * The canary is simulated the way bench/decisions/canary-sim.ts does it: the default steps and
 * analysis, a look every interval, each look fed the counts collectRolloutWindow would return
 * (requests, errors, latencies above the judge's thresholds, first labels), both versions with
 * accuracy 0.90, error rate 0.5 %, the same latency. The forger — holding the `predict` and
 * `feedback` scopes — makes its own predictions and labels those the candidate answered wrong, in
 * one of several patterns (all F at the first look; or k per look, k = 1, 4, 16, from the first look
 * until F are spent). The smallest F that makes the canary roll back within HORIZON_S is found per
 * seed and pattern, and the forger's best pattern kept (F = 0 rollbacks, the judge's own false
 * alarms, are left out and counted).
 *
 * Defences compared, each as collectRolloutWindow would count after the gateway stored the labels:
 *   before      every authenticated label counts (no client filtering or down-weighting)
 *   burst-rule  clientBurstContradiction (lib/feedback/quality.ts), judged as the gateway does: the
 *               forger's labels in the window so far against the other clients' history of the
 *               version (or, while it has too few, of the model's served versions); a flagged label
 *               does not count. The forger sends one label per request (its best granularity: the
 *               labels before the count becomes a flagged burst get through).
 *   dilute      the same rule, and the forger hides its wrong labels among agreeing ones for its own
 *               candidate predictions, as few as it takes never to be flagged; all of them count
 *   allow-list  the model's decision_feedback_clients does not name the forger: nothing counts
 *
 *   npx tsx bench/security/forged-flip.ts [--seeds 40] [--rate 20] [--coverage 0.2]
 */
import { createRng, type Rng } from '../../lib/random';
import { clientBurstContradiction, DEFAULT_CLIENT_CONTRADICTION, unitHistory, type LabelCounts } from '../../lib/feedback/quality';
import { initialJudgeState, judgeWindow, windowThresholds, type JudgeState, type VersionWindow } from '../../lib/rollout/sequential-judge';
import { DEFAULT_ANALYSIS, DEFAULT_STEPS } from '../../lib/rollout/spec';
import { isUnanalysedFinalStep, stepAction } from '../../lib/rollout/step-controller';

type Defence = 'before' | 'burst-rule' | 'dilute' | 'allow-list';
const DEFENCES: Defence[] = ['before', 'burst-rule', 'dilute', 'allow-list'];
/** Forged labels per look; Infinity: all at the first look. */
const PATTERNS = [Infinity, 1, 4, 16];

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const SEEDS = arg('seeds', 40);
const RATE = arg('rate', 20);
const COVERAGE = arg('coverage', 0.2);
const ACCURACY = 0.9;
const ERROR_RATE = 0.005;
const MEDIAN_MS = 20;
const SIGMA = 0.5;
/** Simulated time after the forgery within which a rollback counts as a flip. */
const HORIZON_S = 1800;
/** The most forged labels tried: beyond it the defence held. */
const MAX_F = 20_000;
const spec = DEFAULT_ANALYSIS;

function binomial(rng: Rng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n < 60) {
    let k = 0;
    for (let i = 0; i < n; i++) if (rng.next() < p) k++;
    return k;
  }
  return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * rng.normal())));
}

function poisson(rng: Rng, mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  const l = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > l) (k++, (p *= rng.next()));
  return k;
}

/** Standard normal upper tail (Abramowitz–Stegun 26.2.17, |error| < 7.5e-8). */
function upperTail(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const d = 0.3989423 * Math.exp((-z * z) / 2);
  const p = d * t * (0.3193815 + t * (-0.3565638 + t * (1.781478 + t * (-1.821256 + t * 1.330274))));
  return z > 0 ? p : 1 - p;
}

/** One version's window: the lognormal latencies counted against thresholds, quantiles exact. */
function serve(rng: Rng, requests: number, thresholds: Record<string, number>): VersionWindow & { correct: number } {
  const errors = binomial(rng, requests, ERROR_RATE);
  const ok = requests - errors;
  const above: Record<string, number> = {};
  for (const [k, ms] of Object.entries(thresholds)) above[k] = binomial(rng, ok, upperTail((Math.log(ms) - Math.log(MEDIAN_MS)) / SIGMA));
  const labelled = binomial(rng, ok, COVERAGE);
  const correct = binomial(rng, labelled, ACCURACY);
  return {
    requests,
    errors,
    ok,
    labelled,
    incorrect: labelled - correct,
    correct,
    above,
    p95Ms: MEDIAN_MS * Math.exp(1.6449 * SIGMA),
    p99Ms: MEDIAN_MS * Math.exp(2.3263 * SIGMA),
    quantileCount: 2000,
  };
}

/**
 * Of `forged` more wrong labels from a client that has sent `mine` in the window, how many count,
 * and how many agreeing labels the forger sends with them (dilute).
 */
function counted(defence: Defence, mine: LabelCounts, forged: number, history: LabelCounts): { wrong: number; agreeing: number } {
  switch (defence) {
    case 'before':
      return { wrong: forged, agreeing: 0 };
    case 'burst-rule': {
      // One label per request: each is judged with the client's count so far (itself included); once
      // flagged, every later label in the window is too (the flagged ones are still counted as sent).
      let n = 0;
      while (n < forged && !clientBurstContradiction({ labels: mine.labels + n + 1, contradicting: mine.contradicting + n + 1 }, history)) n++;
      return { wrong: n, agreeing: 0 };
    }
    case 'dilute': {
      const flagged = (a: number) => clientBurstContradiction({ labels: mine.labels + forged + a, contradicting: mine.contradicting + forged }, history);
      if (!flagged(0)) return { wrong: forged, agreeing: 0 };
      let lo = 0;
      let hi = 1;
      while (flagged(hi)) hi *= 2;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (flagged(mid)) lo = mid;
        else hi = mid;
      }
      return { wrong: forged, agreeing: hi };
    }
    case 'allow-list':
      return { wrong: 0, agreeing: 0 };
  }
}

/** Forged (and agreeing) labels the forger sent in the last run. */
let lastSent = { wrong: 0, agreeing: 0 };

/** Whether the canary rolls the equally good candidate back within HORIZON_S, the forger spending at most `budget` wrong labels, `perLook` at a time. */
function rollsBack(seed: number, defence: Defence, budget: number, perLook: number): boolean {
  const rng = createRng(seed);
  const interval = spec.intervalSeconds;
  // The hour before: stable alone, its labels are the model's history the gateway judges against.
  const before = serve(rng, poisson(rng, RATE * 3600), {});
  const model: LabelCounts = { labels: before.labelled, contradicting: before.incorrect };
  const candidateHistory: LabelCounts = { labels: 0, contradicting: 0 };
  const mine: LabelCounts = { labels: 0, contradicting: 0 };
  let state: JudgeState = initialJudgeState(spec, serve(rng, poisson(rng, RATE * 300), {}));
  let t = 0;
  let left = budget;
  lastSent = { wrong: 0, agreeing: 0 };
  const steps = DEFAULT_STEPS;
  for (const [i, step] of steps.entries()) {
    if (isUnanalysedFinalStep(steps, i)) break;
    const stepStart = t;
    for (;;) {
      t += interval;
      if (t > HORIZON_S + interval) return false;
      const w = step.weight / 100;
      const th = windowThresholds(spec, state);
      const cand = serve(rng, poisson(rng, RATE * w * interval), th.candidate);
      const stab = serve(rng, poisson(rng, RATE * (1 - w) * interval), th.stable);
      // The other clients' history: honest labels only, counted before the forger's join the window.
      const history = unitHistory(candidateHistory, model);
      candidateHistory.labels += cand.labelled;
      candidateHistory.contradicting += cand.incorrect;
      model.labels += stab.labelled;
      model.contradicting += stab.incorrect;
      const forged = Math.min(left, perLook);
      if (forged > 0) {
        left -= forged;
        // The forger's own candidate predictions and its labels for them, as stored and then counted.
        const c = counted(defence, mine, forged, history);
        const sent = forged + c.agreeing;
        mine.labels += sent;
        mine.contradicting += forged;
        lastSent = { wrong: lastSent.wrong + forged, agreeing: lastSent.agreeing + c.agreeing };
        cand.requests += sent;
        cand.ok += sent;
        cand.labelled += c.wrong + c.agreeing;
        cand.incorrect += c.wrong;
      }
      const r = judgeWindow(spec, state, { stable: stab, candidate: cand });
      state = r.state;
      const action = stepAction({ spec, steps, step: i, elapsedMs: (t - stepStart) * 1000, verdict: r.analysis.verdict, failures: 0 });
      if (action === 'rollback') return true;
      if (action === 'pause') return false;
      if (action === 'advance') break;
    }
  }
  return false;
}

/**
 * The smallest budget F that rolls back with this pattern (null: none up to MAX_F). Every F up to 64
 * is tried (a defence can let a few labels through and stop more), then doublings, then a bisection
 * of the first doubling that flips.
 */
function smallestFlip(seed: number, defence: Defence, perLook: number): number | null {
  for (let f = 1; f <= 64; f++) if (rollsBack(seed, defence, f, perLook)) return f;
  let lo = 64;
  let hi = 128;
  while (!rollsBack(seed, defence, hi, perLook)) {
    if (hi >= MAX_F) return null;
    lo = hi;
    hi = Math.min(MAX_F, hi * 2);
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (rollsBack(seed, defence, mid, perLook)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The forger's best pattern: the fewest wrong labels over PATTERNS, and what it sent with them. */
function cheapestFlip(seed: number, defence: Defence): { forged: number; agreeing: number; pattern: number } | null {
  let best: { forged: number; agreeing: number; pattern: number } | null = null;
  for (const p of PATTERNS) {
    const f = smallestFlip(seed, defence, p);
    if (f === null || (best && f >= best.forged)) continue;
    rollsBack(seed, defence, f, p);
    best = { forged: lastSent.wrong, agreeing: lastSent.agreeing, pattern: p };
  }
  return best;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const seeds = Array.from({ length: SEEDS }, (_, i) => 1000 + i).filter((s) => !rollsBack(s, 'before', 0, 1));
console.log(`# Forged labels to flip a canary (equal versions: accuracy ${ACCURACY}, ${RATE} req/s, label coverage ${COVERAGE}, default steps and sequential judge)`);
console.log(`seeds: ${seeds.length} of ${SEEDS} (the others roll back with no forgery: the judge's own false alarms)`);
console.log(`forger's patterns: all at the first look, or 1/4/16 per look; its cheapest kept; a rollback within ${HORIZON_S} s counts; budget up to ${MAX_F}\n`);
console.log('| defence | seeds one client can flip | forged wrong labels to flip: median over all seeds (∞: not flippable up to the budget) | where flippable: min–max | agreeing labels sent too (median) | cheapest pattern (most often) |');
console.log('| --- | --- | --- | --- | --- | --- |');
const medians: Record<string, number> = {};
const name = (p: number) => (Number.isFinite(p) ? `${p} per look` : 'all at first look');
for (const d of DEFENCES) {
  const all: number[] = [];
  const flips: number[] = [];
  const agreeing: number[] = [];
  const patterns = new Map<number, number>();
  for (const s of seeds) {
    const f = cheapestFlip(s, d);
    all.push(f?.forged ?? Infinity);
    if (f === null) continue;
    flips.push(f.forged);
    agreeing.push(f.agreeing);
    patterns.set(f.pattern, (patterns.get(f.pattern) ?? 0) + 1);
  }
  medians[d] = median(all);
  const range = flips.length ? `${Math.min(...flips)}–${Math.max(...flips)}` : '—';
  const top = [...patterns.entries()].sort((a, b) => b[1] - a[1])[0];
  console.log(`| ${d} | ${flips.length}/${seeds.length} | ${medians[d] === Infinity ? '∞' : medians[d]} | ${range} | ${flips.length ? median(agreeing) : '—'} | ${top ? name(top[0]) : '—'} |`);
}
console.log('');
for (const d of DEFENCES.slice(1)) {
  const r = medians[d]! / medians.before!;
  console.log(`${d} / before (medians): ${Number.isFinite(r) ? `${r.toFixed(1)}×` : '∞ (in most seeds one client cannot flip it)'}`);
}
