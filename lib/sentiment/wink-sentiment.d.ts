// wink-sentiment ships no types; this is the part of its API we use (v5).
declare module 'wink-sentiment' {
  interface WinkToken {
    value: string;
    tag: string;
    score?: number;
    negation?: boolean;
  }
  interface WinkSentimentResult {
    score: number;
    normalizedScore: number;
    tokenizedPhrase?: WinkToken[];
  }
  function sentiment(phrase: string): WinkSentimentResult;
  export = sentiment;
}
