// The `sentiment` package (the AFINN baseline in sentiment.ts) ships no types; the part we use.
declare module 'sentiment' {
  interface AnalysisResult {
    score: number;
    comparative: number;
  }
  class Sentiment {
    analyze(phrase: string): AnalysisResult;
  }
  export = Sentiment;
}
