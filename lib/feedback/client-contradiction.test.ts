import { describe, expect, it } from 'vitest';
import { clientBurstContradiction, DEFAULT_CLIENT_CONTRADICTION, QualityTracker, scoreSignals, unitHistory } from './quality';

const history = { labels: 200, contradicting: 20 }; // other clients: 10 % of their labels contradict the predictions

describe('client burst contradiction', () => {
  it('flags a burst of labels that nearly all contradict a history that mostly agrees', () => {
    expect(clientBurstContradiction({ labels: 10, contradicting: 10 }, history)).toBe(true);
    expect(clientBurstContradiction({ labels: 50, contradicting: 40 }, history)).toBe(true);
  });

  it('needs a burst: fewer labels than minLabels are never flagged, however contradicting', () => {
    expect(clientBurstContradiction({ labels: DEFAULT_CLIENT_CONTRADICTION.minLabels - 1, contradicting: DEFAULT_CLIENT_CONTRADICTION.minLabels - 1 }, history)).toBe(false);
  });

  it('needs a history from other clients: a single labelling client is never flagged', () => {
    expect(clientBurstContradiction({ labels: 500, contradicting: 500 }, { labels: 0, contradicting: 0 })).toBe(false);
    expect(clientBurstContradiction({ labels: 500, contradicting: 500 }, { labels: 19, contradicting: 0 })).toBe(false);
  });

  it('leaves a client alone whose rate is like the others', () => {
    expect(clientBurstContradiction({ labels: 1000, contradicting: 110 }, history)).toBe(false);
    // Above the others, but by less than minExcess: a harder segment of traffic, not a contradiction.
    expect(clientBurstContradiction({ labels: 1000, contradicting: 250 }, history)).toBe(false);
  });

  it('asks for evidence, not just an excess: 4 of 10 against 10 % is not improbable enough', () => {
    // r = 0.4 ≥ p0 + 0.2, but 10 · KL(0.4 ‖ 0.1) ≈ 3.3 < ln 10⁴.
    expect(clientBurstContradiction({ labels: 10, contradicting: 4 }, history)).toBe(false);
    // The same rate sustained over 40 labels is (40 · KL ≈ 13.3).
    expect(clientBurstContradiction({ labels: 40, contradicting: 16 }, history)).toBe(true);
  });

  it('when the whole history disagrees with the model (a bad version), agreeing with it is not a contradiction', () => {
    expect(clientBurstContradiction({ labels: 100, contradicting: 90 }, { labels: 200, contradicting: 170 })).toBe(false);
  });

  it('the flag multiplies quality down and is named', () => {
    const q = scoreSignals({ duplicate: false, impossible: null, burstExcess: 0, disagreement: 0, clientContradiction: true });
    expect(q.flags).toEqual(['client_burst_contradiction']);
    expect(q.quality).toBeCloseTo(0.1, 6);
    expect(scoreSignals({ duplicate: false, impossible: null, burstExcess: 0, disagreement: 0 }).quality).toBe(1);
  });

  it('the tracker applies the flag the gateway passes in, and only then', () => {
    const t = new QualityTracker();
    const item = { predictionId: '0190a1b2-0000-7000-8000-000000000001', kind: 'label' as const, value: null, label: 'a', event: null, comment: null, source: null, unitKey: null, idempotencyKey: null };
    expect(t.score(item, 0, { clientContradiction: true }).flags).toContain('client_burst_contradiction');
    expect(t.score({ ...item, predictionId: '0190a1b2-0000-7000-8000-000000000002' }, 1, {}).flags).not.toContain('client_burst_contradiction');
  });
});

describe('unit history', () => {
  it("is the version's own while it has enough labels, else the model's over its served versions", () => {
    const thin = { labels: 5, contradicting: 0 };
    const model = { labels: 400, contradicting: 40 };
    expect(unitHistory(history, model)).toBe(history);
    expect(unitHistory(thin, model)).toBe(model);
    // A forged burst at a canary's start, before the candidate has a history of its own, is still judged.
    expect(clientBurstContradiction({ labels: 30, contradicting: 30 }, unitHistory(thin, model))).toBe(true);
    expect(clientBurstContradiction({ labels: 30, contradicting: 30 }, thin)).toBe(false);
  });
});
