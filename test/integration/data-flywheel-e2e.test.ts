/**
 * The data flywheel end to end, on the real stack (issue 15, item 6): real Temporal, PostgreSQL,
 * MLflow, in-process workers on the test's own queues and a real gateway over HTTP.
 *
 *   1. v1 learns 2,000 rows of a rotating-hyperplane stream (lib/streams Hyperplane, concept A),
 *      written to the dataset store as a content-addressed dataset (`stored:<digest>`), and serves
 *      behind a gateway that logs features; every request carries `segment: {plan}`.
 *   2. Covariate shift: the same concept, but x0 drawn with density 3x² (CovariateShiftStream). The
 *      FeatureDriftMonitor raises an event naming x0 while not one label of that traffic exists.
 *   3. Concept change: another hyperplane (concept B) on the shifted inputs, labels through the
 *      feedback route. The DriftMonitor finds the rise, waits for 400 labels served after it and
 *      starts a Retraining on `production:<model>:1h@<rise>`; its challenger beats the champion on
 *      the newest labelled rows and is canaried to champion. The counterfactual: a Retraining on the
 *      original fixed dataset keeps the champion, and its challenger, scored on those same newest
 *      rows, is far worse than the production-trained one and no better than the champion.
 *   4. A canary with a `plan=pro` segment guardrail, labels planted so that the candidate is wrong on
 *      half of pro's requests and right elsewhere while stable is wrong on 1 in 8 outside pro: the same
 *      wrong-label rate overall (10 %). It rolls back naming plan=pro; the whole-traffic check never
 *      fails at any look, and its evidence stays below what the judge without guardrails acts on.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployVersion } from '../../activities/deploy';
import { createEvaluationActivities, type EvaluationResult } from '../../activities/evaluation';
import { ONNX_ARTIFACT_PATH } from '../../activities/registry';
import { createRetrainingActivities } from '../../activities/retraining';
import { closePools } from '../../clients/db';
import { tagsToRecord } from '../../clients/mlflow';
import { dataPaths } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { getFileStore } from '../../datasets/file-store';
import { publishDataset, writeDataset } from '../../datasets/store';
import { datasetDigest } from '../../lib/data/digest';
import type { Dataset } from '../../lib/data/table';
import { decide } from '../../lib/retraining/decision';
import { featureDriftMonitorId } from '../../lib/retraining/feature-drift-spec';
import { driftMonitorId, driftRetrainingId, DEFAULT_MARGIN, type DriftMonitorInput, type RetrainingInput } from '../../lib/retraining/spec';
import type { MetricReport } from '../../lib/rollout/sequential-judge';
import { DEFAULT_ANALYSIS, type CanaryRolloutInput, type MetricCheck } from '../../lib/rollout/spec';
import { CovariateShiftStream, Hyperplane, take, type DataStream, type Sample } from '../../lib/streams';
import { createGateway, type Gateway } from '../../serving/app';
import { readOnnx } from '../../serving/onnx-source';
import { JsonClient } from '../../traffic/http';
import { rolloutStatusQuery, type RolloutResult, type RolloutStatus } from '../../workflows/canary-rollout';
import { driftStatusQuery, stopSignal, type DriftMonitorStatus } from '../../workflows/drift-monitor';
import { featureDriftStatusQuery, stopFeatureDriftSignal, type FeatureDriftMonitorStatus } from '../../workflows/feature-drift-monitor';
import { retrainingStatusQuery, type RetrainingResult, type RetrainingStatus } from '../../workflows/retraining';
import { testApiKey } from './helpers/auth';
import { runFlywheel } from './helpers/cli';
import { openTestEnv, runWorkers, uniqueModelName, type TestEnv } from './helpers/env';
import { until as untilWithin } from './helpers/until';

/** This file's waits are bounded at 120 s. */
const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000) => untilWithin(what, read, ok, timeoutMs);

const model = uniqueModelName('flywheel-e2e');
const hyperparameters = { epochs: 60, learningRate: 0.2, seed: 1 };
const D = 4;
const CLASSES = ['0', '1'];
/** The covariate shift: x0 kept with probability x0², so its density becomes 3x² (mean ¾); the others stay uniform. */
const shiftX0 = (x: Float64Array) => x[0]! ** 2;
/** The canary's judge: the wrong-label rate only (rate checks on requests would need thousands of them to promote). */
const ACCURACY: MetricCheck = { metric: 'accuracy', maxRelativeChange: 0, regression: 0.3, regressionAbsolute: 0.02 };
const MIN_NEW_LABELS = 400;
const TRAINING_SOURCE = 'stream:hyperplane?features=4&seed=1&rows=2000';

let env: TestEnv;
let gateway: Gateway;
let client: JsonClient;
let stopWorkers!: () => void;
const workersStopped = new Promise<void>((resolve) => (stopWorkers = resolve));
let workers: Promise<void> | undefined;
let trainingDigest: string;
/** Concept A: v1's training rows, then the traffic of phases 1 and 2 (the same stream, read on). */
const conceptA = new Hyperplane({ nFeatures: D, nDriftFeatures: 0, seed: 1 });
/** Concept B, on the shifted inputs: another hyperplane (≈18 % of rows change label). */
const conceptB = new CovariateShiftStream(new Hyperplane({ nFeatures: D, nDriftFeatures: 0, seed: 2 }), { keep: shiftX0, seed: 4 });

interface Served {
  id: string;
  label: string;
  truth: string;
  plan: string;
  version: string;
}

beforeAll(async () => {
  env = await openTestEnv('flywheel-e2e');
  workers = runWorkers(env, () => workersStopped);

  // v1's data: drawn from the stream, stored content-addressed, named by digest.
  const rows = take(conceptA, 2000);
  const ds: Dataset = { featureNames: ['x0', 'x1', 'x2', 'x3'], labelName: 'y', classes: CLASSES, nRows: rows.n, nFeatures: D, x: rows.X, y: rows.y };
  trainingDigest = datasetDigest(ds);
  // Published to the file store as every writer does: the workers run in data folders of their own.
  const datasetFolder = await writeDataset(dataPaths(env.config).datasets, ds, {
    digest: trainingDigest,
    name: 'hyperplane-a',
    // A URI-like source: MLflow takes what precedes the first colon as the source type (≤ 36 characters).
    source: TRAINING_SOURCE,
    featureNames: ds.featureNames,
    labelName: ds.labelName,
    classes: ds.classes,
    nRows: ds.nRows,
    nFeatures: D,
  });
  await publishDataset(getFileStore(env.config), datasetFolder);
  const train = await env.client.workflow.start('TrainingPipeline', {
    taskQueue: env.taskQueues.workflows,
    workflowId: `train-${model}-v1`,
    args: [{ model, dataset: `stored:${trainingDigest}`, family: 'softmax-regression', hyperparameters, taskQueues: { cpu: env.taskQueues.cpu } }],
    typedSearchAttributes: [{ key: MODEL_NAME, value: model }],
  });
  await train.result();
  await deployVersion(env.db, env.mlflow, { model, version: '1' });
  gateway = await createGateway({ ...env.config, gateway: { ...env.config.gateway, threads: 1, pollMs: 200, flushMs: 50 } }, { port: 0, logger: false });
  client = new JsonClient(await gateway.listen(), 4, { apiKey: await testApiKey(env, 'flywheel-e2e') });
}, 180_000);

afterAll(async () => {
  // Monitors left running by a failed test: stopped, so nothing outlives the run.
  for (const id of [driftMonitorId(model), featureDriftMonitorId(model)]) {
    await env?.client.workflow.getHandle(id).terminate('test over').catch(() => undefined);
  }
  stopWorkers();
  await workers;
  client?.close();
  await gateway?.close();
  await closePools();
  await env?.close();
});

/** 1 request in 5 is a pro user's; the rest free or team. */
const planOf = (request: number) => (request % 5 === 0 ? 'pro' : request % 2 ? 'free' : 'team');

/** Serves the samples, 5 rows per request, 4 requests at a time; every prediction logged with its features. */
async function serve(samples: Sample[]): Promise<Served[]> {
  const requests: Sample[][] = [];
  for (let i = 0; i < samples.length; i += 5) requests.push(samples.slice(i, i + 5));
  const out: Served[] = [];
  for (let i = 0; i < requests.length; i += 4) {
    const batch = await Promise.all(
      requests.slice(i, i + 4).map(async (rows, k) => {
        const plan = planOf(i + k);
        const res = await client.post(`/v1/models/${model}/predict`, { instances: rows.map((s) => Array.from(s.x)), segment: { plan } });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        const b = res.body as { predictionIds: string[]; labels: string[]; version: string };
        return rows.map((s, j) => ({ id: b.predictionIds[j]!, label: b.labels[j]!, truth: CLASSES[s.y]!, plan, version: b.version }));
      }),
    );
    out.push(...batch.flat());
  }
  await gateway.recorder.flush();
  return out;
}

/** Posts one label per prediction through the gateway's feedback route. */
async function label(served: Served[], labelOf: (s: Served) => string = (s) => s.truth): Promise<void> {
  for (let i = 0; i < served.length; i += 1000) {
    const items = served.slice(i, i + 1000).map((s) => ({ predictionId: s.id, kind: 'label', label: labelOf(s) }));
    const res = await client.post('/v1/feedback/batch', { items });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((res.body as { stored: number }).stored).toBe(items.length);
  }
}

const draw = (stream: DataStream, n: number) => Array.from({ length: n }, () => stream.next());


/**
 * Traffic for a canary, one round per look: a round, then wait for the rollout's next look (its
 * windows close 2 s behind it), so a slow worker sees the same traffic per look as a fast one.
 * Until the rollout ends, or `rounds` rounds.
 */
async function feedCanary(canary: { query: (q: typeof rolloutStatusQuery) => Promise<RolloutStatus> }, rounds: number, round: () => Promise<void>): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const lastLook = (await canary.query(rolloutStatusQuery)).analyses.at(-1)?.at;
    await round();
    const s = await until('the canary\'s next look', () => canary.query(rolloutStatusQuery), (r: RolloutStatus) => r.state !== 'progressing' || r.analyses.at(-1)?.at !== lastLook);
    if (s.state !== 'progressing') return;
  }
  throw new Error(`canary still progressing after ${rounds} rounds: ${JSON.stringify((await canary.query(rolloutStatusQuery)).analyses.at(-1))}`);
}

const labelsOf = async (ids: string[]) => (await env.db.query('SELECT count(*)::int AS n FROM feedback WHERE prediction_id = ANY($1::uuid[])', [ids])).rows[0].n as number;

const drift = () => env.client.workflow.getHandle(driftMonitorId(model));
const features = () => env.client.workflow.getHandle(featureDriftMonitorId(model));

describe('the data flywheel, end to end', () => {
  it('sees the covariate shift in the features before any label of it exists', async () => {
    const driftInput: DriftMonitorInput = {
      model,
      retraining: { dataset: `production:${model}:1h`, hyperparameters, canary: { steps: [{ weight: 50, pauseSeconds: 4 }, { weight: 100, pauseSeconds: 0 }], analysis: { intervalSeconds: 2, metrics: [ACCURACY] } } },
      minNewLabels: MIN_NEW_LABELS,
      pollSeconds: 0.5,
      settleSeconds: 1,
      taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control },
    };
    await env.client.workflow.start('DriftMonitor', { taskQueue: env.taskQueues.workflows, workflowId: driftMonitorId(model), args: [driftInput] });
    await env.client.workflow.start('FeatureDriftMonitor', {
      taskQueue: env.taskQueues.workflows,
      workflowId: featureDriftMonitorId(model),
      args: [{ model, windowRows: 400, minSample: 300, pollSeconds: 0.5, taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } }],
    });
    await until('the drift monitor to open', () => drift().query(driftStatusQuery), (s: DriftMonitorStatus) => s.lastPollAt !== undefined);

    // Phase 1: concept A as trained, labelled. Neither monitor has anything to say.
    const calm = await serve(draw(conceptA, 600));
    await label(calm);
    const checksAfterCalm = (await features().query(featureDriftStatusQuery)).checks;
    const calmCheck = await until('a check of the calm traffic', () => features().query(featureDriftStatusQuery), (s: FeatureDriftMonitorStatus) => s.checks >= checksAfterCalm + 2);
    expect(calmCheck.lastCheck).toMatchObject({ judged: true, windowRows: 400, moved: [] });
    expect(calmCheck.recentEvents).toEqual([]);
    const baseline = await until('phase 1 outcomes', () => drift().query(driftStatusQuery), (s: DriftMonitorStatus) => s.samples >= calm.length);
    expect(baseline.recentEvents).toEqual([]);

    // Phase 2: the inputs move (x0 ~ 3x²), the concept does not; no label is sent.
    const shifted = await serve(draw(new CovariateShiftStream(conceptA, { keep: shiftX0, seed: 3 }), 600));
    const seen = await until('the feature drift event', () => features().query(featureDriftStatusQuery), (s: FeatureDriftMonitorStatus) => s.recentEvents.length > 0);
    const event = seen.recentEvents[0]!;
    // The order the issue asks for: the event exists while not one label of the shifted traffic does.
    expect(await labelsOf(shifted.map((s) => s.id))).toBe(0);
    expect(event.features.map((f) => f.name)).toEqual(['x0']);
    expect(event.features[0]!.psi).toBeGreaterThan(0.1);
    expect(event.note).toBe('features moved; no retraining configured');
    const { rows } = await env.db.query('SELECT champion_version, reference_digest FROM feature_drift_events WHERE id = $1', [event.eventId]);
    expect(rows).toEqual([{ champion_version: '1', reference_digest: trainingDigest }]);
    console.log(`feature drift: event ${event.eventId} on ${event.features.map((f) => `${f.name} PSI ${f.psi.toFixed(2)}`).join(', ')}; labels of the shifted traffic so far: 0`);
    await features().signal(stopFeatureDriftSignal, 'shift seen');
    // The error-rate monitor had nothing to go on: no label of the shift, no event.
    expect((await drift().query(driftStatusQuery)).recentEvents).toEqual([]);
  }, 240_000);

  let fixed: RetrainingResult;

  it('counterfactual: a retraining on the original fixed dataset keeps the champion', async () => {
    const input: RetrainingInput = { model, dataset: `stored:${trainingDigest}`, hyperparameters, taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control } };
    fixed = (await (await env.client.workflow.start('Retraining', { taskQueue: env.taskQueues.workflows, workflowId: `retrain-${model}-fixed`, args: [input] })).result()) as RetrainingResult;
    // Judged on a random holdout of the data it learned: it cannot tell what production became.
    expect(fixed.decision.kind).toBe('keep-champion');
    expect(fixed.champion?.version).toBe('1');
  }, 180_000);

  it('after a concept change, retrains on production data, beats the champion on the newest labels, and is canaried to champion', async () => {
    // Phase 3: concept B, labelled as it is served, until the monitor has started its retraining.
    const start = (await drift().query(driftStatusQuery)).samples;
    let status: DriftMonitorStatus | undefined;
    let labelled = start;
    for (let round = 0; ; round++) {
      const served = await serve(draw(conceptB, 200));
      await label(served);
      labelled += served.length;
      // Paced by the monitor: the next round goes out once it has read every label so far.
      status = await until('the monitor to read the round', () => drift().query(driftStatusQuery), (s: DriftMonitorStatus) => s.samples >= labelled);
      // The event names its retraining once it has started (retrainingsStarted counts a moment earlier).
      if (status.recentEvents.some((e) => e.retrainingWorkflowId)) break;
      if (round >= 40) throw new Error(`no production retraining after 8000 concept-B rows: ${JSON.stringify(status)}`);
    }
    const rise = status.recentEvents.find((e) => e.direction === 'increase')!;
    expect(rise, JSON.stringify(status)).toMatchObject({ event: 1, retrainingWorkflowId: driftRetrainingId(model, 1) });
    expect(status.retrainingsStarted).toBe(1);
    console.log(`concept change at outcome ${start}: ADWIN rise at ${rise.sample} (error ${rise.before.toFixed(3)} → ${rise.after.toFixed(3)}); retraining after ${MIN_NEW_LABELS} more labels`);

    // No traffic while it trains: the canary's looks start when the candidate serves.
    const retraining = env.client.workflow.getHandle(rise.retrainingWorkflowId!);
    const inCanary = await until('the retraining to judge', () => retraining.query(retrainingStatusQuery), (s: RetrainingStatus) => ['canary', 'done', 'failed'].includes(s.stage), 240_000);
    expect(inCanary.stage, JSON.stringify(inCanary)).toBe('canary');
    const canary = env.client.workflow.getHandle(`canary-${model}`);
    await until('the canary to set its weights', () => canary.query(rolloutStatusQuery), (s: RolloutStatus) => s.step >= 1);
    await feedCanary(canary, 40, async () => label(await serve(draw(conceptB, 200))));
    const result = (await retraining.result()) as RetrainingResult;
    const judged = await retraining.query(retrainingStatusQuery);
    await drift().signal(stopSignal, 'loop closed');

    // Learned only what was served after the rise, judged on the newest of it.
    expect(judged.dataset).toMatch(new RegExp(`^production:${model}:1h@\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`));
    expect(judged.holdoutRows).toBeGreaterThan(50);
    expect(result.decision.kind).toBe('canary');
    expect(result.champion).toMatchObject({ version: '1', source: 'traffic' });
    expect(result.challenger.accuracy).toBeGreaterThan(result.champion!.accuracy);
    expect(result.challenger.logLoss).toBeLessThan(result.champion!.logLoss);
    expect(result.canary).toMatchObject({ workflowId: `canary-${model}`, outcome: 'promoted' });
    expect((await env.mlflow.getVersionByAlias(model, 'champion'))?.version).toBe(result.challenger.version);
    const tags = tagsToRecord((await env.mlflow.getModelVersion(model, result.challenger.version))!.tags);
    expect(tags['flywheel.dataset_source']).toMatch(new RegExp(`^production:${model}\\?window=1h&since=`));

    // The counterfactual's challenger on the same newest labelled rows: far worse, and no better than the champion.
    const onNewest = await scoreOnHoldout(fixed.challenger.version, tags['flywheel.dataset_digest']!);
    console.log(
      `newest ${judged.holdoutRows} labelled rows: champion v1 accuracy ${result.champion!.accuracy.toFixed(3)}, production challenger v${result.challenger.version} ${result.challenger.accuracy.toFixed(3)}, fixed-data challenger v${fixed.challenger.version} ${onNewest.accuracy.toFixed(3)}`,
    );
    expect(onNewest.holdoutRows).toBe(judged.holdoutRows);
    expect(onNewest.accuracy).toBeLessThan(result.challenger.accuracy);
    expect(onNewest.logLoss).toBeGreaterThan(result.challenger.logLoss);
    const wouldHave = decide('logLoss', DEFAULT_MARGIN, result.champion!, onNewest, { champion: '1', challenger: fixed.challenger.version });
    expect(wouldHave.kind).toBe('keep-champion');

    // The loop in one place: which data each version learned from.
    const shown = await runFlywheel(['models', 'show', model, '--json']);
    expect(shown.code, shown.out).toBe(0);
    const versions = (JSON.parse(shown.stdout) as { versions: Array<{ version: string; learnedFrom?: string }> }).versions;
    const learned = Object.fromEntries(versions.map((v) => [v.version, v.learnedFrom]));
    console.log(`models show: ${JSON.stringify(learned)}`);
    expect(learned['1']).toBe(TRAINING_SOURCE);
    expect(learned[fixed.challenger.version]).toBe(TRAINING_SOURCE);
    expect(learned[result.challenger.version]).toMatch(/^production 1h, served \S+Z to \S+Z: \d+ rows \(v1×\d+\), label coverage \d\.\d\d$/);
  }, 420_000);

  it('rolls a canary back for a regression in one segment while the whole stays within its limits', async () => {
    const stable = (await env.mlflow.getVersionByAlias(model, 'champion'))!.version;
    const candidate = fixed.challenger.version;
    const input: CanaryRolloutInput = {
      model,
      candidateVersion: candidate,
      stableVersion: stable,
      // A long first step: only a rollback can end this rollout within the test.
      steps: [{ weight: 50, pauseSeconds: 600 }, { weight: 100, pauseSeconds: 0 }],
      analysis: { intervalSeconds: 2, metrics: [ACCURACY], segmentGuardrails: [{ attribute: 'plan', value: 'pro' }] },
      taskQueues: { cpu: env.taskQueues.cpu, control: env.taskQueues.control },
    };
    const canary = await env.client.workflow.start('CanaryRollout', { taskQueue: env.taskQueues.workflows, workflowId: `canary-${model}-segment`, args: [input] });
    await until('the segment canary to set its weights', () => canary.query(rolloutStatusQuery), (s: RolloutStatus) => s.step >= 1);
    // Planted: the candidate is wrong on every other pro prediction and right elsewhere; stable is
    // right for pro and wrong on 1 in 8 elsewhere. With pro a fifth of the traffic, both are wrong
    // on 10 % of everything: the average cannot see it.
    const seen = new Map<string, number>();
    const planted = (s: Served) => {
      const kind = `${s.version === candidate ? 'candidate' : 'stable'}-${s.plan === 'pro' ? 'pro' : 'rest'}`;
      const n = seen.get(kind) ?? 0;
      seen.set(kind, n + 1);
      const wrong = (kind === 'candidate-pro' && n % 2 === 0) || (kind === 'stable-rest' && n % 8 === 0);
      return wrong ? CLASSES.find((c) => c !== s.label)! : s.label;
    };
    await feedCanary(canary, 30, async () => label(await serve(draw(conceptB, 250)), planted));
    const result = (await canary.result()) as RolloutResult;
    const status = await canary.query(rolloutStatusQuery);
    console.log(`segment canary: ${result.outcome} after ${result.analyses} looks: ${result.reason}`);

    expect(result.outcome).toBe('rolled-back');
    expect(result.reason).toMatch(/^analysis failed at step 1 \(50%\): segment plan=pro: accuracy: /);
    const last = status.analyses.at(-1)!;
    expect(last.checks.filter((c) => c.verdict === 'fail').map((c) => c.segment)).toEqual(['plan=pro']);
    // The overall judge alone would not have rolled back: its check never failed at any look, and
    // the whole wrong-label rates it compared were alike.
    const whole = status.analyses.flatMap((a) => a.checks.filter((c) => c.segment === undefined));
    expect(whole.length).toBe(status.analyses.length);
    expect(whole.every((c) => c.verdict !== 'fail')).toBe(true);
    // Nor would it have with a threshold of its own: without guardrails its harm test is the only one
    // and crosses at 1/α (100), not 2/α. harmE is the largest evidence of any look so far.
    const lastWhole = last.checks.find((c) => c.segment === undefined) as MetricReport;
    console.log(`whole wrong-label rate at the rollback: candidate ${lastWhole.candidate?.toFixed(3)} vs stable ${lastWhole.stable?.toFixed(3)}, harm E ${lastWhole.evidence.harmE.toFixed(2)} (${lastWhole.verdict})`);
    expect(lastWhole.evidence.harmE).toBeLessThan(1 / DEFAULT_ANALYSIS.alpha);
    expect((await env.mlflow.getVersionByAlias(model, 'champion'))?.version).toBe(stable);
  }, 300_000);
});

/** A registered version's own ONNX (from its MLflow run), scored on a dataset's holdout as the Retraining scores: same activities, same split. */
async function scoreOnHoldout(version: string, datasetDigest: string): Promise<EvaluationResult> {
  const holdout = await createRetrainingActivities(env.config).locateHoldout({ datasetDigest, holdoutFraction: 0.2, splitSeed: 42 });
  const mv = await env.mlflow.getModelVersion(model, version);
  const run = await env.mlflow.getRun(mv!.run_id!);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flywheel-e2e-'));
  try {
    const onnxUri = path.join(dir, 'model.onnx');
    await fsp.writeFile(onnxUri, await readOnnx(env.mlflow, `${run.info.artifact_uri.replace(/\/+$/, '')}/${ONNX_ARTIFACT_PATH}`));
    return await createEvaluationActivities(env.config).evaluateOnnx({ onnxUri, datasetUri: holdout.datasetUri, holdoutUri: holdout.holdoutUri });
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
