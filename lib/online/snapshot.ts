/**
 * Restores any learner of lib/online from its toJSON(): a checkpointed online model (say, in a
 * workflow's state or an artifact store) comes back as the same object, bit for bit.
 */
import { BaggingClassifier, type BaggingSnapshot } from './bagging';
import { LogisticRegression, type LogisticRegressionSnapshot } from './logistic-regression';
import { OneVsRest, type OneVsRestSnapshot } from './one-vs-rest';
import { PaClassifier, type PaClassifierSnapshot } from './pa-classifier';
import { OnlineSoftmaxRegression, type SoftmaxRegressionSnapshot } from './softmax-regression';
import type { OnlineClassifier, OnlineSnapshot } from './types';

export function fromJSON(snapshot: unknown): OnlineClassifier {
  if (typeof snapshot !== 'object' || snapshot === null || typeof (snapshot as OnlineSnapshot).kind !== 'string') {
    throw new Error('not an online-learner snapshot: expected an object with a string "kind"');
  }
  const s = snapshot as OnlineSnapshot;
  switch (s.kind) {
    case 'logistic-regression':
      return LogisticRegression.fromJSON(s as LogisticRegressionSnapshot);
    case 'pa-classifier':
      return PaClassifier.fromJSON(s as PaClassifierSnapshot);
    case 'softmax-regression':
      return OnlineSoftmaxRegression.fromJSON(s as SoftmaxRegressionSnapshot);
    case 'one-vs-rest':
      return OneVsRest.fromJSON(s as OneVsRestSnapshot, fromJSON);
    case 'bagging':
      return BaggingClassifier.fromJSON(s as BaggingSnapshot, fromJSON);
    default:
      throw new Error(`unknown online-learner kind "${s.kind}"`);
  }
}
