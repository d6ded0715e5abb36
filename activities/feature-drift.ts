/**
 * Feature drift activities for the FeatureDriftMonitor workflow: one check of a model's served
 * features (datasets/feature-drift.ts), its PSIs as worker metrics, and a small summary back to
 * the workflow (no rows, no reference: data stays by reference).
 */
import { dataPaths, type FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { checkFeatureDrift, FeatureDriftRefused, type FeatureDriftCheckInput } from '../datasets/feature-drift';
import { domainMetrics } from './domain-metrics';
import { invalidInput } from './errors';
import { getFileStore } from '../datasets/file-store';

export interface FeatureDriftSummary {
  judged: boolean;
  windowRows: number;
  windowEnd: string | null;
  championVersion: string;
  /** Largest PSI of the check (0 when not judged). */
  maxPsi: number;
  moved: Array<{ name: string; feature: number; psi: number; pvalue: number }>;
  eventId?: string;
}

export function createFeatureDriftActivities(config: FlywheelConfig) {
  return {
    async checkFeatureDrift(input: FeatureDriftCheckInput): Promise<FeatureDriftSummary> {
      try {
        const r = await checkFeatureDrift(getPool(config.postgres.url), dataPaths(config).datasets, input, getFileStore(config));
        domainMetrics.featureDrift(input.model, r.scores.map((s) => ({ name: s.name, psi: s.psi })), r.moved.length);
        return {
          judged: r.judged,
          windowRows: r.windowRows,
          windowEnd: r.windowEnd,
          championVersion: r.championVersion,
          maxPsi: r.scores.reduce((m, s) => Math.max(m, s.psi), 0),
          moved: r.moved.map((m) => ({ name: m.name, feature: m.feature, psi: m.psi, pvalue: m.pvalue })),
          ...(r.eventId ? { eventId: r.eventId } : {}),
        };
      } catch (err) {
        // Nothing to compare (no traffic, no training data here): retrying cannot fix it.
        if (err instanceof FeatureDriftRefused) throw invalidInput(err.message);
        throw err;
      }
    },

    async noteFeatureDriftRetraining(input: { eventId: string; retrainingWorkflowId: string }): Promise<void> {
      await getPool(config.postgres.url).query('UPDATE feature_drift_events SET retraining_workflow_id = $2 WHERE id = $1::bigint', [input.eventId, input.retrainingWorkflowId]);
    },
  };
}
