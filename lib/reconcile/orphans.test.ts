import { describe, expect, it } from 'vitest';
import { findOrphans, ownedModel, repairTarget, servingVersions, type ModelWeights } from './orphans';

const NOW = 1_000_000_000;
const mw = (model: string, weights: Record<string, number>, updatedMs = NOW - 3_600_000): ModelWeights => ({ model, weights, revision: 7, updatedMs });

describe('ownedModel', () => {
  it('reads the model search attribute first, then the id', () => {
    expect(ownedModel({ workflowId: 'ab-iris-1', workflowType: 'ABTest', model: 'iris' })).toBe('iris');
    expect(ownedModel({ workflowId: 'canary-iris', workflowType: 'CanaryRollout' })).toBe('iris');
    expect(ownedModel({ workflowId: 'ab-my-model', workflowType: 'ABTest' })).toBe('my-model');
  });
  it('ignores workflows that do not split traffic, and ids it cannot read', () => {
    expect(ownedModel({ workflowId: 'train-iris-abc', workflowType: 'TrainingPipeline', model: 'iris' })).toBeUndefined();
    expect(ownedModel({ workflowId: 'something', workflowType: 'ABTest' })).toBeUndefined();
    expect(ownedModel({ workflowId: 'canary-', workflowType: 'CanaryRollout' })).toBeUndefined();
  });
});

describe('findOrphans', () => {
  it('finds a split no running workflow owns', () => {
    const findings = findOrphans({ weights: [mw('iris', { '1': 4000, '2': 6000 })], running: [], nowMs: NOW, graceMs: 60_000 });
    expect(findings).toEqual([
      { model: 'iris', kind: 'unowned-split', weights: { '1': 4000, '2': 6000 }, revision: 7, serving: ['2', '1'], reason: 'traffic is split (v2 60%, v1 40%) but no running canary rollout or A/B test owns it' },
    ]);
  });
  it('leaves alone a split that a running canary or A/B test owns', () => {
    const weights = [mw('iris', { '1': 4000, '2': 6000 }), mw('wine', { '3': 5000, '4': 5000 })];
    const running = [
      { workflowId: 'canary-iris', workflowType: 'CanaryRollout' },
      { workflowId: 'ab-wine-x', workflowType: 'ABTest', model: 'wine' },
    ];
    expect(findOrphans({ weights, running, nowMs: NOW, graceMs: 0 })).toEqual([]);
  });
  it('a running workflow of another type does not own a split', () => {
    const running = [{ workflowId: 'train-iris-1', workflowType: 'TrainingPipeline', model: 'iris' }];
    expect(findOrphans({ weights: [mw('iris', { '1': 5000, '2': 5000 })], running, nowMs: NOW, graceMs: 0 })).toHaveLength(1);
  });
  it('one version at 100% (zeros included) is not a split', () => {
    expect(findOrphans({ weights: [mw('iris', { '1': 10_000, '2': 0, '3': 0 }), mw('none', {})], running: [], nowMs: NOW, graceMs: 0 })).toEqual([]);
  });
  it('skips weights changed within the grace period (their workflow may not be visible yet)', () => {
    const weights = [mw('iris', { '1': 5000, '2': 5000 }, NOW - 10_000), mw('wine', { '1': 5000, '2': 5000 }, NOW - 120_000)];
    expect(findOrphans({ weights, running: [], nowMs: NOW, graceMs: 60_000 }).map((f) => f.model)).toEqual(['wine']);
  });
  it('reports models in name order', () => {
    const weights = [mw('b', { '1': 5000, '2': 5000 }), mw('a', { '1': 5000, '2': 5000 })];
    expect(findOrphans({ weights, running: [], nowMs: NOW, graceMs: 0 }).map((f) => f.model)).toEqual(['a', 'b']);
  });
});

describe('repairTarget', () => {
  const [finding] = findOrphans({ weights: [mw('iris', { '1': 3000, '2': 7000 })], running: [], nowMs: NOW, graceMs: 0 });
  it('gives the champion all traffic when it is serving', () => {
    expect(repairTarget(finding!, '1')).toEqual({ version: '1', reason: 'v1 is the champion' });
  });
  it('else the version with the most traffic', () => {
    expect(repairTarget(finding!, undefined)).toEqual({ version: '2', reason: 'no champion: v2 had the most traffic (70%)' });
    expect(repairTarget(finding!, '5')).toEqual({ version: '2', reason: 'champion v5 is not serving: v2 had the most traffic (70%)' });
  });
  it('breaks ties by the lower version', () => {
    expect(servingVersions({ '10': 5000, '9': 5000 })).toEqual(['9', '10']);
  });
});
