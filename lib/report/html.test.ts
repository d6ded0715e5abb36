import { describe, expect, it } from 'vitest';
import { renderReport } from './html';
import { esc, niceTicks } from './svg';
import type { ModelReport, ReportCanary } from './types';

const canary = (looks: number, over: Partial<ReportCanary> = {}): ReportCanary => ({
  workflowId: 'canary-iris',
  candidateVersion: '2',
  stableVersion: '1',
  execution: 'COMPLETED',
  state: 'promoted',
  outcome: 'promoted',
  reason: 'passed 3 analyses over 2 steps',
  judge: 'sequential',
  looks: Array.from({ length: looks }, (_, i) => ({
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    step: i < 2 ? 1 : 2,
    weight: i < 2 ? 20 : 100,
    verdict: i === looks - 1 ? 'pass' : 'inconclusive',
    candidateRequests: 10 * (i + 1),
    stableRequests: 40 * (i + 1),
    checks: [
      { metric: 'errorRate', verdict: 'inconclusive', harmE: 1 + i * 0.1, harmThreshold: 40, safetyE: Math.exp(i + 1), safetyThreshold: 20, pValue: 1 },
      { metric: 'accuracy', verdict: 'inconclusive', harmE: 1, harmThreshold: 40, safetyE: 2 ** i, safetyThreshold: 20, pValue: 1 },
    ],
  })),
  decisions: [{ at: '2026-01-01T00:00:00.000Z', action: 'deploy', reason: 'v2 loaded and checked' }],
  ...over,
});

const base = (over: Partial<ModelReport> = {}): ModelReport => ({
  model: 'iris',
  generatedAt: '2026-01-02T00:00:00.000Z',
  since: '2025-12-03T00:00:00.000Z',
  champion: '2',
  aliases: [{ alias: 'champion', version: '2' }],
  versions: [
    { version: '2', aliases: ['champion'], metrics: { accuracy: 0.97, f1: 0.96 }, dataset: { digest: 'abcdef0123456789', name: 'iris', rows: 150, features: 4 }, family: 'softmax-regression', hyperparameters: { epochs: 300 }, rollout: { outcome: 'promoted', reason: 'passed' }, deployment: { state: 'active' }, trafficPercent: 100 },
    { version: '1', aliases: [], metrics: { accuracy: 0.95 }, dataset: { source: 'builtin:iris' } },
  ],
  championHistory: [{ version: '2', how: 'promoted by canary canary-iris', at: '2026-01-01T00:01:00.000Z' }],
  canaries: [],
  abTests: [],
  driftEvents: [],
  retraining: [],
  accuracy: { bucketSeconds: 3600, points: [] },
  notes: [],
  ...over,
});

/** The opening tags of the elements with this class (attributes in any order). */
const elements = (html: string, tag: string, cls: string) => [...html.matchAll(new RegExp(`<${tag}\\b[^>]*class="${cls}"[^>]*>`, 'g'))].map((m) => m[0]);
const attr = (tag: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];

describe('renderReport', () => {
  it('is one self-contained page: no script, nothing loaded from elsewhere, a policy that forbids it', () => {
    const html = renderReport(base({ canaries: [canary(3)] }));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|url\(|@import/i);
    // The only URL is the SVG namespace, which names and loads nothing.
    expect([...html.matchAll(/https?:\/\/[^"'\s<]+/g)].map((m) => m[0]).every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('escapes every string it is given', () => {
    const evil = `<script>alert("x")</script>&'`;
    const html = renderReport(
      base({
        model: evil,
        description: evil,
        versions: [{ version: evil, aliases: [evil], metrics: {}, dataset: { name: evil, digest: evil }, hyperparameters: { [evil]: evil } }],
        championHistory: [{ version: evil, how: evil }],
        canaries: [canary(1, { workflowId: evil, reason: evil, note: evil })],
        driftEvents: [{ event: 1, detectedAt: '2026-01-01T00:00:00Z', detector: evil, direction: 'increase', sample: 3, errorBefore: 0.1, errorAfter: 0.4, note: evil }],
        notes: [evil],
      }),
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('alert("x")');
    expect(html).toContain(esc(evil));
    expect(esc(evil)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
  });

  it('lists every version with what it learned from and its registry decision', () => {
    const html = renderReport(base());
    const section = /<section id="versions">([\s\S]*?)<\/section>/.exec(html)![1]!;
    expect(section).toContain('<strong>v2</strong>');
    expect(section).toContain('<strong>v1</strong>');
    expect(section).toContain('iris, 150 rows, 4 features');
    expect(section).toContain('builtin:iris');
    expect(section).toContain('abcdef012345');
    expect(section).toContain('epochs=300');
    expect(section).toContain('promoted');
    expect(section).toContain('100% of traffic');
    expect(section).toContain('never deployed');
    expect(html).toContain('<strong id="champion-version">v2</strong>');
  });

  it('plots a canary: one point per look for each evidence series, and the ln(1/α) threshold lines', () => {
    const html = renderReport(base({ canaries: [canary(4)] }));
    const figures = [...html.matchAll(/<figure class="evidence" data-metric="([^"]+)" data-looks="(\d+)">([\s\S]*?)<\/figure>/g)];
    expect(figures.map((f) => f[1])).toEqual(['errorRate', 'accuracy']);
    const svg = figures[0]![3]!;
    const harm = elements(svg, 'circle', 'point').filter((c) => attr(c, 'data-series') === 'harm ln E');
    expect(harm).toHaveLength(4);
    expect(harm.map((c) => Number(attr(c, 'data-value')))).toEqual([0, 0.1, 0.2, 0.3].map((d) => Math.log(1 + d)));
    const safety = elements(svg, 'circle', 'point').filter((c) => attr(c, 'data-series') === 'no-regression ln E');
    expect(safety.map((c) => Number(attr(c, 'data-value')))).toEqual([1, 2, 3, 4]);
    const thresholds = elements(svg, 'line', 'threshold');
    expect(thresholds.map((t) => [attr(t, 'data-series'), Number(attr(t, 'data-value'))])).toEqual([
      ['harm ln E', Math.log(40)],
      ['no-regression ln E', Math.log(20)],
    ]);
    // A point above its threshold is drawn above the line (SVG y grows downwards).
    const lineY = Number(attr(thresholds[1]!, 'y1'));
    expect(Number(attr(safety[3]!, 'cy'))).toBeLessThan(lineY);
    expect(Number(attr(safety[0]!, 'cy'))).toBeGreaterThan(lineY);
    expect(html).toContain('data-outcome="promoted"');
    expect(html).toContain('passed 3 analyses over 2 steps');
  });

  it('leaves out a look whose evidence overflowed (JSON has no Infinity) rather than draw it wrong', () => {
    const c = canary(3);
    c.looks[2]!.checks[0]!.harmE = null;
    const svg = /<figure class="evidence" data-metric="errorRate"[\s\S]*?<\/figure>/.exec(renderReport(base({ canaries: [c] })))![0];
    expect(elements(svg, 'circle', 'point').filter((p) => attr(p, 'data-series') === 'harm ln E')).toHaveLength(2);
  });

  it('plots p-values for a fixed-horizon canary, which has no evidence to set against a threshold', () => {
    const c = canary(2, { judge: 'fixed-horizon' });
    for (const l of c.looks) l.checks = [{ metric: 'errorRate', verdict: 'pass', pValue: 0.5 }];
    const svg = /<figure class="evidence"[\s\S]*?<\/figure>/.exec(renderReport(base({ canaries: [c] })))![0];
    expect(elements(svg, 'circle', 'point').map((p) => attr(p, 'data-series'))).toEqual(['ln(1/p)', 'ln(1/p)']);
    expect(elements(svg, 'line', 'threshold')).toHaveLength(0);
  });

  it('draws an A/B test as intervals per comparison around zero', () => {
    const html = renderReport(
      base({
        abTests: [
          {
            workflowId: 'ab-iris',
            execution: 'COMPLETED',
            state: 'concluded',
            versions: ['1', '2', '3'],
            decision: { kind: 'winner', version: '2', reason: 'v2 beats v1' },
            arms: [{ version: '1', requests: 100, units: 50, errorRate: 0, p95LatencyMs: 3, n: 80, estimate: 0.9 }],
            comparisons: [
              { version: '2', control: '1', difference: 0.05, lift: 0.055, ci: [0.01, 0.09], adjustedPValue: 0.01, significant: true },
              { version: '3', control: '1', difference: -0.01, lift: -0.01, ci: [-0.06, 0.04], adjustedPValue: 0.8, significant: false },
            ],
          },
        ],
      }),
    );
    const svg = /<svg[^>]*class="chart intervals"[\s\S]*?<\/svg>/.exec(html)![0];
    const bars = elements(svg, 'line', 'interval');
    expect(bars.map((b) => [attr(b, 'data-low'), attr(b, 'data-high')])).toEqual([
      ['0.01', '0.09'],
      ['-0.06', '0.04'],
    ]);
    const zero = elements(svg, 'line', 'threshold')[0]!;
    // The significant interval lies right of zero, the other straddles it.
    expect(Number(attr(bars[0]!, 'x1'))).toBeGreaterThan(Number(attr(zero, 'x1')));
    expect(Number(attr(bars[1]!, 'x1'))).toBeLessThan(Number(attr(zero, 'x1')));
    expect(html).toContain('winner v2');
  });

  it('plots accuracy over time per version, and says when there is nothing to plot', () => {
    const empty = renderReport(base());
    expect(empty).toContain('No labelled predictions in this window.');
    expect(empty).toContain('No canary rollout in this window.');
    const html = renderReport(
      base({
        accuracy: {
          bucketSeconds: 3600,
          points: [
            { at: '2026-01-01T00:00:00.000Z', version: '1', labelled: 10, correct: 9 },
            { at: '2026-01-01T01:00:00.000Z', version: '1', labelled: 4, correct: 2 },
            { at: '2026-01-01T01:00:00.000Z', version: '2', labelled: 5, correct: 5 },
            { at: '2026-01-01T02:00:00.000Z', version: '2', labelled: 0, correct: 0 },
          ],
        },
      }),
    );
    const section = /<section id="accuracy">[\s\S]*?<\/section>/.exec(html)![0];
    const points = elements(section, 'circle', 'point');
    expect(points.map((p) => [attr(p, 'data-series'), Number(attr(p, 'data-value'))])).toEqual([
      ['v1', 0.9],
      ['v1', 0.5],
      ['v2', 1],
    ]);
    expect(section).toContain('1-hour buckets');
    expect(section).toContain('<td>v1</td><td>14</td><td>11</td>');
  });
});

describe('niceTicks', () => {
  it('covers the range with round steps', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-0.3, 3.8, 8)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(-0.3, 3.8, 4)).toEqual([0, 2]);
    expect(niceTicks(2, 2)).toEqual([2]);
  });
});
