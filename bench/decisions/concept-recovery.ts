/**
 * Recovery after a concept change (issue 15's measure): labelled outcomes until the served accuracy
 * is back within one point of its level before the change, for the ways Flywheel can react — same
 * stream, same label delay, same label coverage, same detector:
 *
 *   flywheel     the drift monitor (ADWIN on the served errors, lib/retraining/error-monitor.ts) finds
 *                a rise, waits for `min-rows` labelled outcomes served after it, then retrains on those
 *                only (`production:<window>@<rise>`, at most `window` of them), split by time (train on
 *                the older 80 %, judge on the newest 20 %, lib/data/split.ts timeSplit), canaried when
 *                it beats the champion's log loss by the margin (lib/retraining/decision.ts); the
 *                canary takes `turnaround` predictions. What workflows/drift-monitor.ts does.
 *   window-at-rise  the same, but the retraining starts at the rise on the newest `window` labels:
 *                what the drift monitor did before (mostly the old concept: it stalls).
 *   fixed        the same trigger, but the retraining learns the dataset configured when the monitor
 *                was made (a fresh draw of the old concept) and is judged on a random holdout of it:
 *                what Flywheel did before production data.
 *   online       the champion warm-starts an online softmax regression (lib/online) that learns each
 *                label as it arrives (the gateway's online models).
 *   none         nothing happens: how far the change drops the champion.
 *
 *   npx tsx bench/decisions/concept-recovery.ts [--seeds 20] [--stream hyperplane|sea] [--min-rows 2000] [--before 20000]
 *       [--after 40000] [--delay 500] [--coverage 1] [--window 8000] [--turnaround 2000] [--acc-window 1000]
 *
 * "Recovered" = the first prediction after the change at which the accuracy of the last `acc-window`
 * served predictions is ≥ the accuracy of the `acc-window` predictions before the change − 0.01; the
 * figure is the labels that had arrived for post-change predictions by then (what the loop had to
 * learn from) and the predictions served. Not recovered within `after`: counted as such. Every
 * prediction's truth is known to the bench, so served accuracy is exact, labelled or not.
 * Deterministic for given flags. A benchmark, not a test.
 */
import { parseArgs } from 'node:util';
import type { Dataset } from '../../lib/data/table';
import { selectRows } from '../../lib/data/table';
import { stratifiedSplit, timeSplit } from '../../lib/data/split';
import { classificationMetrics } from '../../lib/metrics/classification';
import { SoftmaxRegression, trainSoftmaxRegression, type SoftmaxRegressionHyperparameters } from '../../lib/models/softmax-regression';
import type { SoftmaxRegressionParams } from '../../lib/models/types';
import { fromSoftmaxRegressionParams } from '../../lib/online';
import { deriveSeed } from '../../lib/random';
import { decide } from '../../lib/retraining/decision';
import { DEFAULT_MARGIN } from '../../lib/retraining/spec';
import { ErrorMonitor } from '../../lib/retraining/error-monitor';
import { Hyperplane, Sea, type DataStream } from '../../lib/streams';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '20' },
    stream: { type: 'string', default: 'hyperplane' },
    before: { type: 'string', default: '20000' },
    after: { type: 'string', default: '40000' },
    delay: { type: 'string', default: '500' },
    coverage: { type: 'string', default: '1' },
    window: { type: 'string', default: '8000' },
    turnaround: { type: 'string', default: '2000' },
    'acc-window': { type: 'string', default: '1000' },
    'train-rows': { type: 'string', default: '10000' },
    'min-rows': { type: 'string', default: '2000' },
    json: { type: 'boolean', default: false },
  },
});
const SEEDS = Number(values.seeds);
const BEFORE = Number(values.before);
const AFTER = Number(values.after);
const DELAY = Number(values.delay);
const COVERAGE = Number(values.coverage);
const WINDOW = Number(values.window);
const TURNAROUND = Number(values.turnaround);
const ACC_WINDOW = Number(values['acc-window']);
const TRAIN_ROWS = Number(values['train-rows']);
const DELTA = 0.002;
const HP: SoftmaxRegressionHyperparameters = { learningRate: 0.1, l2: 1e-4, epochs: 20, batchSize: 64, seed: 42 };
const STRATEGIES = ['flywheel', 'window-at-rise', 'fixed', 'online', 'none'] as const;
const MIN_ROWS = Number(values['min-rows']);
type Strategy = (typeof STRATEGIES)[number];

/** The concept before and after the change: same feature distribution, another labelling rule. */
function concepts(seed: number): { old: () => DataStream; next: () => DataStream } {
  if (values.stream === 'sea') return { old: () => new Sea({ variant: 2, noise: 0.05, seed: deriveSeed(seed, 1) }), next: () => new Sea({ variant: 3, noise: 0.05, seed: deriveSeed(seed, 2) }) };
  // Two hyperplanes with different random weights: the boundary turns, the inputs do not move.
  return {
    old: () => new Hyperplane({ nFeatures: 10, nDriftFeatures: 0, noisePercentage: 0.05, seed: deriveSeed(seed, 1) }),
    next: () => new Hyperplane({ nFeatures: 10, nDriftFeatures: 0, noisePercentage: 0.05, seed: deriveSeed(seed, 2) }),
  };
}

function toDataset(rows: Array<{ x: Float64Array; y: number }>, d: number): Dataset {
  const x = new Float64Array(rows.length * d);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(r.x, i * d);
    y[i] = r.y;
  });
  return { featureNames: Array.from({ length: d }, (_, j) => `x${j}`), labelName: 'y', classes: ['0', '1'], nRows: rows.length, nFeatures: d, x, y };
}

function scores(params: SoftmaxRegressionParams, ds: Dataset): { accuracy: number; logLoss: number } {
  const m = SoftmaxRegression.fromParams(params, HP);
  const proba = m.predictProba(ds.x, ds.nRows);
  return classificationMetrics(ds.y, proba, 2);
}

/** Train on the older part, judge both on the holdout, promote by the margin: the Retraining workflow's decision. */
function retrain(champion: SoftmaxRegressionParams, ds: Dataset, split: 'time' | 'random', seed: number): SoftmaxRegressionParams | undefined {
  const s = split === 'time' ? timeSplit(ds.nRows, 0.2) : stratifiedSplit(ds.y, 2, 0.2, seed);
  const train = selectRows(ds, s.train);
  const holdout = selectRows(ds, s.holdout);
  const challenger = trainSoftmaxRegression(train, { ...HP, seed }).params;
  const d = decide('logLoss', DEFAULT_MARGIN, scores(champion, holdout), scores(challenger, holdout), { champion: '1', challenger: '2' });
  return d.kind === 'canary' ? challenger : undefined;
}

interface RunResult {
  preAccuracy: number;
  /** Labels for post-change predictions that had arrived when served accuracy recovered; undefined: never. */
  labelsToRecover?: number;
  predictionsToRecover?: number;
  retrainings: number;
  promotions: number;
  finalAccuracy: number;
}

function runOne(strategy: Strategy, seed: number): RunResult {
  const { old, next } = concepts(seed);
  const d = old().nFeatures;
  // v1: the champion, trained on the configured dataset (the old concept).
  const reference = old();
  const trainRows = Array.from({ length: TRAIN_ROWS }, () => reference.next());
  let servedParams = trainSoftmaxRegression(toDataset(trainRows, d), HP).params;
  let batchModel = SoftmaxRegression.fromParams(servedParams, HP);
  const online = strategy === 'online' ? fromSoftmaxRegressionParams(servedParams) : undefined;
  const monitor = ErrorMonitor.create(DELTA);
  const before = old();
  const after = next();
  const total = BEFORE + AFTER;
  // Per prediction: its features, truth, whether the served answer was right, whether it gets a label.
  const xs: Float64Array[] = new Array(total);
  const ys = new Int32Array(total);
  const right = new Uint8Array(total);
  const labelled = new Uint8Array(total);
  let coverageState = deriveSeed(seed, 7) >>> 0;
  const labelledRows: number[] = []; // prediction indices, in label-arrival order
  let pendingDeploy: { at: number; params: SoftmaxRegressionParams } | undefined;
  let retrainingRunning = false;
  let waitingSince: number | undefined;
  let retrainings = 0;
  let promotions = 0;
  let windowRight = 0;
  let preAccuracy = NaN;
  let labelsAfterChange = 0;
  const result: RunResult = { preAccuracy: NaN, retrainings: 0, promotions: 0, finalAccuracy: NaN };

  for (let t = 0; t < total; t++) {
    // A canary that finished before this prediction: the challenger now serves everything.
    if (pendingDeploy && t >= pendingDeploy.at) {
      servedParams = pendingDeploy.params;
      batchModel = SoftmaxRegression.fromParams(servedParams, HP);
      pendingDeploy = undefined;
      retrainingRunning = false;
      promotions++;
    }
    const s = t < BEFORE ? before.next() : after.next();
    xs[t] = s.x;
    ys[t] = s.y;
    const guess = online ? online.predictOne(s.x) : batchModel.predict(s.x, 1)[0]!;
    right[t] = guess === s.y ? 1 : 0;
    coverageState = (Math.imul(coverageState, 1664525) + 1013904223) >>> 0;
    labelled[t] = coverageState / 2 ** 32 < COVERAGE ? 1 : 0;

    windowRight += right[t]!;
    if (t >= ACC_WINDOW) windowRight -= right[t - ACC_WINDOW]!;
    if (t === BEFORE - 1) preAccuracy = windowRight / ACC_WINDOW;
    if (t >= BEFORE + ACC_WINDOW && result.labelsToRecover === undefined && windowRight / ACC_WINDOW >= preAccuracy - 0.01) {
      result.labelsToRecover = labelsAfterChange;
      result.predictionsToRecover = t + 1 - BEFORE;
    }

    // The label of the prediction served DELAY ago arrives now.
    const a = t - DELAY;
    if (a < 0 || !labelled[a]) continue;
    labelledRows.push(a);
    if (a >= BEFORE) labelsAfterChange++;
    if (online) online.learnOne(xs[a]!, ys[a]!);
    if (strategy === 'online' || strategy === 'none') continue;
    const changes = monitor.feed([right[a] ? 0 : 1]);
    const rise = changes.find((c) => c.direction === 'increase');
    if (strategy === 'flywheel' && rise && !retrainingRunning) {
      // ADWIN kept the outcomes after the change it found: the retraining learns only those, once
      // there are enough of them (it waits for them, as a retraining that is "running").
      waitingSince = labelledRows.length;
      retrainingRunning = true;
      retrainings++;
    }
    if (strategy === 'flywheel' && waitingSince !== undefined && labelledRows.length - waitingSince >= MIN_ROWS) {
      const rows = labelledRows.slice(Math.max(waitingSince, labelledRows.length - WINDOW)).map((i) => ({ x: xs[i]!, y: ys[i]! }));
      waitingSince = undefined;
      const challenger = retrain(servedParams, toDataset(rows, d), 'time', deriveSeed(seed, retrainings));
      if (challenger) pendingDeploy = { at: t + TURNAROUND, params: challenger };
      else retrainingRunning = false;
      continue;
    }
    if (strategy === 'flywheel' || retrainingRunning || !rise) continue;
    // A retraining starts; it trains now on what it can read now, and serves after the canary.
    retrainingRunning = true;
    retrainings++;
    let challenger: SoftmaxRegressionParams | undefined;
    if (strategy === 'window-at-rise') {
      const rows = labelledRows.slice(-WINDOW).map((i) => ({ x: xs[i]!, y: ys[i]! }));
      if (rows.length >= 50) challenger = retrain(servedParams, toDataset(rows, d), 'time', deriveSeed(seed, retrainings));
    } else {
      const fresh = old();
      for (let k = 0; k < retrainings; k++) fresh.next(); // another draw of the configured data
      const rows = Array.from({ length: TRAIN_ROWS }, () => fresh.next());
      challenger = retrain(servedParams, toDataset(rows, d), 'random', deriveSeed(seed, retrainings));
    }
    if (challenger) pendingDeploy = { at: t + TURNAROUND, params: challenger };
    else retrainingRunning = false;
  }
  result.preAccuracy = preAccuracy;
  result.retrainings = retrainings;
  result.promotions = promotions;
  result.finalAccuracy = windowRight / ACC_WINDOW;
  return result;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]! : NaN;
};
const fmt = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');

const started = performance.now();
const table: Record<string, unknown>[] = [];
for (const strategy of STRATEGIES) {
  const runs = Array.from({ length: SEEDS }, (_, i) => runOne(strategy, i + 1));
  const recovered = runs.filter((r) => r.labelsToRecover !== undefined);
  table.push({
    strategy,
    recovered: `${recovered.length}/${runs.length}`,
    labelsMedian: quantile(recovered.map((r) => r.labelsToRecover!), 0.5),
    labelsP90: quantile(recovered.map((r) => r.labelsToRecover!), 0.9),
    predictionsMedian: quantile(recovered.map((r) => r.predictionsToRecover!), 0.5),
    preAccuracy: quantile(runs.map((r) => r.preAccuracy), 0.5),
    finalAccuracy: quantile(runs.map((r) => r.finalAccuracy), 0.5),
    retrainingsMedian: quantile(runs.map((r) => r.retrainings), 0.5),
    promotionsMedian: quantile(runs.map((r) => r.promotions), 0.5),
  });
}
const seconds = (performance.now() - started) / 1000;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
if (values.json) {
  console.log(JSON.stringify({ flags: values, table, seconds, peakRssMiB }, null, 2));
} else {
  console.log(`stream ${values.stream}, change after ${BEFORE} predictions, ${AFTER} after; label delay ${DELAY} predictions, coverage ${COVERAGE}; window ${WINDOW} labels; turnaround ${TURNAROUND}; ${SEEDS} seeds`);
  console.log('| strategy | recovered | labels to recover, median / p90 | predictions to recover, median | accuracy before the change | accuracy at the end | retrainings / promotions (median) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of table) {
    const x = r as { strategy: string; recovered: string; labelsMedian: number; labelsP90: number; predictionsMedian: number; preAccuracy: number; finalAccuracy: number; retrainingsMedian: number; promotionsMedian: number };
    console.log(`| ${x.strategy} | ${x.recovered} | ${fmt(x.labelsMedian)} / ${fmt(x.labelsP90)} | ${fmt(x.predictionsMedian)} | ${x.preAccuracy.toFixed(3)} | ${x.finalAccuracy.toFixed(3)} | ${x.retrainingsMedian} / ${x.promotionsMedian} |`);
  }
  console.log(`${seconds.toFixed(1)} s, peak RSS ${peakRssMiB.toFixed(0)} MiB`);
}
