import { describe, expect, it } from 'vitest';
import { makeClassification } from '../data/synthetic';
import { stratifiedSplit } from '../data/split';
import { selectRows, type Dataset } from '../data/table';
import { createRng, deriveSeed } from '../random';
import { SoftmaxRegression, trainSoftmaxRegression, TrainingDivergedError, type SoftmaxRegressionHyperparameters } from './softmax-regression';
import type { SoftmaxRegressionParams } from './types';

const HP: SoftmaxRegressionHyperparameters = { learningRate: 0.1, l2: 1e-4, epochs: 5, batchSize: 16, seed: 3 };

function accuracy(model: SoftmaxRegression, ds: Dataset): number {
  const pred = model.predict(ds.x, ds.nRows);
  let ok = 0;
  for (let i = 0; i < ds.nRows; i++) if (pred[i] === ds.y[i]) ok++;
  return ok / ds.nRows;
}

function splitOf(ds: Dataset) {
  const s = stratifiedSplit(ds.y, ds.classes.length, 0.25, 1);
  return { train: selectRows(ds, s.train), holdout: selectRows(ds, s.holdout) };
}

/**
 * The textbook algorithm, written plainly: same visiting order (Fisher–Yates from the
 * (seed, epoch) stream), explicit L2 decay of every weight, full softmax for two classes too.
 * The trainer's lazy weight scale and two-class shortcut must agree with it.
 */
function referenceTrain(ds: Dataset, hp: SoftmaxRegressionHyperparameters): { w: number[][]; b: number[]; mean: number[]; scale: number[] } {
  const { nRows: n, nFeatures: d } = ds;
  const C = ds.classes.length;
  const mean = Array.from({ length: d }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += ds.x[i * d + j];
    return s / n;
  });
  const scale = mean.map((m, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (ds.x[i * d + j] - m) ** 2;
    return Math.sqrt(s / n) || 1;
  });
  const z = (i: number) => mean.map((m, j) => (ds.x[i * d + j] - m) / scale[j]);
  const w = Array.from({ length: C }, () => new Array<number>(d).fill(0));
  const b = new Array<number>(C).fill(0);
  for (let epoch = 1; epoch <= hp.epochs; epoch++) {
    const order = createRng(deriveSeed(hp.seed, epoch)).shuffle(Array.from({ length: n }, (_, i) => i));
    for (let start = 0; start < n; start += hp.batchSize) {
      const batch = order.slice(start, start + hp.batchSize);
      const gw = Array.from({ length: C }, () => new Array<number>(d).fill(0));
      const gb = new Array<number>(C).fill(0);
      for (const i of batch) {
        const zi = z(i);
        const logits = w.map((wc, c) => wc.reduce((s, v, j) => s + v * zi[j], b[c]));
        const max = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - max));
        const sum = e.reduce((a, v) => a + v, 0);
        for (let c = 0; c < C; c++) {
          const g = e[c] / sum - (c === ds.y[i] ? 1 : 0);
          gb[c] += g;
          for (let j = 0; j < d; j++) gw[c][j] += g * zi[j];
        }
      }
      for (let c = 0; c < C; c++) {
        b[c] -= (hp.learningRate * gb[c]) / batch.length;
        for (let j = 0; j < d; j++) w[c][j] = w[c][j] * (1 - hp.learningRate * hp.l2) - (hp.learningRate * gw[c][j]) / batch.length;
      }
    }
  }
  return { w, b, mean, scale };
}

describe('trainSoftmaxRegression', () => {
  it.each([
    ['binary', 2],
    ['4 classes', 4],
  ])('reaches > 0.9 holdout accuracy on separable data (%s)', (_name, classes) => {
    const ds = makeClassification({ rows: 4000, features: 8, classes, classSeparation: 2, labelNoise: 0, seed: 5 });
    const { train, holdout } = splitOf(ds);
    const { params, epochs } = trainSoftmaxRegression(train, HP);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(accuracy(SoftmaxRegression.fromParams(params, HP), holdout)).toBeGreaterThan(0.9);
  });

  it.each([
    ['binary, one row per step', 2, 1],
    ['binary, minibatches', 2, 7],
    ['3 classes, one row per step', 3, 1],
    ['3 classes, minibatches', 3, 7],
  ])('matches a plain reference implementation (%s)', (_name, classes, batchSize) => {
    const ds = makeClassification({ rows: 150, features: 4, classes, seed: 9 });
    // A large l2 makes the lazy decay matter; 150 rows leave a partial last batch.
    const hp = { ...HP, l2: 0.05, epochs: 3, batchSize };
    const { params } = trainSoftmaxRegression(ds, hp);
    const ref = referenceTrain(ds, hp);
    params.mean.forEach((m, j) => expect(m).toBeCloseTo(ref.mean[j], 12));
    params.scale.forEach((s, j) => expect(s).toBeCloseTo(ref.scale[j], 12));
    for (let j = 0; j < 4; j++) for (let c = 0; c < classes; c++) expect(params.weights[j * classes + c]).toBeCloseTo(ref.w[c][j], 10);
    params.bias.forEach((v, c) => expect(v).toBeCloseTo(ref.b[c], 10));
  });

  it.each([
    ['binary', 2, 1],
    ['binary, minibatches', 2, 32],
    ['3 classes', 3, 1],
    ['3 classes, minibatches', 3, 32],
  ])('resuming from a checkpoint gives bit-for-bit the uninterrupted result (%s)', (_name, classes, batchSize) => {
    const ds = makeClassification({ rows: 1001, features: 6, classes, seed: 2 });
    const hp = { ...HP, epochs: 6, batchSize };
    const full = trainSoftmaxRegression(ds, hp);

    let checkpoint: SoftmaxRegressionParams | undefined;
    const first = trainSoftmaxRegression(ds, hp, {
      onEpoch: (e) => {
        // Through JSON, as a real checkpoint file would be.
        checkpoint = JSON.parse(JSON.stringify(e.params()));
        return e.epoch === 3 ? false : undefined;
      },
    });
    expect(first.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    const resumed = trainSoftmaxRegression(ds, hp, { startEpoch: 4, initial: checkpoint });
    expect(resumed.epochs.map((e) => e.epoch)).toEqual([4, 5, 6]);
    expect(resumed.params).toEqual(full.params);
    expect(resumed.epochs).toEqual(full.epochs.slice(3));
    expect(trainSoftmaxRegression(ds, hp).params).toEqual(full.params);
  });

  it('startEpoch past the last epoch returns the initial params unchanged', () => {
    const ds = makeClassification({ rows: 100, features: 3, classes: 2, seed: 1 });
    const { params } = trainSoftmaxRegression(ds, { ...HP, epochs: 2 });
    const again = trainSoftmaxRegression(ds, { ...HP, epochs: 2 }, { startEpoch: 3, initial: params });
    expect(again).toEqual({ params, epochs: [] });
  });

  it('the loss falls epoch after epoch', () => {
    const ds = makeClassification({ rows: 2000, features: 5, classes: 3, seed: 4 });
    const { epochs } = trainSoftmaxRegression(ds, { ...HP, epochs: 4, learningRate: 0.02 });
    for (let k = 1; k < epochs.length; k++) expect(epochs[k].loss).toBeLessThan(epochs[k - 1].loss);
    // An untrained three-class model scores ln 3.
    expect(epochs[0].loss).toBeLessThan(Math.log(3));
  });

  it('rejects a resume without params, and params for another dataset', () => {
    const ds = makeClassification({ rows: 50, features: 3, classes: 2, seed: 1 });
    expect(() => trainSoftmaxRegression(ds, HP, { startEpoch: 2 })).toThrow('startEpoch 2 needs the initial params checkpointed after epoch 1');
    expect(() => trainSoftmaxRegression(ds, HP, { startEpoch: 0 })).toThrow('startEpoch must be an integer in [1, 6] (got 0)');
    const other = trainSoftmaxRegression(makeClassification({ rows: 50, features: 3, classes: 3, seed: 1 }), { ...HP, epochs: 1 }).params;
    expect(() => trainSoftmaxRegression(ds, HP, { startEpoch: 2, initial: other })).toThrow(/do not match the dataset/);
  });

  it('throws TrainingDivergedError when the loss stops being finite', () => {
    const ds = makeClassification({ rows: 50, features: 3, classes: 2, seed: 1 });
    const huge: SoftmaxRegressionParams = {
      family: 'softmax-regression',
      nFeatures: 3,
      classes: ['0', '1'],
      mean: [0, 0, 0],
      scale: [1e-300, 1e-300, 1e-300],
      weights: [1e300, 1e300, 1e300, -1e300, 1e300, -1e300],
      bias: [0, 0],
    };
    expect(() => trainSoftmaxRegression(ds, HP, { initial: huge })).toThrow(TrainingDivergedError);
  });
});

describe('SoftmaxRegression', () => {
  const params: SoftmaxRegressionParams = {
    family: 'softmax-regression',
    nFeatures: 2,
    classes: ['a', 'b', 'c'],
    mean: [1, -1],
    scale: [2, 0.5],
    // [d][C]
    weights: [1, 0, -1, 0.5, 2, 0],
    bias: [0, 0.1, -0.1],
  };

  it('predictProba follows the documented formula, row-major n × C', () => {
    const m = SoftmaxRegression.fromParams(params, HP);
    const x = Float64Array.from([3, 0, -1, -1]);
    const p = m.predictProba(x, 2);
    for (let i = 0; i < 2; i++) {
      const z = [(x[i * 2] - 1) / 2, (x[i * 2 + 1] + 1) / 0.5];
      const logits = [0, 1, 2].map((c) => z[0] * params.weights[c] + z[1] * params.weights[3 + c] + params.bias[c]);
      const e = logits.map(Math.exp);
      const s = e[0] + e[1] + e[2];
      for (let c = 0; c < 3; c++) expect(p[i * 3 + c]).toBeCloseTo(e[c] / s, 14);
    }
    // Logits: row 0 (2, 4.1, −1.1), row 1 (−1, 0.1, 0.9).
    expect([...m.predict(x, 2)]).toEqual([1, 2]);
  });

  it('stays finite with logits far beyond exp range', () => {
    const m = SoftmaxRegression.fromParams({ ...params, weights: params.weights.map((w) => w * 1e6) }, HP);
    const p = m.predictProba(Float64Array.from([3, 0]), 1);
    expect([...p].every(Number.isFinite)).toBe(true);
    expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 12);
  });

  it('round-trips through params', () => {
    const ds = makeClassification({ rows: 300, features: 4, classes: 3, seed: 6 });
    const m = SoftmaxRegression.create(4, ds.classes, HP);
    m.fitScaler(ds.x, ds.nRows);
    m.partialFit(ds.x, ds.y, ds.nRows, 1);
    const copy = SoftmaxRegression.fromParams(m.toParams(), HP);
    expect(copy.toParams()).toEqual(m.toParams());
    expect(copy.predictProba(ds.x, ds.nRows)).toEqual(m.predictProba(ds.x, ds.nRows));
  });

  it('fitScaler standardises, giving constant columns scale 1 and mean equal to the constant', () => {
    const m = SoftmaxRegression.create(2, ['0', '1'], HP);
    m.fitScaler(Float64Array.from([0.1, 2, 0.1, 4, 0.1, 6]), 3);
    const p = m.toParams();
    expect(p.mean).toEqual([0.1, 4]);
    expect(p.scale[0]).toBe(1);
    expect(p.scale[1]).toBeCloseTo(Math.sqrt(8 / 3), 14);
    expect(() => m.fitScaler(Float64Array.from([1, 2]), 1)).toThrow('the scaler is already set');
  });

  it('partialFit works as an online update on new data and lowers its loss there', () => {
    const opts = { features: 5, classes: 2, classSeparation: 1.5, labelNoise: 0 };
    const old = makeClassification({ ...opts, rows: 2000, seed: 1 });
    const fresh = makeClassification({ ...opts, rows: 2000, seed: 1 });
    const m = SoftmaxRegression.fromParams(trainSoftmaxRegression(old, { ...HP, epochs: 1, learningRate: 0.01 }).params, HP);
    const first = m.partialFit(fresh.x, fresh.y, fresh.nRows, 1);
    const second = m.partialFit(fresh.x, fresh.y, fresh.nRows, 2);
    expect(second).toBeLessThan(first);
  });

  it('partialFit starts from scratch once the scaler is set', () => {
    const ds = makeClassification({ rows: 500, features: 3, classes: 2, classSeparation: 2, labelNoise: 0, seed: 8 });
    const m = SoftmaxRegression.create(3, ds.classes, HP);
    expect(() => m.partialFit(ds.x, ds.y, ds.nRows)).toThrow('call fitScaler (or start from params) before partialFit');
    m.fitScaler(ds.x, ds.nRows);
    const loss = m.partialFit(ds.x, ds.y, ds.nRows);
    expect(loss).toBeLessThan(Math.log(2));
    expect(accuracy(m, ds)).toBeGreaterThan(0.9);
  });

  it('rejects bad input', () => {
    const m = SoftmaxRegression.create(2, ['0', '1'], HP);
    m.fitScaler(Float64Array.from([1, 2, 3, 4]), 2);
    expect(() => m.partialFit(Float64Array.from([1, 2, 3, 4]), Int32Array.from([0, 2]), 2)).toThrow('label index 2 at row 1 is outside [0, 2)');
    expect(() => m.partialFit(Float64Array.from([1, 2, 3]), Int32Array.from([0, 1]), 2)).toThrow('x has 3 values, expected at least 2 rows × 2 features');
    expect(() => SoftmaxRegression.create(2, ['only'], HP)).toThrow('softmax regression needs at least two classes (got 1)');
    expect(() => SoftmaxRegression.create(2, ['0', '1'], { ...HP, batchSize: 0 })).toThrow('batchSize must be a positive integer (got 0)');
    expect(() => SoftmaxRegression.fromParams({ ...params, weights: [1] }, HP)).toThrow('invalid softmax-regression params: weights has 1 values, expected 6');
    expect(() => SoftmaxRegression.fromParams({ ...params, scale: [0, 1] }, HP)).toThrow('invalid softmax-regression params: scale has a value <= 0');
  });
});
