/** Operational record of each pipeline run in PostgreSQL (the registry of record stays MLflow). */
import type { FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { domainMetrics } from './domain-metrics';

export interface PipelineRecord {
  workflowId: string;
  runId: string;
  model: string;
  family: string;
  datasetDigest: string;
  hyperparameters: Record<string, unknown>;
  status: 'running' | 'completed' | 'failed';
  stage: string;
  modelVersion?: string;
  mlflowRunId?: string;
  metrics?: Record<string, number>;
  error?: string;
}

export function createPipelineRecordActivities(config: FlywheelConfig) {
  return {
    /** An upsert keyed by (workflow id, run id): replays and retries converge on one row. */
    async recordPipelineRun(r: PipelineRecord): Promise<void> {
      // The status before this write (read from the snapshot before the upsert): counted once per finish.
      const { rows: written } = await getPool(config.postgres.url).query<{ prev: string | null; seconds: number | null }>(
        `with prev as (select status from pipeline_runs where workflow_id = $1 and run_id = $2)
         insert into pipeline_runs (workflow_id, run_id, model, family, dataset_digest, hyperparameters, status, stage, model_version, mlflow_run_id, metrics, error, finished_at)
         values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12, case when $7 = 'running' then null else now() end)
         on conflict (workflow_id, run_id) do update set
           status = excluded.status, stage = excluded.stage,
           model_version = coalesce(excluded.model_version, pipeline_runs.model_version),
           mlflow_run_id = coalesce(excluded.mlflow_run_id, pipeline_runs.mlflow_run_id),
           metrics = coalesce(excluded.metrics, pipeline_runs.metrics),
           error = excluded.error, finished_at = excluded.finished_at
         returning (select status from prev) as prev, extract(epoch from finished_at - started_at)::float8 as seconds`,
        [
          r.workflowId, r.runId, r.model, r.family, r.datasetDigest, JSON.stringify(r.hyperparameters), r.status, r.stage,
          r.modelVersion ?? null, r.mlflowRunId ?? null, r.metrics ? JSON.stringify(r.metrics) : null, r.error ?? null,
        ],
      );
      if (r.status !== 'running' && written[0]?.prev !== r.status) domainMetrics.trainingFinished(r.model, r.status, written[0]?.seconds ?? undefined);
    },
  };
}
