/**
 * One look at an A/B test: sample-ratio check (sequential, so it may run at every look), guardrails, and for each arm against the control an
 * mSPRT whose always-valid p-value (Bonferroni-adjusted for more than one comparison) may be
 * checked after every batch without inflating false positives. Pure: the workflow keeps the
 * monitors' state and calls this on numbers an activity fetched.
 */
import { bonferroni, initialMsprtState, msprtStep, type MsprtState } from '../stats/always-valid';
import { sequentialMultinomialTest } from '../stats/sequential-multinomial';
import type { SampleSummary } from '../stats/tests';
import type { NormalisedABTest } from './spec';

export interface ArmData {
  version: string;
  /** Requests routed to the arm. */
  requests: number;
  /**
   * Distinct units (callers' sticky keys) assigned to the arm: the SRM check counts these, since
   * assignment is per unit and one busy unit's requests are not independent draws.
   */
  units: number;
  errors: number;
  p95LatencyMs: number | null;
  /** The primary metric's observations so far (cumulative). */
  primary: SampleSummary;
}

export interface ArmReport {
  version: string;
  requests: number;
  units: number;
  errorRate: number;
  p95LatencyMs: number | null;
  n: number;
  estimate: number | null;
}

export interface ComparisonReport {
  version: string;
  control: string;
  /** arm − control. */
  difference: number | null;
  /** Relative lift (arm / control − 1). */
  lift: number | null;
  ci: [number, number] | null;
  pValue: number;
  adjustedPValue: number;
  significant: boolean;
}

export type Decision =
  | { kind: 'continue'; reason: string }
  | { kind: 'winner'; version: string; reason: string }
  | { kind: 'no-winner'; reason: string }
  | { kind: 'srm'; reason: string }
  | { kind: 'guardrail'; version: string; reason: string }
  | { kind: 'inconclusive'; reason: string };

export interface Look {
  arms: ArmReport[];
  comparisons: ComparisonReport[];
  /**
   * The sequential SRM test on assigned units (Lindon & Malek's Dirichlet-multinomial e-value):
   * mismatch once eValue ≥ threshold = 1/srmThreshold. Null before any unit arrives.
   */
  srm: SrmEvidence | null;
  decision: Decision;
}

export interface SrmEvidence {
  /** Units per arm so far, in arm order. */
  counts: number[];
  /** Planned shares, in arm order (sum to 1). */
  expected: number[];
  /** Evidence against the planned split (capped at 1e300). */
  eValue: number;
  /** 1/α_srm. */
  threshold: number;
  mismatch: boolean;
}

export interface LookInput {
  spec: NormalisedABTest;
  arms: ArmData[];
  /** One monitor state per non-control arm, in arm order; empty before the first look. */
  monitors: MsprtState[];
  elapsedSeconds: number;
}

export function evaluateLook({ spec, arms, monitors, elapsedSeconds }: LookInput): { look: Look; monitors: MsprtState[] } {
  const [control, ...treatments] = arms;
  if (!control || treatments.length === 0) throw new RangeError('an A/B look needs a control and at least one other arm');
  const reports: ArmReport[] = arms.map((a) => ({
    version: a.version,
    requests: a.requests,
    units: a.units,
    errorRate: a.requests ? a.errors / a.requests : 0,
    p95LatencyMs: a.p95LatencyMs,
    n: a.primary.n,
    estimate: a.primary.n ? a.primary.mean : null,
  }));

  const next: MsprtState[] = [];
  const raw = treatments.map((arm, i) => {
    const step = msprtStep(monitors[i] ?? initialMsprtState(), arm.primary, control.primary, { tau2: spec.tau2, alpha: spec.alpha });
    next.push(step.state);
    return step.result;
  });
  // Always-valid p-values stay valid under Bonferroni at any stopping time.
  const adjusted = bonferroni(raw.map((r) => r.pValue));
  const comparisons: ComparisonReport[] = treatments.map((arm, i) => {
    const difference = arm.primary.n && control.primary.n ? arm.primary.mean - control.primary.mean : null;
    return {
      version: arm.version,
      control: control.version,
      difference,
      lift: difference !== null && control.primary.mean !== 0 ? difference / control.primary.mean : null,
      ci: raw[i]!.ci,
      pValue: raw[i]!.pValue,
      adjustedPValue: adjusted[i]!,
      significant: adjusted[i]! <= spec.alpha,
    };
  });

  const total = arms.reduce((s, a) => s + a.units, 0);
  // The e-value is a function of the cumulative counts alone, so the check needs no state between
  // looks and stays valid however often it runs; the test halts at the first rejection.
  const expected = spec.split.map((w) => w / 100);
  const share = expected.reduce((a, b) => a + b, 0);
  const srmTest = total > 0 ? sequentialMultinomialTest(arms.map((a) => a.units), expected.map((p) => p / share), { alpha: spec.srmThreshold }) : null;
  const srm: SrmEvidence | null = srmTest && { counts: srmTest.counts, expected: srmTest.expectedProportions, eValue: srmTest.eValue, threshold: srmTest.threshold, mismatch: srmTest.reject };
  const look = { arms: reports, comparisons, srm };
  return { look: { ...look, decision: decide(spec, reports, comparisons, srm, elapsedSeconds) }, monitors: next };
}

function decide(spec: NormalisedABTest, arms: ArmReport[], comparisons: ComparisonReport[], srm: SrmEvidence | null, elapsed: number): Decision {
  if (srm?.mismatch) {
    return {
      kind: 'srm',
      reason: `sample-ratio mismatch: observed ${arms.map((a) => `v${a.version} ${a.units}`).join(' / ')} units for a planned ${spec.split.join('/')} split (sequential test: e-value ${fmtE(srm.eValue)} ≥ ${fmtE(srm.threshold)} = 1/${spec.srmThreshold}); the assignment is broken, so no comparison can be trusted`,
    };
  }
  for (const a of arms) {
    if (a.requests < spec.minSamplePerArm) continue;
    if (spec.guardrails.maxErrorRate !== undefined && a.errorRate > spec.guardrails.maxErrorRate) {
      return { kind: 'guardrail', version: a.version, reason: `guardrail: v${a.version} error rate ${a.errorRate.toFixed(4)} exceeds ${spec.guardrails.maxErrorRate}` };
    }
    if (spec.guardrails.maxP95LatencyMs !== undefined && a.p95LatencyMs !== null && a.p95LatencyMs > spec.guardrails.maxP95LatencyMs) {
      return { kind: 'guardrail', version: a.version, reason: `guardrail: v${a.version} p95 latency ${a.p95LatencyMs.toFixed(1)} ms exceeds ${spec.guardrails.maxP95LatencyMs} ms` };
    }
  }
  const enough = arms.every((a) => a.n >= spec.minSamplePerArm) && elapsed >= spec.minDurationSeconds;
  if (enough) {
    const better = comparisons.filter((c) => c.significant && (c.difference ?? 0) > 0).sort((a, b) => (b.difference ?? 0) - (a.difference ?? 0));
    if (better[0]) {
      const c = better[0];
      return {
        kind: 'winner',
        version: c.version,
        reason: `v${c.version} beats control v${c.control}: ${fmtPct(c.lift)} lift, difference ${c.difference!.toFixed(4)} (always-valid ${((1 - spec.alpha) * 100).toFixed(0)}% CI ${fmtCi(c.ci)}), p = ${c.adjustedPValue.toPrecision(3)}`,
      };
    }
    if (comparisons.every((c) => c.significant && (c.difference ?? 0) < 0)) {
      const control = comparisons[0]!.control;
      return { kind: 'winner', version: control, reason: `control v${control} beats every other arm (p ≤ ${Math.max(...comparisons.map((c) => c.adjustedPValue)).toPrecision(3)})` };
    }
  }
  if (elapsed >= spec.maxDurationSeconds) {
    return { kind: 'inconclusive', reason: `no significant difference after ${spec.maxDurationSeconds}s (${arms.map((a) => `v${a.version} n=${a.n}`).join(', ')})` };
  }
  if (spec.maxSamplePerArm !== undefined && arms.every((a) => a.n >= spec.maxSamplePerArm!)) {
    return { kind: 'inconclusive', reason: `no significant difference at the planned maximum of ${spec.maxSamplePerArm} observations per arm (${arms.map((a) => `v${a.version} n=${a.n}`).join(', ')})` };
  }
  return { kind: 'continue', reason: enough ? 'no significant difference yet' : `collecting: need ${spec.minSamplePerArm} observations per arm and ${spec.minDurationSeconds}s` };
}

const fmtE = (e: number) => (e >= 1e4 ? e.toExponential(2) : e.toPrecision(4));
const fmtPct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const fmtCi = (ci: [number, number] | null) => (ci ? `[${ci[0].toFixed(4)}, ${ci[1].toFixed(4)}]` : 'n/a');
