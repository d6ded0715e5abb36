import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index';
import type { RolloutStatus } from '../../workflows/canary-rollout';
import { bucketSeconds, canaryOf, championHistory, defaultReportPath, sinceArg } from './report';

describe('report arguments', () => {
  it('reads --since as a duration and refuses anything else as bad input', () => {
    expect(sinceArg('30d')).toBe(30 * 86_400_000);
    expect(sinceArg('12h')).toBe(12 * 3_600_000);
    expect(sinceArg('90m')).toBe(90 * 60_000);
    expect(sinceArg('600s')).toBe(600_000);
    for (const bad of ['0d', '3x', '', '1.5h', '-1d']) expect(() => sinceArg(bad)).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/^--since: a duration/) }));
  });

  it('keeps accuracy buckets under about 200 per window, in round widths', () => {
    expect(bucketSeconds(3_600_000)).toBe(60);
    expect(bucketSeconds(30 * 86_400_000)).toBe(6 * 3600);
    expect(bucketSeconds(365 * 86_400_000)).toBe(7 * 86_400);
  });

  it('writes under the data directory, with a file-safe name', () => {
    const config = loadConfig();
    expect(defaultReportPath(config, 'iris')).toBe(path.join(config.dataDir, 'reports', 'iris.html'));
    expect(path.basename(defaultReportPath(config, '../a b/c'))).toBe('.._a_b_c.html');
    expect(path.dirname(defaultReportPath(config, '../a b/c'))).toBe(path.join(config.dataDir, 'reports'));
  });
});

const status = (over: Partial<RolloutStatus> = {}): RolloutStatus => ({
  workflowId: 'canary-iris',
  model: 'iris',
  candidateVersion: '3',
  stableVersion: '2',
  state: 'promoted',
  judge: 'sequential',
  step: 2,
  steps: [{ weight: 50, pauseSeconds: 10 }, { weight: 100, pauseSeconds: 0 }],
  weights: { '2': 0, '3': 10_000 },
  failures: 0,
  analyses: [
    {
      at: '2026-01-01T00:00:10.000Z',
      step: 1,
      weight: 50,
      verdict: 'inconclusive',
      reason: 'collecting evidence',
      candidateRequests: 40,
      stableRequests: 41,
      checks: [
        // The sequential judge's report carries its evidence beside the common fields.
        { metric: 'errorRate', verdict: 'inconclusive', candidate: 0, stable: 0, pValue: 1, reason: 'r', evidence: { harmE: 1, harmThreshold: 400, safetyE: 3, safetyThreshold: 50 } } as never,
      ],
    },
  ],
  decisions: [{ at: '2026-01-01T00:00:00.000Z', action: 'deploy', reason: 'v3 loaded' }],
  ...over,
});

describe('canaryOf', () => {
  it("takes each look's evidence and thresholds from the status, the outcome from the result", () => {
    const c = canaryOf(
      { workflowId: 'canary-iris', execution: 'COMPLETED', started: '2026-01-01T00:00:00.000Z', closed: '2026-01-01T00:01:00.000Z' },
      status(),
      { workflowId: 'canary-iris', model: 'iris', candidateVersion: '3', stableVersion: '2', outcome: 'promoted', reason: 'passed 1 analyses over 2 steps', analyses: 1 },
      'no worker',
    );
    expect(c).toMatchObject({ candidateVersion: '3', stableVersion: '2', outcome: 'promoted', reason: 'passed 1 analyses over 2 steps', judge: 'sequential', note: undefined });
    expect(c.looks).toEqual([
      {
        at: '2026-01-01T00:00:10.000Z',
        step: 1,
        weight: 50,
        verdict: 'inconclusive',
        reason: 'collecting evidence',
        candidateRequests: 40,
        stableRequests: 41,
        checks: [{ metric: 'errorRate', verdict: 'inconclusive', pValue: 1, reason: 'r', harmE: 1, harmThreshold: 400, safetyE: 3, safetyThreshold: 50 }],
      },
    ]);
  });

  it('without a status answer, keeps the outcome from the result and says why the looks are missing', () => {
    const c = canaryOf(
      { workflowId: 'canary-iris', execution: 'COMPLETED' },
      undefined,
      { workflowId: 'canary-iris', model: 'iris', candidateVersion: '3', stableVersion: '2', outcome: 'rolled-back', reason: 'analysis failed', analyses: 4 },
      'no worker answered',
    );
    expect(c).toMatchObject({ outcome: 'rolled-back', reason: 'analysis failed', looks: [], note: 'no worker answered' });
  });

  it('a rollout that failed or was cancelled says why', () => {
    const c = canaryOf({ workflowId: 'canary-iris', execution: 'TERMINATED', failure: 'terminated by operator' }, undefined, undefined, 'no worker');
    expect(c.reason).toBe('terminated by operator');
    expect(c).not.toHaveProperty('failure');
  });
});

describe('championHistory', () => {
  const canary = (id: string, version: string, outcome: string, closed: string) => ({ workflowId: id, candidateVersion: version, stableVersion: '1', execution: 'COMPLETED', outcome, reason: 'ok', closed, looks: [], decisions: [] });
  const mv = (version: string, tags: Record<string, string> = {}) => ({ name: 'iris', version, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });

  it('lists promotions in time order, once each, and the alias now when no rollout explains it', () => {
    const events = championHistory(
      [mv('3', { 'flywheel.rollout': 'promoted', 'flywheel.rollout_workflow': 'canary-iris' }), mv('2', { 'flywheel.rollout': 'promoted', 'flywheel.rollout_workflow': 'canary-old' }), mv('1')],
      // Newest first, as Temporal lists them; the rolled-back one is no champion.
      [canary('canary-iris', '3', 'promoted', '2026-01-03T00:00:00Z'), canary('canary-iris', '4', 'rolled-back', '2026-01-02T00:00:00Z')],
      '1',
    );
    expect(events.map((e) => [e.version, e.how.split(':')[0]])).toEqual([
      ['2', 'promoted by canary canary-old before this window'],
      ['3', 'promoted by canary canary-iris over v1'],
      ['1', 'holds the champion alias now (set outside a canary rollout)'],
    ]);
  });
});
