/**
 * Sentiment of free-text feedback comments, scored by wink-sentiment (AFINN-165 words and
 * bigrams, emoji and emoticon valences, negation handling; MIT). The lexicon ships inside the
 * npm package, so scoring is pure: no model download, no I/O, the same text always gives the
 * same score.
 *
 * Measured on the UCI "Sentiment Labelled Sentences" (see bench/online/sentiment.ts and
 * docs/benchmarks-online.md): a lexicon scorer, about 75% accurate on one-sentence reviews, and
 * silent (score 0) on a quarter of them. Good enough to trend feedback and route the clearly
 * negative; not a substitute for a trained model on domain text.
 */
import winkSentiment from 'wink-sentiment';

export type SentimentLabel = 'positive' | 'negative' | 'neutral';

export interface SentimentResult {
  /** Sum of the valences found (AFINN scale, −5…+5 per word). */
  score: number;
  /** Score per sentiment-bearing token, roughly −5…+5: comparable across comment lengths. */
  normalizedScore: number;
  /** Sign of the score; neutral when nothing in the text carries sentiment (or it cancels). */
  label: SentimentLabel;
  /** The words, emojis and emoticons that carried a valence, with their (negated) scores. */
  evidence: { token: string; score: number }[];
}

export function analyzeSentiment(text: string): SentimentResult {
  if (typeof text !== 'string') throw new TypeError('analyzeSentiment needs a string');
  const r = winkSentiment(text);
  const evidence = (r.tokenizedPhrase ?? []).filter((t) => typeof t.score === 'number' && t.score !== 0).map((t) => ({ token: t.value, score: t.score as number }));
  const label: SentimentLabel = r.normalizedScore > 0 ? 'positive' : r.normalizedScore < 0 ? 'negative' : 'neutral';
  return { score: r.score, normalizedScore: r.normalizedScore, label, evidence };
}

export interface SentimentSummary {
  n: number;
  positive: number;
  negative: number;
  neutral: number;
  /** Mean normalised score over all comments (0 when there are none). */
  meanScore: number;
  /** negative / (positive + negative): the share of opinionated comments that are negative. */
  negativeShare: number;
}

/** Aggregates comments, e.g. one deployment's feedback window, into the figures a monitor tracks. */
export function summarizeSentiment(comments: readonly string[]): SentimentSummary {
  let positive = 0;
  let negative = 0;
  let sum = 0;
  for (const c of comments) {
    const r = analyzeSentiment(c);
    if (r.label === 'positive') positive++;
    else if (r.label === 'negative') negative++;
    sum += r.normalizedScore;
  }
  const n = comments.length;
  return {
    n,
    positive,
    negative,
    neutral: n - positive - negative,
    meanScore: n === 0 ? 0 : sum / n,
    negativeShare: positive + negative === 0 ? 0 : negative / (positive + negative),
  };
}
