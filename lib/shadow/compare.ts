/**
 * A shadow against the serving version on the same requests: agreement, accuracy of each on the
 * same labelled requests, latency, and the sequential verdict of lib/shadow/judge.ts over the
 * requests in the order they were served (one look per request: the verdict is the one a judge
 * looking after every request would have reached, and it stays valid read at any moment).
 */
import { percentile } from '../rollout/analyse';
import { initialShadowState, judgeShadowWindow, verdictOf, type ShadowSpec, type ShadowVerdict } from './judge';

export interface ShadowPair {
  /** The serving version's label, or null when it failed. */
  served: string | null;
  /** The shadow's label, or null when it failed. */
  shadow: string | null;
  /** The request's first label, when one arrived. */
  truth?: string | null;
  servedLatencyMs: number;
  shadowLatencyMs: number;
}

export interface Accuracy {
  correct: number;
  labelled: number;
  accuracy: number | null;
}

export interface ShadowComparison {
  /** Requests both versions answered. */
  pairs: number;
  /** Requests both answered without failing, and the share where they gave the same label. */
  bothOk: number;
  agreement: number | null;
  /** On the labelled requests both answered: the same requests for both. */
  served: Accuracy;
  shadow: Accuracy;
  errors: { served: number; shadow: number };
  latencyMs: { served: { p50: number | null; p99: number | null }; shadow: { p50: number | null; p99: number | null } };
  judgement: ShadowVerdict;
}

const accuracy = (correct: number, labelled: number): Accuracy => ({ correct, labelled, accuracy: labelled > 0 ? correct / labelled : null });

export function compareShadow(pairs: readonly ShadowPair[], spec: ShadowSpec): ShadowComparison {
  let bothOk = 0;
  let agree = 0;
  let labelled = 0;
  let servedCorrect = 0;
  let shadowCorrect = 0;
  let servedErrors = 0;
  let shadowErrors = 0;
  let state = initialShadowState(spec);
  for (const p of pairs) {
    if (p.served === null) servedErrors++;
    if (p.shadow === null) shadowErrors++;
    const window = { shadowOnlyWrong: 0, servedOnlyWrong: 0, shadowOnlyErrors: Number(p.shadow === null && p.served !== null), servedOnlyErrors: Number(p.served === null && p.shadow !== null) };
    if (p.served !== null && p.shadow !== null) {
      bothOk++;
      if (p.served === p.shadow) agree++;
      if (p.truth !== undefined && p.truth !== null) {
        labelled++;
        const servedRight = p.served === p.truth;
        const shadowRight = p.shadow === p.truth;
        servedCorrect += Number(servedRight);
        shadowCorrect += Number(shadowRight);
        window.shadowOnlyWrong = Number(servedRight && !shadowRight);
        window.servedOnlyWrong = Number(shadowRight && !servedRight);
      }
    }
    // Concordant requests carry no evidence and leave the state as it was: skip the update.
    if (window.shadowOnlyWrong + window.servedOnlyWrong + window.shadowOnlyErrors + window.servedOnlyErrors > 0) state = judgeShadowWindow(spec, state, window).state;
  }
  const servedLat = pairs.filter((p) => p.served !== null).map((p) => p.servedLatencyMs);
  const shadowLat = pairs.filter((p) => p.shadow !== null).map((p) => p.shadowLatencyMs);
  return {
    pairs: pairs.length,
    bothOk,
    agreement: bothOk > 0 ? agree / bothOk : null,
    served: accuracy(servedCorrect, labelled),
    shadow: accuracy(shadowCorrect, labelled),
    errors: { served: servedErrors, shadow: shadowErrors },
    latencyMs: {
      served: { p50: percentile(servedLat, 0.5), p99: percentile(servedLat, 0.99) },
      shadow: { p50: percentile(shadowLat, 0.5), p99: percentile(shadowLat, 0.99) },
    },
    judgement: verdictOf(spec, state),
  };
}
