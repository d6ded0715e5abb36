import { describe, expect, it } from 'vitest';
import { warpLosses, yeoJohnson } from './gp-warp';

describe('GP output warping', () => {
  it('is the identity transform at λ = 1 and monotone for every λ', () => {
    for (const x of [-3, -0.5, 0, 0.7, 4]) expect(yeoJohnson(x, 1)).toBeCloseTo(x, 14);
    for (const lambda of [0.5, 0.8]) {
      const xs = [-5, -1, -0.1, 0, 0.1, 1, 5, 50];
      const ys = xs.map((x) => yeoJohnson(x, lambda));
      for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeGreaterThan(ys[i - 1]);
    }
  });

  it('leaves symmetric losses alone and pulls in a heavy tail, keeping the order', () => {
    const symmetric = [-2, -1, -0.5, 0, 0.5, 1, 2];
    const w = warpLosses(symmetric);
    const mean = symmetric.reduce((s, x) => s + x, 0) / symmetric.length;
    const sd = Math.sqrt(symmetric.reduce((s, x) => s + (x - mean) ** 2, 0) / symmetric.length);
    w.forEach((v, i) => expect(v).toBeCloseTo((symmetric[i] - mean) / sd, 10));

    const heavy = [0.1, 0.2, 0.3, 0.5, 1, 3, 1000];
    const h = warpLosses(heavy);
    for (let i = 1; i < h.length; i++) expect(h[i]).toBeGreaterThan(h[i - 1]);
    // The six good values get more of the scale than plain standardisation gives them.
    const m = heavy.reduce((s, x) => s + x, 0) / heavy.length;
    const plainSd = Math.sqrt(heavy.reduce((s, x) => s + (x - m) ** 2, 0) / heavy.length);
    expect((h[5] - h[0]) / ((heavy[5] - heavy[0]) / plainSd)).toBeGreaterThan(1.3);
  });
});
