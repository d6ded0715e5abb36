import { describe, expect, it } from 'vitest';
import { analyzeSentiment, summarizeSentiment } from './sentiment';

describe('analyzeSentiment', () => {
  it('labels clear opinions and cites the words that carried them', () => {
    const good = analyzeSentiment('The new model is great, predictions are fast and accurate!');
    expect(good.label).toBe('positive');
    expect(good.evidence.map((e) => e.token)).toContain('great');
    const bad = analyzeSentiment('Terrible results, the recommendations were useless and wrong.');
    expect(bad.label).toBe('negative');
    expect(bad.score).toBeLessThan(0);
  });

  it('handles negation, emoji and emoticons', () => {
    expect(analyzeSentiment('not good').label).toBe('negative');
    expect(analyzeSentiment('works 👍').label).toBe('positive');
    expect(analyzeSentiment('it broke again :(').label).toBe('negative');
  });

  it('is neutral when nothing carries sentiment, and deterministic', () => {
    const r = analyzeSentiment('The invoice number is 42.');
    expect(r.label).toBe('neutral');
    expect(r.normalizedScore).toBe(0);
    expect(r.evidence).toEqual([]);
    expect(analyzeSentiment('')).toMatchObject({ label: 'neutral', score: 0 });
    const text = 'Love the speed, hate the new layout.';
    expect(analyzeSentiment(text)).toEqual(analyzeSentiment(text));
  });

  it('rejects non-strings', () => {
    expect(() => analyzeSentiment(undefined as unknown as string)).toThrow(TypeError);
  });
});

describe('summarizeSentiment', () => {
  it('counts labels and the negative share of opinionated comments', () => {
    const s = summarizeSentiment(['great job', 'awful', 'bad bad bad', 'order #7 shipped']);
    expect(s).toMatchObject({ n: 4, positive: 1, negative: 2, neutral: 1 });
    expect(s.negativeShare).toBeCloseTo(2 / 3, 12);
    expect(summarizeSentiment([])).toEqual({ n: 0, positive: 0, negative: 0, neutral: 0, meanScore: 0, negativeShare: 0 });
  });
});
