/**
 * How many forged "wrong" labels from ONE authenticated client it takes to make the canary's
 * sequential judge roll back a candidate that is exactly as good as the stable version.
 *
 * The canary is simulated the way bench/decisions/canary-sim.ts does it: the default steps and
 * analysis, a look every interval, each look fed the counts collectRolloutWindow would return
 * (requests, errors, latencies above the judge's thresholds, first labels), both versions with
 * accuracy 0.90, error rate 0.5 %, the same latency. At the first look the forger — holding the
 * `predict` and `feedback` scopes — labels F of its own candidate predictions wrong. The smallest F
 * that makes the canary roll back is found per seed (F = 0 rollbacks, the judge's own false alarms,
 * are left out and counted).
 *
 * Defences compared, each as collectRolloutWindow would count after the gateway stored the labels:
 *   before      every authenticated label counts (this branch before client_burst_contradiction)
 *   burst       the F labels in one batch: judged by clientBurstContradiction against the other
 *               clients' history (lib/feedback/quality.ts); flagged items do not count
 *   drip        one label per request: the first minLabels − 1 of the window are not yet a burst
 *   dilute      the forger hides its wrong labels among agreeing ones, as many as it takes (the
 *               fewest) never to be flagged; all of them count
 *   allow-list  the model's decision_feedback_clients does not name the forger: nothing counts
 *
 *   npx tsx bench/security/forged-flip.ts [--seeds 40] [--rate 20] [--coverage 0.2]
 */
import { createRng, type Rng } from '../../lib/random';
import { clientBurstContradiction, DEFAULT_CLIENT_CONTRADICTION, unitHistory, type LabelCounts } from '../../lib/feedback/quality';
import { initialJudgeState, judgeWindow, windowThresholds, type JudgeState, type VersionWindow } from '../../lib/rollout/sequential-judge';
import { DEFAULT_ANALYSIS, DEFAULT_STEPS } from '../../lib/rollout/spec';
import { isUnanalysedFinalStep, stepAction } from '../../lib/rollout/step-controller';

type Defence = 'before' | 'burst' | 'drip' | 'dilute' | 'allow-list';
const DEFENCES: Defence[] = ['before', 'burst', 'drip', 'dilute', 'allow-list'];

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

/** How many of the forged labels count, and how many agreeing labels come with them. */
function counted(defence: Defence, forged: number, history: LabelCounts): { wrong: number; agreeing: number } {
  const opts = DEFAULT_CLIENT_CONTRADICTION;
  switch (defence) {
    case 'before':
      return { wrong: forged, agreeing: 0 };
    case 'burst':
      return clientBurstContradiction({ labels: forged, contradicting: forged }, history) ? { wrong: 0, agreeing: 0 } : { wrong: forged, agreeing: 0 };
    case 'drip': {
      // The first label to make the client's count a flagged burst, and every one after it, do not count.
      let n = 0;
      while (n < forged && !clientBurstContradiction({ labels: n + 1, contradicting: n + 1 }, history)) n++;
      return { wrong: n, agreeing: 0 };
    }
    case 'dilute': {
      if (!clientBurstContradiction({ labels: forged, contradicting: forged }, history)) return { wrong: forged, agreeing: 0 };
      let lo = 0;
      let hi = 1;
      while (clientBurstContradiction({ labels: forged + hi, contradicting: forged }, history)) hi *= 2;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (clientBurstContradiction({ labels: forged + mid, contradicting: forged }, history)) lo = mid;
        else hi = mid;
      }
      return { wrong: forged, agreeing: hi };
    }
    case 'allow-list':
      return { wrong: 0, agreeing: 0 };
  }
}

/** Whether the canary rolls the equally good candidate back within HORIZON_S of F forged labels. */
let lastAgreeing = 0;

function rollsBack(seed: number, defence: Defence, forged: number): boolean {
  const rng = createRng(seed);
  const interval = spec.intervalSeconds;
  // The hour before: stable alone, its labels are the model's history the gateway judges against.
  const before = serve(rng, poisson(rng, RATE * 3600), {});
  const model: LabelCounts = { labels: before.labelled, contradicting: before.incorrect };
  const candidateHistory: LabelCounts = { labels: 0, contradicting: 0 };
  let state: JudgeState = initialJudgeState(spec, serve(rng, poisson(rng, RATE * 300), {}));
  let t = 0;
  let forgedYet = false;
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
      if (!forgedYet) {
        forgedYet = true;
        // The forger's own candidate predictions and its labels for them, as stored and then counted.
        const c = counted(defence, forged, unitHistory(candidateHistory, model));
        lastAgreeing = c.agreeing;
        cand.requests += forged + c.agreeing;
        cand.ok += forged + c.agreeing;
        cand.labelled += c.wrong + c.agreeing;
        cand.incorrect += c.wrong;
      }
      candidateHistory.labels += cand.labelled;
      candidateHistory.contradicting += cand.incorrect;
      model.labels += stab.labelled;
      model.contradicting += stab.incorrect;
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
 * The smallest F that rolls back (null: none up to MAX_F). Every F up to 256 is tried (a defence
 * can let a few labels through and stop more), then doublings, then a bisection of the first
 * doubling that flips.
 */
function smallestFlip(seed: number, defence: Defence): number | null {
  for (let f = 1; f <= 256; f++) if (rollsBack(seed, defence, f)) return f;
  let lo = 256;
  let hi = 512;
  while (!rollsBack(seed, defence, hi)) {
    if (hi >= MAX_F) return null;
    lo = hi;
    hi = Math.min(MAX_F, hi * 2);
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (rollsBack(seed, defence, mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const seeds = Array.from({ length: SEEDS }, (_, i) => 1000 + i).filter((s) => !rollsBack(s, 'before', 0));
console.log(`# Forged labels to flip a canary (equal versions: accuracy ${ACCURACY}, ${RATE} req/s, label coverage ${COVERAGE}, default steps and sequential judge)`);
console.log(`seeds: ${seeds.length} of ${SEEDS} (the others roll back with no forgery: the judge's own false alarms)`);
console.log(`forgery at the first look; a rollback within ${HORIZON_S} s counts; at most ${MAX_F} forged labels tried\n`);
console.log('| defence | seeds a lone client can flip | forged wrong labels to flip, median over all seeds (∞: not flippable up to the cap) | where flippable: min–max | agreeing labels sent with them (median) |');
console.log('| --- | --- | --- | --- | --- |');
const medians: Record<string, number> = {};
for (const d of DEFENCES) {
  const all: number[] = [];
  const flips: number[] = [];
  const agreeing: number[] = [];
  for (const s of seeds) {
    const f = smallestFlip(s, d);
    all.push(f ?? Infinity);
    if (f === null) continue;
    flips.push(f);
    rollsBack(s, d, f);
    agreeing.push(lastAgreeing);
  }
  medians[d] = median(all);
  const range = flips.length ? `${Math.min(...flips)}–${Math.max(...flips)}` : '—';
  console.log(`| ${d} | ${flips.length}/${seeds.length} | ${medians[d]} | ${range} | ${flips.length ? median(agreeing) : '—'} |`);
}
console.log('');
for (const d of DEFENCES.slice(1)) {
  const r = medians[d]! / medians.before!;
  console.log(`${d} / before (medians): ${Number.isFinite(r) ? `${r.toFixed(1)}×` : '∞ (most seeds not flippable by one client)'}`);
}
