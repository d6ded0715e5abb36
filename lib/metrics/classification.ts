/**
 * Holdout metrics for a classifier's probability outputs. Definitions follow scikit-learn's
 * (accuracy_score, log_loss, f1_score, roc_auc_score) so numbers can be checked against it.
 */

export interface ClassificationMetrics {
  accuracy: number;
  /** Mean −log p(true class), probabilities clipped below at 1e-15 so one confident miss stays finite. */
  logLoss: number;
  /** Binary: F1 of class index 1. Multiclass: unweighted mean over classes that occur in yTrue or the predictions. */
  f1: number;
  /**
   * Binary: ROC AUC of class 1's probability, ties counted half. Multiclass: unweighted mean of
   * one-vs-rest AUCs. NaN when undefined (a class with no positives or no negatives).
   */
  auc: number;
}

const PROBABILITY_FLOOR = 1e-15;

/** proba is row-major n × nClasses; predictions are the argmax (ties to the lower index). */
export function classificationMetrics(yTrue: Int32Array, proba: Float32Array | Float64Array, nClasses: number): ClassificationMetrics {
  const n = yTrue.length;
  if (!Number.isInteger(nClasses) || nClasses < 2) throw new RangeError(`nClasses must be an integer >= 2 (got ${nClasses})`);
  if (n === 0) throw new RangeError('cannot score an empty set');
  if (proba.length !== n * nClasses) throw new RangeError(`proba has ${proba.length} values, expected ${n} rows × ${nClasses} classes`);

  const pred = new Int32Array(n);
  let correct = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) {
    const label = yTrue[i];
    if (!(label >= 0 && label < nClasses)) throw new RangeError(`label index ${label} at row ${i} is outside [0, ${nClasses})`);
    const row = i * nClasses;
    let best = 0;
    for (let c = 1; c < nClasses; c++) if (proba[row + c] > proba[row + best]) best = c;
    pred[i] = best;
    if (best === label) correct++;
    logLoss -= Math.log(Math.max(proba[row + label], PROBABILITY_FLOOR));
  }

  return {
    accuracy: correct / n,
    logLoss: logLoss / n,
    f1: nClasses === 2 ? f1ForClass(yTrue, pred, 1).f1 : macroF1(yTrue, pred, nClasses),
    auc: nClasses === 2 ? rocAuc(yTrue, proba, 2, 1) : macroAuc(yTrue, proba, nClasses),
  };
}

function f1ForClass(yTrue: Int32Array, pred: Int32Array, cls: number): { f1: number; present: boolean } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i] === cls;
    const p = pred[i] === cls;
    if (t && p) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  const denom = 2 * tp + fp + fn;
  // No true and no predicted instances: F1 is undefined; scikit-learn reports 0 (zero_division).
  return { f1: denom === 0 ? 0 : (2 * tp) / denom, present: denom > 0 };
}

function macroF1(yTrue: Int32Array, pred: Int32Array, nClasses: number): number {
  let sum = 0;
  let counted = 0;
  for (let c = 0; c < nClasses; c++) {
    const { f1, present } = f1ForClass(yTrue, pred, c);
    if (!present) continue;
    sum += f1;
    counted++;
  }
  return sum / counted;
}

/**
 * Mann–Whitney form: AUC = (sum of positive ranks − nPos(nPos+1)/2) / (nPos·nNeg), with tied
 * scores sharing their mean rank — exactly the area under the ROC curve with ties as diagonals.
 */
export function rocAuc(yTrue: Int32Array, proba: Float32Array | Float64Array, nClasses: number, cls: number): number {
  const n = yTrue.length;
  const score = new Float64Array(n);
  let nPos = 0;
  for (let i = 0; i < n; i++) {
    score[i] = proba[i * nClasses + cls];
    if (yTrue[i] === cls) nPos++;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  idx.sort((a, b) => score[a] - score[b]);
  let rankSumPos = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && score[idx[end]] === score[idx[start]]) end++;
    const meanRank = (start + 1 + end) / 2; // ranks start+1..end
    for (let k = start; k < end; k++) if (yTrue[idx[k]] === cls) rankSumPos += meanRank;
    start = end;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

function macroAuc(yTrue: Int32Array, proba: Float32Array | Float64Array, nClasses: number): number {
  let sum = 0;
  for (let c = 0; c < nClasses; c++) {
    const auc = rocAuc(yTrue, proba, nClasses, c);
    if (Number.isNaN(auc)) return NaN;
    sum += auc;
  }
  return sum / nClasses;
}
