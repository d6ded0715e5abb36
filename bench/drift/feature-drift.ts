/**
 * Feature drift on served traffic (issue 15), simulated: false alarms on a stationary stream and
 * detection delay after a covariate shift, for the default judge (lib/drift/feature-drift.ts: PSI ≥
 * 0.1 and KS p < 0.001/d, at least 500 rows) against named baselines on the same windows: the same
 * judge at PSI ≥ 0.25 ("significant shift"), PSI ≥ 0.1 alone, and KS p < 0.05 alone (per feature,
 * no correction).
 *
 * Stream: Agrawal (9 features). Reference: 10,000 rows (the champion's training data). Served
 * traffic is judged as a monitor polling would: the newest WINDOW rows, every STEP predictions.
 * Stationary: `--stationary` predictions from another seed. Shifts: from a known prediction on,
 * one feature moves (age + k years, salary × f); delay = predictions after the shift until the
 * first check that flags that feature; a check that flags before the shift is a false alarm.
 *
 *   npx tsx bench/drift/feature-drift.ts [--stationary 1000000] [--seeds 10]
 */
import { FEATURE_DRIFT_DEFAULTS, FeatureReference, type FeatureDriftOptions } from '../../lib/drift/feature-drift';
import { Agrawal, take } from '../../lib/streams/index';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const STATIONARY = Number(arg('stationary', '1000000'));
const SEEDS = Number(arg('seeds', '10'));
const WINDOW = 1000;
const STEP = 1000;
const REFERENCE_ROWS = 10_000;

const judges: Record<string, FeatureDriftOptions> = {
  'default (PSI≥0.1 & KS)': FEATURE_DRIFT_DEFAULTS,
  'PSI≥0.25 & KS': { ...FEATURE_DRIFT_DEFAULTS, psiThreshold: 0.25 },
  'PSI≥0.1 alone': { ...FEATURE_DRIFT_DEFAULTS, psiThreshold: 0.1, ksAlpha: 1 * 9 },
  'KS p<0.05 alone': { ...FEATURE_DRIFT_DEFAULTS, psiThreshold: 0, ksAlpha: 0.05 * 9 },
};

const stream = new Agrawal({ seed: 1 });
const names: string[] = [...stream.featureNames];
const d = stream.nFeatures;
const ref = take(stream, REFERENCE_ROWS);
const reference = FeatureReference.fromRows(ref.X, ref.n, d, names);

// Stationary: count the checks that flag anything.
const t0 = performance.now();
const live = new Agrawal({ seed: 2 });
const alarms: Record<string, number> = Object.fromEntries(Object.keys(judges).map((k) => [k, 0]));
let checks = 0;
let maxPsi = 0;
for (let served = 0; served + WINDOW <= STATIONARY; served += STEP) {
  const w = take(live, STEP);
  checks++;
  for (const [name, opts] of Object.entries(judges)) {
    const r = reference.check(w.X, w.n, opts);
    if (r.moved.length > 0) alarms[name]!++;
    if (name.startsWith('default')) maxPsi = Math.max(maxPsi, ...r.scores.map((s) => s.psi));
  }
}
const stationarySeconds = (performance.now() - t0) / 1000;
console.log(`stationary: ${STATIONARY.toLocaleString('en')} predictions, ${checks} checks of the newest ${WINDOW} rows every ${STEP} (${stationarySeconds.toFixed(1)} s)`);
for (const [name, n] of Object.entries(alarms)) console.log(`  ${name.padEnd(24)} false alarms ${n} (${((100 * n) / checks).toFixed(2)} % of checks)`);
console.log(`  largest per-feature PSI seen (default judge): ${maxPsi.toFixed(4)}`);

// Shifts: delay in served predictions, a sliding window checked every SHIFT_STEP rows.
const SHIFT_STEP = 100;
const shifts: Array<{ label: string; feature: string; apply: (v: number) => number }> = [
  { label: 'age + 5 years', feature: 'age', apply: (v) => v + 5 },
  { label: 'age + 10 years', feature: 'age', apply: (v) => v + 10 },
  { label: 'age + 20 years', feature: 'age', apply: (v) => v + 20 },
  { label: 'salary × 1.2', feature: 'salary', apply: (v) => v * 1.2 },
  { label: 'salary × 1.5', feature: 'salary', apply: (v) => v * 1.5 },
];
console.log(`\nshift after ${WINDOW} stationary rows; newest ${WINDOW} rows checked every ${SHIFT_STEP}; delay in predictions over ${SEEDS} seeds (median / max; missed within 5,000)`);
for (const shift of shifts) {
  const j = names.indexOf(shift.feature);
  const row: string[] = [];
  for (const [name, opts] of Object.entries(judges)) {
    const delays: number[] = [];
    let missed = 0;
    let early = 0;
    for (let seed = 0; seed < SEEDS; seed++) {
      const s = new Agrawal({ seed: 100 + seed });
      const pre = take(s, WINDOW);
      const post = take(s, 5000);
      for (let i = 0; i < post.n; i++) post.X[i * d + j] = shift.apply(post.X[i * d + j]!);
      const all = new Float64Array((pre.n + post.n) * d);
      all.set(pre.X);
      all.set(post.X, pre.n * d);
      if (reference.check(pre.X, pre.n, opts).moved.length > 0) early++;
      let found: number | undefined;
      for (let after = SHIFT_STEP; after <= post.n; after += SHIFT_STEP) {
        const end = pre.n + after;
        const r = reference.check(all.subarray((end - WINDOW) * d, end * d), WINDOW, opts);
        if (r.moved.some((m) => m.feature === j)) {
          found = after;
          break;
        }
      }
      if (found === undefined) missed++;
      else delays.push(found);
    }
    delays.sort((a, b) => a - b);
    const median = delays.length ? delays[Math.floor((delays.length - 1) / 2)] : NaN;
    row.push(`${name}: ${delays.length ? `${median} / ${delays[delays.length - 1]}` : '—'}${missed ? `, missed ${missed}` : ''}${early ? `, early ${early}` : ''}`);
  }
  console.log(`  ${shift.label.padEnd(16)} ${row.join(' | ')}`);
}
