import { describe, expect, it } from 'vitest';
import { Agrawal, roundHalfEven, type AgrawalFunction } from './agrawal';
import { ConceptDriftStream } from './concept-drift';
import { Hyperplane } from './hyperplane';
import { Sea, SEA_THRESHOLDS } from './sea';
import { Stagger } from './stagger';
import { take, type DataStream } from './types';

const N = 20_000;
/** Tolerance for a proportion estimated from n draws: 5 standard errors. */
const tol = (p: number, n: number) => 5 * Math.sqrt((p * (1 - p)) / n);

describe('SEA', () => {
  for (const variant of [0, 1, 2, 3] as const) {
    it(`variant ${variant}: noiseless labels follow x0 + x1 > ${SEA_THRESHOLDS[variant]}, features uniform on [0, 10)`, () => {
      const { X, y } = take(new Sea({ variant, seed: variant }), N);
      let pos = 0;
      let wrong = 0;
      let outside = 0;
      const sums = [0, 0, 0];
      for (let i = 0; i < N; i++) {
        if (y[i] !== (X[3 * i] + X[3 * i + 1] > SEA_THRESHOLDS[variant] ? 1 : 0)) wrong++;
        for (let j = 0; j < 3; j++) {
          const v = X[3 * i + j];
          if (!(v >= 0 && v < 10)) outside++;
          sums[j] += v;
        }
        pos += y[i];
      }
      expect(wrong).toBe(0);
      expect(outside).toBe(0);
      // P(U1 + U2 > θ) for U uniform on [0, 10): 1 − θ²/200 for θ ≤ 10.
      const expected = 1 - SEA_THRESHOLDS[variant] ** 2 / 200;
      expect(Math.abs(pos / N - expected)).toBeLessThan(tol(expected, N));
      for (const s of sums) expect(Math.abs(s / N - 5)).toBeLessThan(0.1);
    });
  }

  it('flips labels at the noise rate', () => {
    const { X, y } = take(new Sea({ noise: 0.1, seed: 3 }), N);
    let flipped = 0;
    for (let i = 0; i < N; i++) if (y[i] !== (X[3 * i] + X[3 * i + 1] > 8 ? 1 : 0)) flipped++;
    expect(Math.abs(flipped / N - 0.1)).toBeLessThan(tol(0.1, N));
  });

  it('is reproducible from its seed and differs across seeds', () => {
    expect(take(new Sea({ seed: 5 }), 100)).toEqual(take(new Sea({ seed: 5 }), 100));
    expect(take(new Sea({ seed: 5 }), 100).X).not.toEqual(take(new Sea({ seed: 6 }), 100).X);
  });

  it('rejects bad options', () => {
    expect(() => new Sea({ variant: 4 as 0 })).toThrow(RangeError);
    expect(() => new Sea({ noise: 1.5 })).toThrow(RangeError);
  });
});

describe('STAGGER', () => {
  const concepts = [
    (s: number, c: number) => s === 0 && c === 0,
    (_s: number, c: number, h: number) => c === 2 || h === 0,
    (s: number) => s === 1 || s === 2,
  ];
  const rates = [1 / 9, 5 / 9, 2 / 3];
  for (const f of [0, 1, 2] as const) {
    it(`concept ${f}: labels follow the rule, positives at ${rates[f].toFixed(3)}`, () => {
      const { X, y } = take(new Stagger({ classificationFunction: f, seed: f }), N);
      let pos = 0;
      let wrong = 0;
      for (let i = 0; i < N; i++) {
        if (y[i] !== (concepts[f](X[3 * i], X[3 * i + 1], X[3 * i + 2]) ? 1 : 0)) wrong++;
        pos += y[i];
      }
      expect(wrong).toBe(0);
      expect(Math.abs(pos / N - rates[f])).toBeLessThan(tol(rates[f], N));
    });
  }

  it('balanceClasses alternates labels 1, 0, 1, …', () => {
    const { y } = take(new Stagger({ balanceClasses: true, seed: 1 }), 1000);
    y.forEach((v, i) => expect(v).toBe(i % 2 === 0 ? 1 : 0));
  });

  it('generateDrift switches to a different concept', () => {
    const s = new Stagger({ seed: 2 });
    for (let k = 0; k < 10; k++) {
      const before = s.classificationFunction;
      s.generateDrift();
      expect(s.classificationFunction).not.toBe(before);
    }
  });
});

describe('Hyperplane', () => {
  it('without drift, labels follow the hyperplane up to a noise rate of noisePercentage − 1%', () => {
    const h = new Hyperplane({ nFeatures: 5, nDriftFeatures: 0, noisePercentage: 0.11, seed: 4 });
    const w = Array.from(h.weights);
    const half = w.reduce((a, b) => a + b, 0) * 0.5;
    const { X, y } = take(h, N);
    let flipped = 0;
    let pos = 0;
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let j = 0; j < 5; j++) s += w[j] * X[5 * i + j];
      if (y[i] !== (s >= half ? 1 : 0)) flipped++;
      pos += y[i];
    }
    expect(Math.abs(flipped / N - 0.1)).toBeLessThan(tol(0.1, N));
    // Symmetric about the hyperplane through the cube's centre: balanced classes.
    expect(Math.abs(pos / N - 0.5)).toBeLessThan(tol(0.5, N));
  });

  it('moves only the drifting weights, by magChange per sample', () => {
    const h = new Hyperplane({ nFeatures: 4, nDriftFeatures: 2, magChange: 0.001, sigma: 0, seed: 1 });
    const w0 = Array.from(h.weights);
    take(h, 100);
    // sigma 0 is below River's 0.01 offset: directions never reverse.
    expect(h.weights[0]).toBeCloseTo(w0[0] + 0.1, 12);
    expect(h.weights[1]).toBeCloseTo(w0[1] + 0.1, 12);
    expect(h.weights[2]).toBe(w0[2]);
    expect(h.weights[3]).toBe(w0[3]);
  });

  it('rejects bad options', () => {
    expect(() => new Hyperplane({ nDriftFeatures: 11 })).toThrow(RangeError);
    expect(() => new Hyperplane({ magChange: 2 })).toThrow(RangeError);
  });
});

describe('Agrawal', () => {
  it('draws features in their ranges', () => {
    const { X } = take(new Agrawal({ seed: 1 }), 5000);
    const int = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
    const bad: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const [salary, commission, age, elevel, car, zipcode, hvalue, hyears, loan] = X.subarray(9 * i, 9 * i + 9);
      const ok =
        salary >= 20000 &&
        salary < 150000 &&
        (commission === 0 ? salary >= 75000 : commission >= 10000 && commission < 85000 && salary < 75000) &&
        int(age, 20, 80) &&
        int(elevel, 0, 4) &&
        int(car, 1, 20) &&
        int(zipcode, 0, 8) &&
        hvalue >= (8 - zipcode) * 50000 &&
        hvalue <= (8 - zipcode) * 150000 &&
        int(hyears, 1, 30) &&
        loan >= 0 &&
        loan < 500000;
      if (!ok) bad.push(i);
    }
    expect(bad).toEqual([]);
  });

  it('function 0 labels by age, 2 by age and education', () => {
    const a = take(new Agrawal({ classificationFunction: 0, seed: 2 }), 2000);
    for (let i = 0; i < 2000; i++) expect(a.y[i]).toBe(a.X[9 * i + 2] < 40 || a.X[9 * i + 2] >= 60 ? 1 : 0);
    const b = take(new Agrawal({ classificationFunction: 2, seed: 2 }), 2000);
    for (let i = 0; i < 2000; i++) {
      const age = b.X[9 * i + 2];
      const e = b.X[9 * i + 3];
      expect(b.y[i]).toBe(Number(age < 40 ? e <= 1 : age < 60 ? e >= 1 && e <= 3 : e >= 2));
    }
  });

  it('every function yields both classes (except River’s degenerate ones) and balancing alternates', () => {
    for (let f = 0; f <= 9; f++) {
      const { y } = take(new Agrawal({ classificationFunction: f as AgrawalFunction, seed: f }), 3000);
      const pos = y.reduce((a, b) => a + b, 0);
      expect(pos).toBeGreaterThan(0);
      expect(pos).toBeLessThan(3000);
      const bal = take(new Agrawal({ classificationFunction: f as AgrawalFunction, balanceClasses: true, seed: f }), 200);
      bal.y.forEach((v, i) => expect(v).toBe(i % 2 === 0 ? 1 : 0));
    }
  });

  it('perturbation keeps features in range and rounds integers half to even, as Python does', () => {
    const { X } = take(new Agrawal({ perturbation: 0.2, seed: 3 }), 3000);
    for (let i = 0; i < 3000; i++) {
      const age = X[9 * i + 2];
      expect(Number.isInteger(age) && age >= 20 && age <= 80).toBe(true);
      expect(X[9 * i]).toBeGreaterThanOrEqual(20000);
      expect(X[9 * i]).toBeLessThanOrEqual(150000);
    }
    expect([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, 2, 3]);
  });

  it('rejects unknown functions', () => {
    expect(() => new Agrawal({ classificationFunction: 10 as AgrawalFunction })).toThrow(RangeError);
  });
});

describe('ConceptDriftStream', () => {
  const labelled = (value: number): DataStream => ({
    nFeatures: 1,
    nClasses: 2,
    featureNames: ['source'],
    next: () => ({ x: Float64Array.of(value), y: value }),
  });

  it('switches along the sigmoid: half-way at position, almost all drift a width later', () => {
    const s = new ConceptDriftStream(labelled(0), labelled(1), { position: 5000, width: 1000, seed: 1 });
    const { y } = take(s, 10_000);
    const share = (a: number, b: number) => y.slice(a, b).reduce((p, v) => p + v, 0) / (b - a);
    expect(share(0, 3000)).toBeLessThan(0.01);
    expect(Math.abs(share(4900, 5100) - 0.5)).toBeLessThan(0.15);
    expect(share(7000, 10_000)).toBeGreaterThan(0.99);
    expect(s.driftProbability(5000)).toBe(0.5);
  });

  it('width 1 is an abrupt switch; alpha sets the width like River', () => {
    const { y } = take(new ConceptDriftStream(labelled(0), labelled(1), { position: 100, width: 1, seed: 2 }), 200);
    expect(Array.from(y.slice(0, 97))).toEqual(new Array(97).fill(0));
    expect(Array.from(y.slice(104))).toEqual(new Array(96).fill(1));
    expect(new ConceptDriftStream(labelled(0), labelled(1), { alpha: 45 }).width).toBe(1);
    expect(new ConceptDriftStream(labelled(0), labelled(1), { alpha: 5 }).width).toBe(11);
  });

  it('drifting SEA: label balance moves from variant 0’s to variant 2’s', () => {
    const s = new ConceptDriftStream(new Sea({ variant: 0, seed: 1 }), new Sea({ variant: 2, seed: 2 }), { position: 10_000, width: 100, seed: 3 });
    const { y } = take(s, 20_000);
    const before = y.slice(0, 9000).reduce((a, b) => a + b, 0) / 9000;
    const after = y.slice(11_000).reduce((a, b) => a + b, 0) / 9000;
    expect(Math.abs(before - 0.68)).toBeLessThan(tol(0.68, 9000));
    expect(Math.abs(after - 0.755)).toBeLessThan(tol(0.755, 9000));
  });

  it('refuses streams of different widths', () => {
    expect(() => new ConceptDriftStream(new Sea(), new Hyperplane())).toThrow(RangeError);
  });
});
