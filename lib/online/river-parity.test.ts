import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LogisticRegression } from './logistic-regression';
import { PaClassifier } from './pa-classifier';
import type { FastOnlineClassifier } from './types';

interface Checkpoint {
  n: number;
  weights: number[];
  intercept: number;
}
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/river/learners.json', import.meta.url), 'utf8')) as {
  versions: { river: string };
  streams: Record<string, { X: number[][]; y: number[] }>;
  runs: Record<string, { stream: string; learner: string; probaEvery10: number[]; checkpoints: Checkpoint[] }>;
};

const LEARNERS: Record<string, (d: number) => LogisticRegression | PaClassifier> = {
  logreg: (d) => new LogisticRegression({ nFeatures: d }),
  logreg_l2: (d) => new LogisticRegression({ nFeatures: d, l2: 0.01 }),
  pa0: (d) => new PaClassifier({ nFeatures: d, mode: 0 }),
  pa1: (d) => new PaClassifier({ nFeatures: d }),
  pa2: (d) => new PaClassifier({ nFeatures: d, mode: 2, C: 0.5 }),
};

/** |a − b| ≤ 1e-9 · max(1, |b|): River sums dot products in its own order, so allow rounding. */
function expectClose(a: number, b: number): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
}

describe(`online learners against River ${fixture.versions.river}`, () => {
  for (const [key, run] of Object.entries(fixture.runs)) {
    it(`${key}: same probabilities before every sample and same weights at every checkpoint`, () => {
      const { X, y } = fixture.streams[run.stream];
      const d = X[0].length;
      const model: FastOnlineClassifier = LEARNERS[run.learner](d);
      let cp = 0;
      for (let t = 0; t < X.length; t++) {
        if (t % 10 === 0) expectClose(model.predictProbaOne(X[t])[1], run.probaEvery10[t / 10]);
        model.learnOne(X[t], y[t]);
        const c = run.checkpoints[cp];
        if (c && c.n === t + 1) {
          const m = model as LogisticRegression | PaClassifier;
          Array.from(m.weights).forEach((w, j) => expectClose(w, c.weights[j]));
          expectClose(m.intercept, c.intercept);
          cp++;
        }
      }
      expect(cp).toBe(run.checkpoints.length);
    });
  }
});
