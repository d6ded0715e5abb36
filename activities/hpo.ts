/**
 * Hyperparameter-search activities. A trial is a training run on the search split that reports
 * its validation metric after every epoch, by signal, so the workflow's pruner can stop it (by
 * cancelling the activity). Studies and trials are recorded in PostgreSQL and as MLflow runs
 * (a parent run per study, a child run per trial), all found again by key before being created.
 */
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { dataPaths, type FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { MlflowClient, mlflowQuote, type MlflowMetric, type MlflowTag } from '../clients/mlflow';
import { gitCommitTags } from './mlflow-model';
import type { ClassificationMetrics } from '../lib/metrics/classification';
import type { SoftmaxRegressionHyperparameters } from '../lib/models/softmax-regression';
import { domainMetrics } from './domain-metrics';
import { currentWorkflow } from './artifacts';
import { getFileStore } from '../datasets/file-store';
import { IDEMPOTENCY_TAG } from './registry';
import { runTrainingThread } from './training-thread-runner';

export type TrialMetric = keyof ClassificationMetrics;

export interface TrialReport {
  trialNumber: number;
  step: number;
  value: number;
}

export interface RunTrialInput {
  trialNumber: number;
  datasetUri: string;
  trainUri: string;
  validUri: string;
  hyperparameters: SoftmaxRegressionHyperparameters;
  metric: TrialMetric;
  /** Workflow signal receiving a `TrialReport` after every epoch. */
  reportSignal: string;
}

export interface RunTrialResult {
  value: number;
  intermediate: Array<[number, number]>;
  seconds: number;
}

export interface StudyRecord {
  model: string;
  datasetDigest: string;
  family: string;
  sampler: string;
  pruner: string;
  metric: string;
  direction: 'minimize' | 'maximize';
  space: unknown;
  nTrials: number;
  parallel: number;
}

export interface TrialRecord {
  number: number;
  params: Record<string, unknown>;
  state: 'running' | 'complete' | 'pruned' | 'failed';
  value?: number;
  intermediate: Array<[number, number]>;
  error?: string;
}

/** `gitCommit`: the build's commit, recorded on study and trial runs (omitted: not recorded). */
export function createHpoActivities(config: FlywheelConfig, gitCommit?: string) {
  const mlflow = new MlflowClient(config.mlflow);
  const db = () => getPool(config.postgres.url);

  async function findOrCreateRun(experimentId: string, key: string, name: string, tags: MlflowTag[]) {
    const found = await mlflow.searchRuns([experimentId], `tags.\`${IDEMPOTENCY_TAG}\` = ${mlflowQuote(key)}`, 1);
    const commit = gitCommit === undefined ? [] : gitCommitTags(gitCommit);
    return found[0] ?? (await mlflow.createRun(experimentId, name, [{ key: IDEMPOTENCY_TAG, value: key }, ...commit, ...tags], Date.now()));
  }

  return {
    async startStudy(study: StudyRecord): Promise<{ mlflowRunId: string; experimentId: string }> {
      const { workflowId } = currentWorkflow();
      const experimentId = await mlflow.ensureExperiment(study.model, [{ key: 'flywheel.model', value: study.model }]);
      const run = await findOrCreateRun(experimentId, `study:${workflowId}`, `hpo-${study.sampler}`, [
        { key: 'flywheel.workflow_id', value: workflowId },
        { key: 'flywheel.dataset_digest', value: study.datasetDigest },
        { key: 'flywheel.kind', value: 'hpo-study' },
      ]);
      const params = [
        { key: 'sampler', value: study.sampler },
        { key: 'pruner', value: study.pruner },
        { key: 'metric', value: study.metric },
        { key: 'direction', value: study.direction },
        { key: 'n_trials', value: String(study.nTrials) },
        { key: 'parallel', value: String(study.parallel) },
        { key: 'search_space', value: JSON.stringify(study.space).slice(0, 6000) },
      ];
      // Params are write-once in MLflow: a retry writing the same values is accepted.
      await mlflow.logBatch(run.info.run_id, { params });
      await db().query(
        `insert into hpo_studies (workflow_id, model, dataset_digest, family, sampler, pruner, metric, direction, space, n_trials, parallel, mlflow_run_id, status)
         values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'running') on conflict (workflow_id) do nothing`,
        [workflowId, study.model, study.datasetDigest, study.family, study.sampler, study.pruner, study.metric, study.direction, JSON.stringify(study.space), study.nTrials, study.parallel, run.info.run_id],
      );
      return { mlflowRunId: run.info.run_id, experimentId };
    },

    async runTrial(input: RunTrialInput): Promise<RunTrialResult> {
      const ctx = Context.current();
      const { workflowId, runId } = currentWorkflow();
      const workflow = ctx.client.workflow.getHandle(workflowId, runId);
      const run = await runTrainingThread({
        datasetUri: input.datasetUri,
        trainUri: input.trainUri,
        validUri: input.validUri,
        hyperparameters: input.hyperparameters,
        // Keyed by study and trial number, not attempt: a retry resumes where the last attempt stopped.
        checkpointFile: path.join(dataPaths(config).checkpoints, workflowId.replace(/[^A-Za-z0-9._-]/g, '_'), `trial-${input.trialNumber}.json`),
        files: getFileStore(config),
        onEpoch: (e) => {
          const report: TrialReport = { trialNumber: input.trialNumber, step: e.epoch, value: e.validation![input.metric] };
          workflow.signal(input.reportSignal, report).catch(() => undefined);
        },
      });
      // The history includes epochs checkpointed by earlier attempts of this trial.
      const intermediate = run.history.map((h): [number, number] => [h.epoch, h.validation![input.metric]]);
      return { value: intermediate[intermediate.length - 1]![1], intermediate, seconds: run.seconds };
    },

    async recordTrial(input: { mlflowParentRunId: string; experimentId: string; metric: string; trial: TrialRecord }): Promise<void> {
      const { workflowId } = currentWorkflow();
      const t = input.trial;
      await db().query(
        `insert into hpo_trials (study_workflow_id, number, params, state, value, intermediate, error)
         values ($1,$2,$3,$4,$5,$6,$7)
         on conflict (study_workflow_id, number) do update set state = excluded.state, value = excluded.value,
           intermediate = excluded.intermediate, error = excluded.error, updated_at = now()`,
        [workflowId, t.number, JSON.stringify(t.params), t.state, t.value ?? null, JSON.stringify(t.intermediate), t.error ?? null],
      );
      if (t.state === 'running') return;
      const run = await findOrCreateRun(input.experimentId, `trial:${workflowId}:${t.number}`, `trial-${t.number}`, [
        { key: 'mlflow.parentRunId', value: input.mlflowParentRunId },
        { key: 'flywheel.workflow_id', value: workflowId },
        { key: 'flywheel.trial_state', value: t.state },
        { key: 'flywheel.kind', value: 'hpo-trial' },
      ]);
      if (run.info.status !== 'RUNNING') return; // recorded by an earlier attempt
      const study = await db().query<{ model: string }>('select model from hpo_studies where workflow_id = $1', [workflowId]);
      if (study.rows[0]) domainMetrics.trialFinished(study.rows[0].model, t.state);
      const now = Date.now();
      const metrics: MlflowMetric[] = t.intermediate.map(([step, value]) => ({ key: `val_${input.metric}`, value, step, timestamp: now }));
      if (t.value !== undefined) metrics.push({ key: 'objective', value: t.value, step: 0, timestamp: now });
      await mlflow.logBatch(run.info.run_id, { params: Object.entries(t.params).map(([key, v]) => ({ key, value: String(v) })), metrics });
      await mlflow.finishRun(run.info.run_id, t.state === 'complete' ? 'FINISHED' : t.state === 'pruned' ? 'KILLED' : 'FAILED', Date.now());
      await db().query('update hpo_trials set mlflow_run_id = $3 where study_workflow_id = $1 and number = $2', [workflowId, t.number, run.info.run_id]);
    },

    async finishStudy(input: { mlflowRunId: string; status: 'completed' | 'failed'; best?: { number: number; value: number; params: Record<string, unknown> } }): Promise<void> {
      const { workflowId } = currentWorkflow();
      await db().query(
        `update hpo_studies set status = $2, best_trial = $3, best_value = $4, best_params = $5, finished_at = now() where workflow_id = $1`,
        [workflowId, input.status, input.best?.number ?? null, input.best?.value ?? null, input.best ? JSON.stringify(input.best.params) : null],
      );
      const run = await mlflow.getRun(input.mlflowRunId);
      if (run.info.status !== 'RUNNING') return;
      if (input.best) {
        await mlflow.logBatch(input.mlflowRunId, {
          metrics: [{ key: 'best_objective', value: input.best.value, step: 0, timestamp: Date.now() }],
          tags: [{ key: 'flywheel.best_trial', value: String(input.best.number) }, { key: 'flywheel.best_params', value: JSON.stringify(input.best.params) }],
        });
      }
      await mlflow.finishRun(input.mlflowRunId, input.status === 'completed' ? 'FINISHED' : 'FAILED', Date.now());
    },
  };
}
