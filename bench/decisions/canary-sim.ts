/**
 * One simulated canary rollout, looked at the way the CanaryRollout workflow looks at it: the
 * default steps, a look every interval, each judge fed what the collect activities would return.
 * Three judges side by side on the same traffic model:
 *   sequential     lib/rollout/sequential-judge.ts + step-controller.ts (the default)
 *   fixed-horizon  lib/rollout/analyse.ts, the first judge: each step's window re-tested every interval
 *   kayenta        a Kayenta-style judge: each interval on its own, Mann-Whitney per metric at
 *                  confidence 0.98, the group scored (marginal 75); below it rolls back
 */
import { createRng, type Rng } from '../../lib/random';
import { analyse, type VersionSample } from '../../lib/rollout/analyse';
import { initialJudgeState, judgeWindow, windowThresholds, type VersionWindow } from '../../lib/rollout/sequential-judge';
import { DEFAULT_ANALYSIS, DEFAULT_STEPS, FIXED_HORIZON_METRICS, type AnalysisSpec, type RolloutStep } from '../../lib/rollout/spec';
import { isUnanalysedFinalStep, stepAction } from '../../lib/rollout/step-controller';
import { classifyMetric, scoreGroup } from '../../lib/stats/judge';

export type JudgeName = 'sequential' | 'fixed-horizon' | 'kayenta';

export interface VersionModel {
  errorRate: number;
  accuracy: number;
  /** Lognormal latency: median (ms) and σ of its log. */
  medianMs: number;
  sigma: number;
}

export interface Scenario {
  name: string;
  stable: VersionModel;
  candidate: VersionModel;
  /** Requests per second over both versions. */
  rate: number;
  /** Share of successful predictions that get a label (within the same interval). */
  coverage: number;
}

export interface RolloutOutcome {
  outcome: 'rolled-back' | 'promoted' | 'paused';
  /** Seconds from the first weight change to the decision. */
  seconds: number;
  /** Candidate weight (%) when the decision was taken. */
  weight: number;
  /** Candidate requests served before the decision. */
  exposure: number;
  /** The metric that failed, on a rollback. */
  metric?: string;
  /**
   * Candidate requests in the first hour after the rollout began: until a rollback, or at full
   * weight after a promotion, or at the step's weight while paused. What users of a worse candidate
   * actually got — a promoted bad candidate keeps serving.
   */
  hourExposure: number;
}

const BASELINE_SECONDS = 300;
const MAX_SECONDS = 6 * 3600;

export const SEQUENTIAL_SPEC: AnalysisSpec = DEFAULT_ANALYSIS;
export const FIXED_HORIZON_SPEC: AnalysisSpec = { ...DEFAULT_ANALYSIS, judge: 'fixed-horizon', metrics: FIXED_HORIZON_METRICS };

interface Window {
  n: number;
  errors: number;
  latencies: Float64Array;
  labelled: number;
  correct: number;
  /** Per labelled prediction: 1 correct, 0 wrong (kayenta's accuracy metric). */
  correctness: Uint8Array;
}

function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  const l = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > l) {
    k++;
    p *= rng.next();
  }
  return k;
}

/** Exact for small n·p (geometric skips), normal beyond. */
function binomial(rng: Rng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  if (n * p > 200) return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(n * p * (1 - p)) * rng.normal())));
  const logQ = Math.log1p(-p);
  let k = 0;
  let pos = 0;
  for (;;) {
    pos += Math.floor(Math.log(1 - rng.next()) / logQ) + 1;
    if (pos > n) return k;
    k++;
  }
}

function serve(rng: Rng, m: VersionModel, requests: number, coverage: number, keepCorrectness: boolean): Window {
  const errors = binomial(rng, requests, m.errorRate);
  const ok = requests - errors;
  const latencies = new Float64Array(ok);
  const mu = Math.log(m.medianMs);
  for (let i = 0; i < ok; i++) latencies[i] = Math.exp(mu + m.sigma * rng.normal());
  const labelled = binomial(rng, ok, coverage);
  let correct: number;
  let correctness = new Uint8Array(0);
  if (keepCorrectness) {
    correctness = new Uint8Array(labelled);
    correct = 0;
    for (let i = 0; i < labelled; i++) if (rng.next() < m.accuracy) (correctness[i] = 1), correct++;
  } else correct = labelled - binomial(rng, labelled, 1 - m.accuracy);
  return { n: requests, errors, latencies, labelled, correct, correctness };
}

function quantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The newest successful latencies of a version: the activity's trailing 5-minute quantiles, capped here to keep the simulation fast. */
class Trailing {
  private values: number[] = [];
  constructor(private readonly cap = 2000) {}
  add(latencies: Float64Array) {
    for (const v of latencies) this.values.push(v);
    if (this.values.length > 2 * this.cap) this.values = this.values.slice(-this.cap);
  }
  quantiles(): { p95Ms: number | null; p99Ms: number | null; quantileCount: number } {
    const sorted = Float64Array.from(this.values.slice(-this.cap)).sort();
    return { p95Ms: quantile(sorted, 0.95), p99Ms: quantile(sorted, 0.99), quantileCount: sorted.length };
  }
}

function toVersionWindow(w: Window, thresholds: Record<string, number>, trailing?: Trailing): VersionWindow {
  const above: Record<string, number> = {};
  for (const [key, ms] of Object.entries(thresholds)) {
    let c = 0;
    for (const v of w.latencies) if (v > ms) c++;
    above[key] = c;
  }
  trailing?.add(w.latencies);
  const q = trailing ? trailing.quantiles() : { p95Ms: null, p99Ms: null, quantileCount: 0 };
  return { requests: w.n, errors: w.errors, ok: w.latencies.length, labelled: w.labelled, incorrect: w.labelled - w.correct, above, ...q };
}

/** The step window as the first judge's activity returns it: counts since the step began, the newest 2000 latencies. */
class StepWindow {
  requests = 0;
  errors = 0;
  labelled = 0;
  correct = 0;
  latencies: number[] = [];
  add(w: Window) {
    this.requests += w.n;
    this.errors += w.errors;
    this.labelled += w.labelled;
    this.correct += w.correct;
    for (const v of w.latencies) this.latencies.push(v);
    if (this.latencies.length > 4000) this.latencies = this.latencies.slice(-2000);
  }
  sample(): VersionSample {
    return { requests: this.requests, errors: this.errors, latenciesMs: this.latencies.slice(-2000), labelled: this.labelled, correct: this.correct };
  }
}

const HOUR = 3600;

export function simulateRollout(judge: JudgeName, sc: Scenario, seed: number, steps: readonly RolloutStep[] = DEFAULT_STEPS): RolloutOutcome {
  const r = runRollout(judge, sc, seed, steps);
  const after = Math.max(0, HOUR - r.seconds) * sc.rate;
  const later = r.outcome === 'rolled-back' ? 0 : r.outcome === 'promoted' ? after : (after * r.weight) / 100;
  return { ...r, hourExposure: (r.seconds <= HOUR ? r.exposure : r.exposure * (HOUR / r.seconds)) + later };
}

function runRollout(judge: JudgeName, sc: Scenario, seed: number, steps: readonly RolloutStep[]): Omit<RolloutOutcome, 'hourExposure'> {
  const rng = createRng(seed);
  const spec = judge === 'sequential' ? SEQUENTIAL_SPEC : FIXED_HORIZON_SPEC;
  const interval = spec.intervalSeconds;
  const keepCorrectness = judge === 'kayenta';

  const trailing = new Trailing();
  let seq = judge === 'sequential' ? initialJudgeState(spec, toVersionWindow(serve(rng, sc.stable, poisson(rng, sc.rate * BASELINE_SECONDS), sc.coverage, false), {}, trailing)) : undefined;
  let t = 0;
  let exposure = 0;
  let failures = 0;
  for (const [i, step] of steps.entries()) {
    const w = step.weight / 100;
    if (isUnanalysedFinalStep(steps, i)) break;
    const stepStart = t;
    const stableStep = new StepWindow();
    const candidateStep = new StepWindow();
    for (;;) {
      t += interval;
      if (t > MAX_SECONDS) return { outcome: 'paused', seconds: t, weight: step.weight, exposure };
      const cN = poisson(rng, sc.rate * w * interval);
      const sN = poisson(rng, sc.rate * (1 - w) * interval);
      exposure += cN;
      const cand = serve(rng, sc.candidate, cN, sc.coverage, keepCorrectness);
      const stab = serve(rng, sc.stable, sN, sc.coverage, keepCorrectness);
      let verdict: 'pass' | 'fail' | 'inconclusive';
      let metric: string | undefined;
      if (judge === 'sequential') {
        const th = windowThresholds(spec, seq!);
        const r = judgeWindow(spec, seq!, { stable: toVersionWindow(stab, th.stable, trailing), candidate: toVersionWindow(cand, th.candidate) });
        seq = r.state;
        verdict = r.analysis.verdict;
        metric = r.analysis.checks.find((c) => c.verdict === 'fail')?.metric;
      } else if (judge === 'fixed-horizon') {
        stableStep.add(stab);
        candidateStep.add(cand);
        const r = analyse(spec, stableStep.sample(), candidateStep.sample());
        verdict = r.verdict;
        metric = r.checks.find((c) => c.verdict === 'fail')?.metric;
      } else {
        const r = kayentaInterval(cand, stab);
        verdict = r.verdict;
        metric = r.metric;
      }
      if (verdict === 'fail') failures++;
      const action = stepAction({ spec, steps, step: i, elapsedMs: (t - stepStart) * 1000, verdict, failures });
      if (action === 'rollback') return { outcome: 'rolled-back', seconds: t, weight: step.weight, exposure, metric };
      if (action === 'pause') return { outcome: 'paused', seconds: t, weight: step.weight, exposure };
      if (action === 'advance') break;
    }
  }
  return { outcome: 'promoted', seconds: t, weight: 100, exposure };
}

const METRICS = ['errorRate', 'latency', 'accuracy'] as const;

function kayentaInterval(cand: Window, stab: Window): { verdict: 'pass' | 'fail' | 'inconclusive'; metric?: string } {
  const bits = (n: number, ones: number) => {
    const a = new Float64Array(n);
    a.fill(1, 0, ones);
    return a;
  };
  const classes = [
    classifyMetric({ candidate: bits(cand.n, cand.errors), stable: bits(stab.n, stab.errors), direction: 'increase-is-bad', confidence: 0.98 }),
    classifyMetric({ candidate: cand.latencies, stable: stab.latencies, direction: 'increase-is-bad', confidence: 0.98 }),
    classifyMetric({ candidate: Float64Array.from(cand.correctness), stable: Float64Array.from(stab.correctness), direction: 'decrease-is-bad', confidence: 0.98 }),
  ];
  const score = scoreGroup(classes, undefined, { passThreshold: 95, marginalThreshold: 75 });
  if (score.verdict === 'fail') return { verdict: 'fail', metric: METRICS[classes.findIndex((c) => c.classification === 'high' || c.classification === 'low')] };
  return { verdict: score.verdict === 'nodata' ? 'inconclusive' : 'pass' };
}
