/**
 * `flywheel ab start --mde`: sizes the test before it starts. The control's baseline (unless
 * --baseline gives it) and the model's observation rate come from the last minutes of traffic in
 * PostgreSQL; lib/experiment/plan turns them into τ², the maximum sample per arm and the expected
 * duration. Every bad flag is one line naming it, exit 2, before anything starts.
 */
import type { FlywheelConfig } from '../../config/index';
import { closePools, getPool } from '../../clients/db';
import { readRecentObservations, type RecentObservations } from '../../activities/experiment';
import { parseMde, planAbTest, planDuration, type AbDuration, type AbPlan } from '../../lib/experiment/plan';
import { summaryFromSums } from '../../lib/experiment/summaries';
import type { PrimaryMetric } from '../../lib/experiment/spec';
import { CliError, printFields } from '../output';
import { asCliError } from './serving';

/** How far back the baseline and the rate are read. */
export const RECENT_WINDOW_SECONDS = 600;
/** Fewer control observations than this give no baseline worth sizing a test on. */
const MIN_BASELINE_OBSERVATIONS = 30;

export interface AbStartPlan extends AbPlan {
  /** Where the baseline came from. */
  baselineSource: 'flag' | 'recent-traffic';
  /** Observations per second of the primary metric over the recent window (all versions), and the resulting durations; null without recent traffic. */
  observationsPerSecond: number | null;
  duration: AbDuration | null;
  /** Set when --tau2 overrides the derived τ²: the power figures assume τ² = MDE². */
  tau2Override?: number;
}

export interface PlanFlags {
  mde: string;
  baseline?: string;
  tau2?: number;
}

export function parsePlanFlags(opts: { mde?: string; baseline?: string }): void {
  if (opts.mde !== undefined && parseMde(opts.mde) === null) throw new CliError(`--mde must be an absolute change (e.g. 0.01) or one relative to the baseline (e.g. 10%) (got ${opts.mde})`, 2);
  if (opts.baseline !== undefined && !Number.isFinite(Number(opts.baseline))) throw new CliError(`--baseline must be a number (got ${opts.baseline})`, 2);
}

export async function planStart(
  config: FlywheelConfig,
  args: { model: string; versions: string[]; split: number[]; metric: PrimaryMetric; alpha: number; flags: PlanFlags },
): Promise<AbStartPlan> {
  const { model, versions, split, metric, alpha, flags } = args;
  const mde = parseMde(flags.mde)!;
  const control = versions[0]!;
  let recent: RecentObservations[];
  try {
    recent = await readRecentObservations(getPool(config.postgres.url), { model, primaryMetric: metric, windowSeconds: RECENT_WINDOW_SECONDS });
  } catch (err) {
    throw asCliError(config, err);
  } finally {
    await closePools();
  }
  const own = recent.find((r) => r.version === control);
  const ownSummary = own && own.n >= MIN_BASELINE_OBSERVATIONS ? summaryFromSums(own.n, own.sum, own.sumSquares) : null;
  const windowText = `the last ${RECENT_WINDOW_SECONDS / 60} minutes`;
  let baseline: number;
  if (flags.baseline !== undefined) baseline = Number(flags.baseline);
  // A rate read from traffic is shrunk half an observation towards ½ ((successes + ½)/(n + 1)), so
  // a control that got every one of its recent labels right still has a variance to size with.
  else if (ownSummary) baseline = metric === 'rating' ? ownSummary.mean : (own!.sum + 0.5) / (own!.n + 1);
  else throw new CliError(`--baseline is needed: control v${control} has ${own?.n ?? 0} ${metric} observations in ${windowText} to read it from (at least ${MIN_BASELINE_OBSERVATIONS})`, 2);
  if (metric === 'rating' && !ownSummary) {
    throw new CliError(`--metric rating: sizing by --mde needs the ratings' variance, read from control v${control}'s recent ratings (${own?.n ?? 0} in ${windowText}, at least ${MIN_BASELINE_OBSERVATIONS}); pass --tau2 instead`, 2);
  }
  const planned = planAbTest({ metric, baseline, mde, variance: ownSummary?.variance, alpha, arms: versions.length });
  if (!planned.ok) {
    if (planned.field === 'baseline' && flags.baseline === undefined) {
      throw new CliError(`--baseline is needed: control v${control}'s ${metric} over ${windowText} is ${baseline} (${own!.sum} of ${own!.n}), which cannot size a test`, 2);
    }
    // Name the flag: lib messages start with the field they are about.
    const flag = planned.field === 'variance' ? '--metric rating:' : `--${planned.field}`;
    throw new CliError(planned.message.replace(/^(mde|baseline|alpha|power|variance)\b:?/, flag), 2);
  }
  // The test splits whatever the model receives now, whichever versions serve it.
  const n = recent.reduce((s, r) => s + r.n, 0);
  const span = Math.max(0, ...recent.map((r) => r.spanSeconds));
  const rate = n >= 2 && span > 0 ? n / span : null;
  return {
    ...planned.value,
    baselineSource: flags.baseline !== undefined ? 'flag' : 'recent-traffic',
    observationsPerSecond: rate,
    duration: rate === null ? null : planDuration(planned.value, rate, split),
    ...(flags.tau2 !== undefined ? { tau2Override: flags.tau2 } : {}),
  };
}

const human = (seconds: number) =>
  seconds < 120 ? `${seconds.toFixed(0)}s` : seconds < 7200 ? `${(seconds / 60).toFixed(1)} min` : seconds < 172_800 ? `${(seconds / 3600).toFixed(1)} h` : `${(seconds / 86_400).toFixed(1)} days`;
const count = (x: number) => Math.round(x).toLocaleString('en-US');

export function printPlan(plan: AbStartPlan, maxDurationSeconds: number): void {
  const d = plan.duration;
  printFields({
    baseline: `${plan.baseline.toPrecision(4)} (${plan.baselineSource === 'flag' ? '--baseline' : `control, last ${RECENT_WINDOW_SECONDS / 60} min`})`,
    mde: `${plan.mde.toPrecision(3)} (sized for ${plan.baseline.toPrecision(4)} → ${plan.alternative.toPrecision(4)}, either direction)`,
    tau2: plan.tau2Override !== undefined ? `${plan.tau2Override} (--tau2; the power below assumes ${plan.tau2.toExponential(2)} = MDE²)` : `${plan.tau2.toExponential(2)} (= MDE²)`,
    power: `${(plan.power * 100).toFixed(0)}% at the MDE by ${count(plan.maxSamplePerArm)} per arm (the test's maximum; fixed-horizon test: ${count(plan.fixedHorizonSamplePerArm)})`,
    expected: `${count(plan.expectedSamplePerArmAtMde)} per arm if the effect is exactly the MDE, fewer if larger`,
    traffic: d ? `${plan.observationsPerSecond!.toPrecision(3)} ${plan.metric} observations/s → ${d.perArmRate.toPrecision(3)}/s for the smallest arm` : `no ${plan.metric} observations in the last ${RECENT_WINDOW_SECONDS / 60} min: duration unknown`,
    duration: d ? `about ${human(d.expectedSecondsAtMde)} at the MDE, at most ${human(d.maxSeconds)}` : undefined,
    warning:
      d && d.maxSeconds > maxDurationSeconds
        ? `--max-duration ${maxDurationSeconds}s ends the test before the planned maximum sample at this traffic (${human(d.maxSeconds)}): less than ${(plan.power * 100).toFixed(0)}% power at the MDE`
        : undefined,
  });
}
