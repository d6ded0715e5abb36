/**
 * Online learning and drift detection against River, side by side on the same streams:
 *
 *   npx tsx bench/online/run.ts [--samples 200000] [--adwin-samples 1000000] [--repeat 2]
 *
 * 1. Learners: progressive validation (predict, then learn, one sample at a time) on a SEA stream
 *    with an abrupt concept change and on a rotating Hyperplane, written once to raw files that
 *    both sides read. Reports samples/s, accuracy, peak RSS and our/River throughput ratio.
 * 2. ADWIN (River's defaults) on the same value streams: detection indices compared one by one,
 *    and updates/s.
 *
 * Every measurement runs in its own process (peak RSS then compares like with like) and is
 * repeated, alternating implementations, keeping the fastest: noise on a shared machine only
 * ever slows a run down. Data is generated in a child too, so the parent stays small (Linux
 * carries a parent's RSS at fork into a child's ru_maxrss).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Adwin } from '../../lib/drift/adwin';
import { BaggingClassifier } from '../../lib/online/bagging';
import { progressiveValidation } from '../../lib/online/batch';
import { LogisticRegression } from '../../lib/online/logistic-regression';
import { PaClassifier } from '../../lib/online/pa-classifier';
import type { OnlineClassifier } from '../../lib/online/types';
import { createRng } from '../../lib/random';
import { ConceptDriftStream } from '../../lib/streams/concept-drift';
import { Hyperplane } from '../../lib/streams/hyperplane';
import { Sea } from '../../lib/streams/sea';
import { take, type DataStream } from '../../lib/streams/types';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const SELF = fileURLToPath(import.meta.url);
const SEED = 1;

const DATASETS = [
  { name: 'sea', features: 3, describe: 'SEA, noise 0.1, variant 0 → 2 abrupt at the middle (width 1)' },
  { name: 'hyperplane', features: 10, describe: 'rotating Hyperplane, 10 features, 2 drifting, mag_change 0.001, noise 5%' },
];
const LEARNERS = [
  { name: 'logreg', describe: 'LogisticRegression (SGD lr 0.01)' },
  { name: 'pa1', describe: 'PAClassifier PA-I (C 1)' },
  { name: 'pa2', describe: 'PAClassifier PA-II (C 1)' },
  { name: 'bagging_logreg', describe: 'Bagging ×10 LogisticRegression' },
  { name: 'adwin_bagging_logreg', describe: 'ADWIN bagging ×10 LogisticRegression' },
];
const ADWIN_STREAMS = [
  { name: 'bernoulli_abrupt', describe: 'Bernoulli errors, rate 0.2/0.5/0.1/0.3 in four equal blocks' },
  { name: 'bernoulli_gradual', describe: 'Bernoulli errors, rate rising linearly 0.1 → 0.6' },
  { name: 'bernoulli_stationary', describe: 'Bernoulli errors, rate 0.3 throughout' },
  { name: 'gaussian_shifts', describe: 'N(μ, 1), μ switching among 0, 0.5, 1 every 50 000' },
  { name: 'sea_logreg_errors', describe: 'LogisticRegression progressive errors on the SEA stream above' },
];

function makeLearner(name: string, d: number): OnlineClassifier {
  switch (name) {
    case 'logreg':
      return new LogisticRegression({ nFeatures: d });
    case 'pa1':
      return new PaClassifier({ nFeatures: d });
    case 'pa2':
      return new PaClassifier({ nFeatures: d, mode: 2 });
    case 'bagging_logreg':
      return new BaggingClassifier(new LogisticRegression({ nFeatures: d }), { nModels: 10, seed: SEED });
    case 'adwin_bagging_logreg':
      return new BaggingClassifier(new LogisticRegression({ nFeatures: d }), { nModels: 10, seed: SEED, adwin: true });
    default:
      throw new Error(`unknown learner ${name}`);
  }
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer (got ${args[i + 1]})`);
  return v;
}

const writeF64 = (file: string, a: Float64Array) => writeFileSync(file, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const writeI32 = (file: string, a: Int32Array) => writeFileSync(file, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
function readF64(file: string): Float64Array {
  const b = readFileSync(file);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function readI32(file: string): Int32Array {
  const b = readFileSync(file);
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function generate(dir: string, n: number, nAdwin: number): void {
  const seaStream = (seed: number): DataStream =>
    new ConceptDriftStream(new Sea({ variant: 0, noise: 0.1, seed }), new Sea({ variant: 2, noise: 0.1, seed: seed + 1 }), {
      position: Math.floor(n / 2),
      width: 1,
      seed: seed + 2,
    });
  const sea = take(seaStream(SEED), n);
  writeF64(path.join(dir, 'sea.x.f64'), sea.X);
  writeI32(path.join(dir, 'sea.y.i32'), sea.y);
  const hp = take(new Hyperplane({ nFeatures: 10, nDriftFeatures: 2, magChange: 0.001, seed: SEED }), n);
  writeF64(path.join(dir, 'hyperplane.x.f64'), hp.X);
  writeI32(path.join(dir, 'hyperplane.y.i32'), hp.y);

  const rng = createRng(SEED + 100);
  const bern = (rate: (i: number) => number) => Float64Array.from({ length: nAdwin }, (_, i) => (rng.next() < rate(i) ? 1 : 0));
  const block = Math.floor(nAdwin / 4);
  writeF64(path.join(dir, 'bernoulli_abrupt.f64'), bern((i) => [0.2, 0.5, 0.1, 0.3][Math.min(3, Math.floor(i / block))]));
  writeF64(path.join(dir, 'bernoulli_gradual.f64'), bern((i) => 0.1 + (0.5 * i) / nAdwin));
  writeF64(path.join(dir, 'bernoulli_stationary.f64'), bern(() => 0.3));
  const means = [0, 0.5, 1];
  let mu = 0;
  writeF64(
    path.join(dir, 'gaussian_shifts.f64'),
    Float64Array.from({ length: nAdwin }, (_, i) => {
      if (i % 50_000 === 0) mu = means[rng.nextInt(3)];
      return mu + rng.normal();
    }),
  );
  const errs = take(seaStream(SEED + 10), nAdwin);
  const pv = progressiveValidation(new LogisticRegression({ nFeatures: 3 }), errs.X, errs.y);
  writeF64(path.join(dir, 'sea_logreg_errors.f64'), Float64Array.from(pv.errors));
}

const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

function workerLearner(dir: string, dataset: string, learner: string, d: number): object {
  const X = readF64(path.join(dir, `${dataset}.x.f64`));
  const y = readI32(path.join(dir, `${dataset}.y.i32`));
  const model = makeLearner(learner, d);
  const t0 = process.hrtime.bigint();
  const r = progressiveValidation(model, X, y);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { implementation: 'flywheel', samples: r.n, seconds, samplesPerSecond: r.n / seconds, accuracy: r.accuracy, peakRssMb: peakRssMb() };
}

function workerAdwin(dir: string, dataset: string): object {
  const values = readF64(path.join(dir, `${dataset}.f64`));
  const a = new Adwin();
  const detections: number[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < values.length; i++) if (a.update(values[i]).driftDetected) detections.push(i);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    implementation: 'flywheel',
    updates: values.length,
    seconds,
    updatesPerSecond: values.length / seconds,
    detections,
    width: a.width,
    estimation: a.estimation,
    peakRssMb: peakRssMb(),
  };
}

function runChild(cmd: string, args: string[]): Record<string, any> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line);
}

function fastest<T extends { seconds: number }>(runs: T[]): T {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

const fmt = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function firstDifferences(a: number[], b: number[], k = 3): string {
  const onlyA = a.filter((v) => !b.includes(v)).slice(0, k);
  const onlyB = b.filter((v) => !a.includes(v)).slice(0, k);
  return `ours only: [${onlyA.join(', ')}], River only: [${onlyB.join(', ')}]`;
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === '--worker') {
    const [, kind, dir, dataset, learner, d] = args;
    const out = kind === 'learner' ? workerLearner(dir, dataset, learner, Number(d)) : workerAdwin(dir, dataset);
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  if (args[0] === '--generate') {
    generate(args[1], Number(args[2]), Number(args[3]));
    process.stdout.write('{}\n');
    return;
  }
  const n = flag(args, 'samples', 200_000);
  const nAdwin = flag(args, 'adwin-samples', 1_000_000);
  const repeat = flag(args, 'repeat', 2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flywheel-online-'));
  try {
    const river = spawnSync(PYTHON, ['-c', 'import river; print(river.__version__)'], { encoding: 'utf8' }).stdout.trim();
    console.log(`# Online learning vs River ${river} — node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}`);
    console.log(`samples per learner run: ${fmt(n)}, ADWIN stream length: ${fmt(nAdwin)}, best of ${repeat}\n`);
    runChild(TSX, [SELF, '--generate', dir, String(n), String(nAdwin)]);

    for (const ds of DATASETS) {
      console.log(`## ${ds.name}: ${ds.describe}\n`);
      console.log('| learner | ours samples/s | River samples/s | ratio | ours accuracy | River accuracy | ours peak RSS MB | River peak RSS MB |');
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const l of LEARNERS) {
        const ours: any[] = [];
        const theirs: any[] = [];
        for (let r = 0; r < repeat; r++) {
          ours.push(runChild(TSX, [SELF, '--worker', 'learner', dir, ds.name, l.name, String(ds.features)]));
          theirs.push(
            runChild(PYTHON, [path.join(HERE, 'river_bench.py'), 'learner', '--dir', dir, '--dataset', ds.name, '--learner', l.name, '--features', String(ds.features), '--seed', String(SEED)]),
          );
        }
        const o = fastest(ours);
        const t = fastest(theirs);
        console.log(
          `| ${l.describe} | ${fmt(o.samplesPerSecond)} | ${fmt(t.samplesPerSecond)} | ${fmt(o.samplesPerSecond / t.samplesPerSecond, 1)}× | ${fmt(o.accuracy, 4)} | ${fmt(t.accuracy, 4)} | ${fmt(o.peakRssMb)} | ${fmt(t.peakRssMb)} |`,
        );
      }
      console.log('');
    }

    console.log('## ADWIN (delta 0.002, clock 32, max_buckets 5, min_window_length 5, grace_period 10)\n');
    console.log('| stream | detections ours / River | identical | first differences | ours updates/s | River updates/s | ratio |');
    console.log('| --- | ---: | :---: | --- | ---: | ---: | ---: |');
    for (const s of ADWIN_STREAMS) {
      const ours: any[] = [];
      const theirs: any[] = [];
      for (let r = 0; r < repeat; r++) {
        ours.push(runChild(TSX, [SELF, '--worker', 'adwin', dir, s.name]));
        theirs.push(runChild(PYTHON, [path.join(HERE, 'river_bench.py'), 'adwin', '--dir', dir, '--dataset', s.name]));
      }
      const o = fastest(ours);
      const t = fastest(theirs);
      const same = JSON.stringify(o.detections) === JSON.stringify(t.detections) && o.width === t.width && o.estimation === t.estimation;
      console.log(
        `| ${s.describe} | ${o.detections.length} / ${t.detections.length} | ${same ? 'yes' : 'no'} | ${same ? '—' : firstDifferences(o.detections, t.detections)} | ${fmt(o.updatesPerSecond)} | ${fmt(t.updatesPerSecond)} | ${fmt(o.updatesPerSecond / t.updatesPerSecond, 1)}× |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
