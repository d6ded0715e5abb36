/**
 * Canary activities: read a version's recent window of served traffic and feedback from PostgreSQL
 * (what the gateway recorded), and move the registry (MLflow) to the rollout's decision.
 */
import type { FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { MlflowClient } from '../clients/mlflow';
import type { VersionSample } from '../lib/rollout/analyse';
import { createTrafficActivities } from './traffic';

export interface CollectRolloutMetricsInput {
  model: string;
  stableVersion: string;
  candidateVersion: string;
  /** Window start (ms since epoch): the current step's start. */
  sinceMs: number;
  /** Latencies kept per version for the Mann-Whitney judge (the newest ones). */
  maxLatencySamples?: number;
}

export function createCanaryActivities(config: FlywheelConfig) {
  const pool = () => getPool(config.postgres.url);
  const mlflow = new MlflowClient(config.mlflow.trackingUri);
  const traffic = createTrafficActivities(config);

  return {
    async collectRolloutMetrics(input: CollectRolloutMetricsInput): Promise<{ stable: VersionSample; candidate: VersionSample }> {
      const since = new Date(input.sinceMs);
      const versions = [input.stableVersion, input.candidateVersion];
      const limit = input.maxLatencySamples ?? 2000;
      const empty = (): VersionSample => ({ requests: 0, errors: 0, latenciesMs: [], labelled: 0, correct: 0 });
      const out: Record<string, VersionSample> = { [input.stableVersion]: empty(), [input.candidateVersion]: empty() };

      const counts = await pool().query<{ version: string; requests: string; errors: string }>(
        `select version, count(*) as requests, count(*) filter (where outcome = 'error') as errors
         from predictions where model = $1 and version = any($2) and created_at >= $3 group by version`,
        [input.model, versions, since],
      );
      for (const r of counts.rows) Object.assign(out[r.version]!, { requests: Number(r.requests), errors: Number(r.errors) });

      for (const version of versions) {
        const lat = await pool().query<{ latency_ms: number }>(
          `select latency_ms from predictions where model = $1 and version = $2 and created_at >= $3 and outcome = 'ok'
           order by created_at desc limit $4`,
          [input.model, version, since, limit],
        );
        out[version]!.latenciesMs = lat.rows.map((r) => Number(r.latency_ms));
      }

      // One label per prediction (the latest), joined to what was served.
      const labels = await pool().query<{ version: string; labelled: string; correct: string }>(
        `select p.version, count(*) as labelled, count(*) filter (where f.label = p.predicted_label) as correct
         from (select distinct on (prediction_id) prediction_id, label from feedback where kind = 'label' order by prediction_id, id desc) f
         join predictions p on p.id = f.prediction_id
         where p.model = $1 and p.version = any($2) and p.created_at >= $3 and p.outcome = 'ok'
         group by p.version`,
        [input.model, versions, since],
      );
      for (const r of labels.rows) Object.assign(out[r.version]!, { labelled: Number(r.labelled), correct: Number(r.correct) });
      return { stable: out[input.stableVersion]!, candidate: out[input.candidateVersion]! };
    },

    /** The candidate won: it takes the `champion` alias, and the registry says why. */
    async promoteChampion(input: { model: string; version: string; reason: string; workflowId: string }): Promise<void> {
      await mlflow.setAlias(input.model, 'champion', input.version);
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout', 'promoted');
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout_workflow', input.workflowId);
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout_reason', input.reason.slice(0, 5000));
    },

    /** The candidate lost: rejected in the registry and in serving, with the reason. */
    async rejectCandidate(input: { model: string; version: string; reason: string; workflowId: string }): Promise<void> {
      await traffic.markDeployment({ model: input.model, version: input.version, state: 'rejected', reason: input.reason });
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout', 'rejected');
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout_workflow', input.workflowId);
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout_reason', input.reason.slice(0, 5000));
    },
  };
}
