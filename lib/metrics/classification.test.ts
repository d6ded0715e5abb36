import { describe, expect, it } from 'vitest';
import { classificationMetrics, rocAuc } from './classification';

/** Two-class probability rows from p(class 1). */
const binary = (p1: number[]) => Float64Array.from(p1.flatMap((p) => [1 - p, p]));
const y = (...v: number[]) => Int32Array.from(v);

describe('classificationMetrics', () => {
  it('accuracy, log loss and F1 match values worked by hand (binary)', () => {
    // Predictions (p1 > 0.5): 1, 0, 1, 0 against truth 1, 1, 0, 0 → tp 1, fn 1, fp 1, tn 1.
    const m = classificationMetrics(y(1, 1, 0, 0), binary([0.9, 0.4, 0.6, 0.2]), 2);
    expect(m.accuracy).toBe(0.5);
    // −(ln 0.9 + ln 0.4 + ln 0.4 + ln 0.8) / 4
    expect(m.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.4) + Math.log(0.4) + Math.log(0.8)) / 4, 12);
    expect(m.logLoss).toBeCloseTo(0.540271, 6); // scikit-learn log_loss: 0.5402713826800865
    // F1 = 2tp / (2tp + fp + fn) = 2 / 4
    expect(m.f1).toBe(0.5);
    // Positive scores {0.9, 0.4}, negative {0.6, 0.2}: pairs won 0.9>0.6, 0.9>0.2, 0.4>0.2 → 3/4.
    expect(m.auc).toBe(0.75);
  });

  it('F1 uses class index 1 as positive, not the majority class', () => {
    // All predicted 0: no true positives for class 1 → F1 0, though accuracy is 0.75.
    const m = classificationMetrics(y(0, 0, 0, 1), binary([0.1, 0.1, 0.1, 0.1]), 2);
    expect(m.accuracy).toBe(0.75);
    expect(m.f1).toBe(0);
  });

  it('clips probabilities at 1e-15 so a confident miss gives a finite loss', () => {
    const m = classificationMetrics(y(1), binary([0]), 2);
    expect(m.logLoss).toBeCloseTo(-Math.log(1e-15), 9);
    expect(classificationMetrics(y(1), binary([1]), 2).logLoss).toBe(0);
  });

  it('macro F1 and macro one-vs-rest AUC for several classes', () => {
    const proba = Float64Array.from([
      [0.7, 0.2, 0.1], // true 0, pred 0
      [0.2, 0.5, 0.3], // true 1, pred 1
      [0.1, 0.6, 0.3], // true 2, pred 1
      [0.3, 0.3, 0.4], // true 2, pred 2
    ].flat());
    const m = classificationMetrics(y(0, 1, 2, 2), proba, 3);
    expect(m.accuracy).toBe(0.75);
    // Per class F1: class 0 = 1; class 1: tp1 fp1 → 2/3; class 2: tp1 fn1 → 2/3.
    expect(m.f1).toBeCloseTo((1 + 2 / 3 + 2 / 3) / 3, 12);
    // OvR AUCs: class 0 perfect (0.7 vs 0.2, 0.1, 0.3) = 1; class 1: pos 0.5 vs 0.2, 0.6, 0.3 → 2/3;
    // class 2: pos {0.3, 0.4} vs neg {0.1, 0.3}: 0.3>0.1, 0.3=0.3 (½), 0.4>0.1, 0.4>0.3 → 3.5/4.
    expect(m.auc).toBeCloseTo((1 + 2 / 3 + 3.5 / 4) / 3, 12);
  });

  it('macro F1 skips classes absent from both truth and predictions (as scikit-learn does)', () => {
    const proba = Float64Array.from([0.9, 0.1, 0, 0.1, 0.9, 0]);
    expect(classificationMetrics(y(0, 1), proba, 3).f1).toBe(1);
  });

  it('accepts float32 probabilities (as onnxruntime returns them)', () => {
    const m = classificationMetrics(y(1, 0), Float32Array.from([0.2, 0.8, 0.7, 0.3]), 2);
    expect(m.accuracy).toBe(1);
    expect(m.auc).toBe(1);
  });

  it('rejects mismatched shapes and empty input', () => {
    expect(() => classificationMetrics(y(0, 1), new Float64Array(3), 2)).toThrow('proba has 3 values, expected 2 rows × 2 classes');
    expect(() => classificationMetrics(y(), new Float64Array(0), 2)).toThrow('cannot score an empty set');
    expect(() => classificationMetrics(y(3), new Float64Array(2), 2)).toThrow('label index 3 at row 0 is outside [0, 2)');
  });
});

describe('rocAuc', () => {
  const auc = (labels: number[], p1: number[]) => rocAuc(Int32Array.from(labels), binary(p1), 2, 1);

  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 when every score ties', () => {
    expect(auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])).toBe(1);
    expect(auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])).toBe(0);
    expect(auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
  });

  it('counts a tie between a positive and a negative as half', () => {
    // Pairs: (0.7 vs 0.7) = ½, (0.7 vs 0.2) = 1, (0.9 vs both) = 2 → 3.5 / 4.
    expect(auc([1, 1, 0, 0], [0.9, 0.7, 0.7, 0.2])).toBe(0.875);
  });

  it('agrees with counting pairs directly on random data', () => {
    let s = 1;
    const rand = () => ((s = (s * 16807) % 2147483647), s / 2147483647);
    const labels = Array.from({ length: 300 }, () => (rand() < 0.4 ? 1 : 0));
    const scores = labels.map((l) => Math.round((rand() + l * 0.3) * 20) / 20); // coarse: many ties
    let wins = 0;
    let pairs = 0;
    labels.forEach((li, i) =>
      labels.forEach((lj, j) => {
        if (li === 1 && lj === 0) {
          pairs++;
          wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }
      }),
    );
    expect(auc(labels, scores)).toBeCloseTo(wins / pairs, 12);
  });

  it('is NaN without positives or without negatives', () => {
    expect(auc([0, 0], [0.1, 0.2])).toBeNaN();
    expect(classificationMetrics(Int32Array.from([1, 1]), binary([0.1, 0.2]), 2).auc).toBeNaN();
  });
});
