/** Every workflow type renders its stage, decisions, timings and outcome from a status (and result) of its own exported types. */
import { describe, expect, it } from 'vitest';
import type { ABTestResult, ABTestStatus } from '../../workflows/ab-test';
import type { RolloutResult, RolloutStatus } from '../../workflows/canary-rollout';
import type { DriftMonitorStatus } from '../../workflows/drift-monitor';
import type { SearchResult, SearchStatus } from '../../workflows/hyperparameter-search';
import type { KnowledgeStatus, KnowledgeValidationResult } from '../../workflows/knowledge-validation';
import type { OnlineSnapshotStatus } from '../../workflows/online-learning';
import type { ReconcilerResult, ReconcilerStatus } from '../../workflows/reconciler';
import type { BackupResult } from '../../workflows/backup';
import type { FeatureDriftMonitorStatus } from '../../workflows/feature-drift-monitor';
import type { RetrainingResult, RetrainingStatus } from '../../workflows/retraining';
import type { TrainingPipelineResult, TrainingStatus } from '../../workflows/training-pipeline';
import { renderers, renderWorkflow, type WorkflowType } from './index';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const text = (lines: string[]) => lines.join('\n');

const training: TrainingStatus = {
  workflowId: 'train-iris-abc',
  model: 'iris',
  family: 'softmax-regression',
  dataset: 'builtin:iris',
  state: 'completed',
  stage: 'done',
  stages: [
    { name: 'validate', state: 'done', startedAt: at(0), finishedAt: at(1) },
    { name: 'train', state: 'done', startedAt: at(1), finishedAt: at(4) },
    { name: 'register', state: 'done', startedAt: at(4), finishedAt: at(5) },
  ],
  version: '3',
  metrics: { accuracy: 0.95, logLoss: 0.2 } as TrainingStatus['metrics'],
};
const trainingResult = {
  workflowId: 'train-iris-abc',
  model: 'iris',
  version: '3',
  mlflowRunId: 'run1',
  metrics: { accuracy: 0.95, logLoss: 0.2 },
  datasetDigest: 'd',
  onnxUri: 'mlflow-artifacts:/1/run1/artifacts/model/model.onnx',
  artifactUri: 'a',
  training: { epochs: 40, finalLoss: 0.21, trainSeconds: 1.5, samplesPerSecond: 100, resumedFromEpoch: 0 },
} as TrainingPipelineResult;

const search: SearchStatus = {
  workflowId: 'search-iris-abc',
  model: 'iris',
  sampler: 'tpe',
  pruner: 'median',
  metric: 'logLoss',
  direction: 'minimize',
  state: 'running',
  stage: 'search',
  trials: { total: 20, complete: 5, running: 2, pruned: 1, failed: 0 },
  best: { number: 3, value: 0.1234, params: { learningRate: 0.1 } },
  recent: [{ number: 7, state: 'pruned', value: 0.9, steps: 4, params: { learningRate: 2 } }],
};
const searchResult = {
  workflowId: 'search-iris-abc',
  model: 'iris',
  metric: 'logLoss',
  direction: 'minimize',
  trials: { total: 20, complete: 18, pruned: 2, failed: 0 },
  best: { number: 3, value: 0.1234, params: { learningRate: 0.1 } },
  hyperparameters: { learningRate: 0.1 },
  mlflowRunId: 'study1',
  final: trainingResult,
} as SearchResult;

const rollout: RolloutStatus = {
  workflowId: 'canary-iris',
  model: 'iris',
  candidateVersion: '2',
  stableVersion: '1',
  state: 'rolled-back',
  step: 1,
  steps: [{ weight: 50 }, { weight: 100 }] as RolloutStatus['steps'],
  weights: { '1': 10000, '2': 0 },
  failures: 1,
  analyses: [{ at: at(30), step: 1, verdict: 'fail', reason: 'errorRate too high', candidateRequests: 40, stableRequests: 41, checks: [{ metric: 'errorRate', verdict: 'fail', candidate: 0.5, stable: 0, pValue: 0.001, reason: 'x' }] }] as RolloutStatus['analyses'],
  decisions: [
    { at: at(1), action: 'deploy', reason: 'v2 loaded and checked (4 features, 3 classes)' },
    { at: at(31), action: 'rollback', reason: 'analysis failed: errorRate too high' },
  ],
};
const rolloutResult: RolloutResult = { workflowId: 'canary-iris', model: 'iris', candidateVersion: '2', stableVersion: '1', outcome: 'rolled-back', reason: 'analysis failed: errorRate too high', analyses: 1 };

const look = {
  arms: [
    { version: '1', requests: 500, units: 400, errorRate: 0, p95LatencyMs: 3, n: 480, estimate: 0.9 },
    { version: '2', requests: 510, units: 405, errorRate: 0, p95LatencyMs: 3, n: 490, estimate: 0.95 },
  ],
  comparisons: [{ version: '2', control: '1', difference: 0.05, lift: 0.0556, ci: [0.01, 0.09], pValue: 0.001, adjustedPValue: 0.001, significant: true }],
  srm: null,
  decision: { kind: 'winner', version: '2', reason: 'v2 beats v1 on accuracy' },
} as unknown as ABTestStatus['latest'];
const ab: ABTestStatus = { workflowId: 'ab-iris', model: 'iris', versions: ['1', '2'], split: [50, 50], state: 'concluded', looks: 12, elapsedSeconds: 130, latest: look, decision: look!.decision };
const abResult: ABTestResult = { workflowId: 'ab-iris', model: 'iris', decision: look!.decision, latest: look!, looks: 12 };

const drift: DriftMonitorStatus = {
  workflowId: 'drift-iris',
  model: 'iris',
  state: 'watching',
  samples: 900,
  width: 300,
  estimation: 0.31,
  detections: 1,
  retrainingsStarted: 1,
  cursor: 'c',
  recentEvents: [{ event: 1, sample: 640, direction: 'increase', before: 0.05, after: 0.4, widthBefore: 600, widthAfter: 40, retrainingWorkflowId: 'retrain-iris-1', note: 'error rate rose' } as DriftMonitorStatus['recentEvents'][number]],
  lastPollAt: at(50),
};

const retraining: RetrainingStatus = {
  workflowId: 'retrain-iris-1',
  model: 'iris',
  dataset: 'builtin:iris',
  trigger: { kind: 'drift' } as RetrainingStatus['trigger'],
  metric: 'logLoss',
  margin: 0.01,
  stage: 'done',
  trainingWorkflowId: 'train-iris-def',
  challenger: { version: '4', accuracy: 0.96, logLoss: 0.15 },
  champion: { version: '3', accuracy: 0.9, logLoss: 0.3, source: 'alias' },
  decision: { kind: 'canary', reason: 'v4 improves log loss by 0.15', improvement: 0.15 },
  canary: { workflowId: 'canary-iris', outcome: 'promoted', reason: 'all steps passed' },
};
const retrainingResult = { workflowId: 'retrain-iris-1', model: 'iris', decision: retraining.decision!, challenger: retraining.challenger!, champion: retraining.champion, canary: retraining.canary } as RetrainingResult;

const totals = { candidates: 10, facts: 8, accepted: 5, rejected: 3, review: 2, committed: 6, alreadyCommitted: 1, rejectedAtCommit: 0 };
const knowledge: KnowledgeStatus = {
  workflowId: 'knowledge-0123456789abcdef',
  batchId: '0123456789abcdef0123',
  state: 'completed',
  stage: 'done',
  stages: [{ name: 'ontology', state: 'done', startedAt: at(0), finishedAt: at(2), counts: { accept: 8, reject: 2 } } as KnowledgeStatus['stages'][number]],
  candidates: [],
  totals,
};
const knowledgeResult: KnowledgeValidationResult = { workflowId: knowledge.workflowId, batchId: knowledge.batchId, totals, committed: ['f-1', 'f-2'] };

const online: OnlineSnapshotStatus = {
  workflowId: 'online-snapshot-iris-live',
  name: 'iris-live',
  state: 'stopped',
  everySeconds: 60,
  requests: 2,
  registered: 1,
  recent: [
    { snapshotted: true, name: 'iris-live', model: 'iris', version: '5', generation: 1, learned: 61, feedbackFrom: null, feedbackThrough: 61, created: true },
    { snapshotted: false, name: 'iris-live', reason: 'no new labels' },
  ],
};

const reconcilerFinding = {
  model: 'iris', kind: 'unowned-split' as const, weights: { '1': 4000, '2': 6000 }, revision: 3, serving: ['2', '1'],
  reason: 'traffic is split (v2 60%, v1 40%) but no running canary rollout or A/B test owns it', target: '1', targetReason: 'v1 is the champion',
};
const reconcilerDecisions = [{ at: at(1), model: 'iris', action: 'repair' as const, reason: 'traffic is split: v1 takes all traffic: v1 is the champion' }];
const reconciler: ReconcilerStatus = { state: 'done', repair: true, modelsChecked: 4, findings: [reconcilerFinding], decisions: reconcilerDecisions };
const reconcilerResult: ReconcilerResult = { modelsChecked: 4, findings: [reconcilerFinding], decisions: reconcilerDecisions, repaired: 1 };

const backupResult: BackupResult = { id: '20261203T134512345Z', dumpBytes: 3 * 2 ** 20, files: 120, fileBytes: 2 ** 20, newBytes: 2 ** 19, seconds: 1.5, pruned: { deleted: ['20261101T000000000Z'], objectsDeleted: 7 } };
const featureDrift: FeatureDriftMonitorStatus = {
  workflowId: 'feature-drift-iris', model: 'iris', state: 'watching', checks: 12, retrainingsStarted: 1,
  lastCheck: { at: at(2), judged: true, windowRows: 1000, windowEnd: at(2), championVersion: '3', maxPsi: 0.042, moved: [] },
  recentEvents: [{ eventId: '7', windowEnd: at(1), features: [{ name: 'age', feature: 2, psi: 0.41, pvalue: 1e-9 }], retrainingWorkflowId: 'retrain-iris-feature-drift-7', note: 'features moved: retraining started' }],
};

/** One fixture per workflow type: a compile error here too when a type is added without one. */
const fixtures: { [K in WorkflowType]: { status: unknown; result: unknown; expect: RegExp[] } } = {
  TrainingPipeline: { status: training, result: trainingResult, expect: [/stage: +done/, /done +train \(3\.0 s\)/, /registered: +iris v3/, /40 epochs/] },
  HyperparameterSearch: { status: search, result: searchResult, expect: [/trials: +20 total/, /best: +#3 logLoss=0\.1234/, /#7 +pruned/, /trained: +iris v3/] },
  CanaryRollout: { status: rollout, result: rolloutResult, expect: [/stage: +rolled-back, step 1\/2 \(50% → 100%\)/, /deploy +v2 loaded/, /rollback +analysis failed/, /outcome: +rolled-back/, /reason: +analysis failed: errorRate too high/] },
  ABTest: { status: ab, result: abResult, expect: [/split: +v1 50%, v2 50%/, /v2: 510 requests.*lift 5\.56%/, /decision: winner/, /reason: +v2 beats v1/] },
  DriftMonitor: { status: drift, result: undefined, expect: [/stage: +watching/, /#1 sample 640 increase 0\.0500 → 0\.4000 → retrain-iris-1: error rate rose/] },
  Retraining: { status: retraining, result: retrainingResult, expect: [/stage: +done/, /challenger: v4 accuracy 0\.9600/, /decision: canary/, /canary: +canary-iris: promoted \(all steps passed\)/] },
  KnowledgeValidation: { status: knowledge, result: knowledgeResult, expect: [/stage: +completed, done/, /done +ontology +accept 8, reject 2 \(2\.0 s\)/, /committed: f-1, f-2/] },
  OnlineSnapshot: { status: online, result: online, expect: [/every: +60 s/, /v5 generation 1: 61 labels learnt/, /skipped: no new labels/] },
  Backup: { status: { state: 'done', backupId: backupResult.id }, result: backupResult, expect: [/stage: +done/, /backup: +20261203T134512345Z/, /databases: +3\.0 MiB/, /files: +120 \(1\.0 MiB; 0\.5 MiB new\)/, /pruned: +1 backups, 7 files/] },
  FeatureDriftMonitor: { status: featureDrift, result: undefined, expect: [/checks: +12/, /1000 rows, largest PSI 0\.042 against v3's training data/, /#7 age PSI 0\.41 → retrain-iris-feature-drift-7: features moved: retraining started/] },
  Reconciler: { status: reconciler, result: reconcilerResult, expect: [/models: +4/, /repaired: +1/, /iris: v1 40%, v2 60% → v1 \(v1 is the champion\)/, /iris +repair +traffic is split/] },
};

describe('workflows show renderers', () => {
  it('has one renderer for every workflow workflows/index.ts exports', async () => {
    const exported = Object.keys(await import('../../workflows/index')).sort();
    expect(Object.keys(renderers).sort()).toEqual(exported);
  });

  for (const [type, f] of Object.entries(fixtures)) {
    it(`${type}: stage, decisions, timings and outcome`, () => {
      const out = text(renderWorkflow(type, { workflowId: 'w', execution: 'COMPLETED', status: f.status, result: f.result }));
      for (const re of f.expect) expect(out).toMatch(re);
    });
    it(`${type}: a failed run shows why, with or without a status`, () => {
      for (const status of [f.status, undefined]) {
        const out = text(renderWorkflow(type, { workflowId: 'w', execution: 'FAILED', status, failure: 'model iris has no version 99' }));
        expect(out).toMatch(/outcome: +failed: model iris has no version 99/);
      }
    });
    it(`${type}: nothing known yet renders without throwing`, () => {
      expect(() => renderWorkflow(type, { workflowId: 'w', execution: 'RUNNING' })).not.toThrow();
    });
  }

  it('a workflow type Flywheel does not know shows its outcome only', () => {
    expect(renderWorkflow('SomethingElse', { workflowId: 'w', execution: 'TIMED_OUT', failure: 'timed out' })).toEqual(['outcome: timed out: timed out']);
  });
});

it('a status missing what its renderer expects (a run refused on its own input) still shows the outcome', () => {
  const out = renderWorkflow('HyperparameterSearch', { workflowId: 'w', execution: 'FAILED', status: { state: 'failed' }, failure: 'bad input' });
  expect(out).toContain('outcome: failed: bad input');
});
