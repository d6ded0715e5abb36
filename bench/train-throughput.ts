/**
 * Training throughput: Flywheel's softmax-regression SGD against scikit-learn's SGDClassifier on
 * the same synthetic data (binary and 5-class, 20 features). Not a test: run it by hand and
 * copy the table into docs/benchmarks-train.md.
 *
 *   npx tsx bench/train-throughput.ts [--rows 1000000] [--epochs 5] [--repeat 3]
 *
 * Every measurement is repeated (alternating implementations) and the fastest run kept: on a
 * shared machine, noise only ever slows a run down.
 *
 * Each measurement runs in its own process that loads the data from raw little-endian files, so
 * peak RSS compares like with like (data + runtime + model). The data is generated in a child
 * too: Linux carries a process's RSS at fork into the child's ru_maxrss, so the parent must stay
 * small or every child would report at least the parent's size.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeClassification } from '../lib/data/synthetic';
import type { Dataset } from '../lib/data/table';
import { SoftmaxRegression, trainSoftmaxRegression, type SoftmaxRegressionHyperparameters } from '../lib/models/softmax-regression';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const FEATURES = 20;
const LEARNING_RATE = 0.01;
const L2 = 1e-4;
const SEED = 7;
const CASES = [
  { name: 'binary', classes: 2 },
  { name: '5-class', classes: 5 },
];

interface Measurement {
  implementation: string;
  rows: number;
  epochs: number;
  seconds: number;
  samplesPerSecond: number;
  peakRssMb: number;
  accuracy: number;
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer (got ${args[i + 1]})`);
  return v;
}

function writeRaw(file: string, a: Float64Array | Int32Array): void {
  // Typed arrays are host-endian; every platform Node supports for this is little-endian.
  if (os.endianness() !== 'LE') throw new Error('this benchmark writes raw little-endian files');
  writeFileSync(file, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

function readF64(file: string): Float64Array {
  const b = readFileSync(file);
  return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
}

function readI32(file: string): Int32Array {
  const b = readFileSync(file);
  return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** Child process: generate one case and write it as raw files. */
function generate(dir: string, classes: number, rows: number, holdoutRows: number): void {
  // Rows are i.i.d., so the tail of one generated set is an honest holdout.
  const ds = makeClassification({ rows: rows + holdoutRows, features: FEATURES, classes, seed: SEED });
  const cut = rows * FEATURES;
  writeRaw(path.join(dir, 'x_train.f64'), ds.x.subarray(0, cut));
  writeRaw(path.join(dir, 'y_train.i32'), ds.y.subarray(0, rows));
  writeRaw(path.join(dir, 'x_holdout.f64'), ds.x.subarray(cut));
  writeRaw(path.join(dir, 'y_holdout.i32'), ds.y.subarray(rows));
}

/** Child process: train with one batch size on the files in dir, print a Measurement. */
function child(dir: string, classes: number, epochs: number, batchSize: number): void {
  const x = readF64(path.join(dir, 'x_train.f64'));
  const y = readI32(path.join(dir, 'y_train.i32'));
  const xh = readF64(path.join(dir, 'x_holdout.f64'));
  const yh = readI32(path.join(dir, 'y_holdout.i32'));
  const nRows = y.length;
  const ds: Dataset = {
    featureNames: Array.from({ length: FEATURES }, (_, j) => `x${j}`),
    labelName: 'y',
    classes: Array.from({ length: classes }, (_, k) => String(k)),
    nRows,
    nFeatures: FEATURES,
    x,
    y,
  };
  const hp: SoftmaxRegressionHyperparameters = { learningRate: LEARNING_RATE, l2: L2, epochs, batchSize, seed: SEED };
  // Timed as the training activity runs it: scaler fit included.
  const start = performance.now();
  const { params } = trainSoftmaxRegression(ds, hp);
  const seconds = (performance.now() - start) / 1000;
  const pred = SoftmaxRegression.fromParams(params, hp).predict(xh, yh.length);
  let correct = 0;
  for (let i = 0; i < yh.length; i++) if (pred[i] === yh[i]) correct++;
  const m: Measurement = {
    implementation: `Flywheel TS, batchSize ${batchSize}`,
    rows: nRows,
    epochs,
    seconds,
    samplesPerSecond: (nRows * epochs) / seconds,
    // Node reports maxRSS in KiB.
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    accuracy: correct / yh.length,
  };
  console.log(JSON.stringify(m));
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

function runJson(cmd: string, args: string[]): Measurement {
  return JSON.parse(run(cmd, args).trim().split('\n').pop()!) as Measurement;
}

async function waitForSklearn(): Promise<string> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      return execFileSync(PYTHON, ['-c', 'import sklearn, numpy; print(sklearn.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      if (Date.now() > deadline) throw new Error(`${PYTHON} cannot import scikit-learn (run scripts/setup.sh)`);
      console.error('waiting for the project venv (.venv) to have scikit-learn...');
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--generate') {
    generate(args[1]!, Number(args[2]), Number(args[3]), Number(args[4]));
    return;
  }
  if (args[0] === '--child') {
    child(args[1]!, Number(args[2]), Number(args[3]), Number(args[4]));
    return;
  }
  const rows = flag(args, 'rows', 1_000_000);
  const epochs = flag(args, 'epochs', 5);
  const repeat = flag(args, 'repeat', 3);
  const holdoutRows = Math.max(1000, Math.round(rows * 0.2));
  const sklearnVersion = await waitForSklearn();
  const self = fileURLToPath(import.meta.url);

  const results: { case: string; m: Measurement; ratio: string }[] = [];
  for (const c of CASES) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'flywheel-bench-'));
    try {
      console.error(`${c.name}: generating ${rows + holdoutRows} rows...`);
      run(process.execPath, ['--import', 'tsx', self, '--generate', dir, String(c.classes), String(rows), String(holdoutRows)]);

      const ts = (batchSize: number) => () =>
        runJson(process.execPath, ['--import', 'tsx', self, '--child', dir, String(c.classes), String(epochs), String(batchSize)]);
      const sklearn = () =>
        runJson(PYTHON, [
          path.join(ROOT, 'bench', 'sklearn_sgd.py'),
          ...['--dir', dir, '--features', String(FEATURES), '--classes', String(c.classes), '--epochs', String(epochs)],
          ...['--lr', String(LEARNING_RATE), '--l2', String(L2), '--seed', String(SEED)],
        ]);
      const contenders = [ts(1), ts(64), sklearn];
      const best: (Measurement | undefined)[] = contenders.map(() => undefined);
      for (let r = 1; r <= repeat; r++) {
        contenders.forEach((measure, k) => {
          const m = measure();
          console.error(`${c.name} [${r}/${repeat}] ${m.implementation}: ${Math.round(m.samplesPerSecond).toLocaleString('en-US')} samples/s`);
          if (!best[k] || m.samplesPerSecond > best[k]!.samplesPerSecond) best[k] = m;
        });
      }
      const [ts1, ts64, sk] = best as Measurement[];
      for (const m of [ts1, ts64]) results.push({ case: c.name, m, ratio: (m.samplesPerSecond / sk.samplesPerSecond).toFixed(2) });
      results.push({ case: c.name, m: sk, ratio: '1.00' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `\n${rows.toLocaleString('en-US')} training rows × ${FEATURES} features, ${holdoutRows.toLocaleString('en-US')} holdout rows, ${epochs} epochs, best of ${repeat}, ` +
      `learning rate ${LEARNING_RATE}, L2 ${L2}; Node ${process.version}, scikit-learn ${sklearnVersion}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} cores)\n`,
  );
  console.log(`(peak RSS of the orchestrating process, a floor for every child's figure: ${Math.round(process.resourceUsage().maxRSS / 1024)} MB)\n`);
  console.log('| implementation | case | samples/s | peak RSS MB | accuracy | TS/sklearn |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.m.implementation} | ${r.case} | ${fmt(r.m.samplesPerSecond)} | ${fmt(r.m.peakRssMb)} | ${r.m.accuracy.toFixed(4)} | ${r.ratio} |`);
  }
}

await main();
