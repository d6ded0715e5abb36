/**
 * Canary activities: read a version's recent window of served traffic and feedback from PostgreSQL
 * (what the gateway recorded), and move the registry (MLflow) to the rollout's decision.
 */
import type { FlywheelConfig } from '../config/index';
import { getPool } from '../clients/db';
import { MlflowClient } from '../clients/mlflow';
import type { VersionSample } from '../lib/rollout/analyse';
import type { SegmentWindow, VersionWindow } from '../lib/rollout/sequential-judge';
import type { SegmentGuardrail } from '../lib/rollout/spec';
import { decisionClients, decisionFeedbackSql } from '../datasets/decision-feedback';
import { createTrafficActivities } from './traffic';
import { domainLog } from './domain-log';
import { domainMetrics } from './domain-metrics';
import { auditQuietly } from '../clients/audit';
import { collectShadowWindow, startShadow, stopShadow } from './shadow';
import type { ShadowWindow } from '../lib/shadow/judge';
import { LABEL_SKEW } from '../lib/data/partitions';

export interface CollectRolloutMetricsInput {
  model: string;
  stableVersion: string;
  candidateVersion: string;
  /** Window start (ms since epoch): the current step's start. */
  sinceMs: number;
  /** Latencies kept per version for the Mann-Whitney judge (the newest ones). */
  maxLatencySamples?: number;
}

export interface CollectRolloutWindowInput {
  model: string;
  /** Each version with the latency thresholds (key → ms) its successful requests are counted against. */
  versions: Array<{ version: string; thresholds: Record<string, number> }>;
  /** The window [fromMs, toMs): predictions served, and labels received, in it. */
  fromMs: number;
  toMs: number;
  /** Labels count only for predictions served since this (the rollout's start). */
  predictionsSinceMs: number;
  /** Quantiles (the next window's latency reference) cover [quantilesFromMs, toMs). */
  quantilesFromMs?: number;
  /** Segment guardrails: each version's window is also counted within each (same order in `segments`). */
  segments?: SegmentGuardrail[];
}

/** A version's window, and with segment guardrails its counts within each segment. */
export type CollectedWindow = VersionWindow & { segments?: SegmentWindow[] };

export function createCanaryActivities(config: FlywheelConfig) {
  const pool = () => getPool(config.postgres.url);

  /**
   * The same window within each guardrail's segment (`segment->>attribute = value`, both bound
   * parameters): requests and errors served in it, first labels received in it. One query each for
   * all guardrails, bounded by the window like the whole's, so a look costs the same after a year.
   */
  async function countSegments(input: CollectRolloutWindowInput, out: Record<string, CollectedWindow>, clients: string[] | null): Promise<void> {
    const guards = input.segments!;
    const versions = input.versions.map((v) => v.version);
    for (const v of versions) out[v]!.segments = guards.map(() => ({ requests: 0, errors: 0, labelled: 0, incorrect: 0 }));
    const attrs = guards.map((g) => g.attribute);
    const values = guards.map((g) => g.value);
    const served = await pool().query<{ version: string; i: string; requests: string; errors: string }>(
      `select p.version, g.i, count(*) as requests, count(*) filter (where p.outcome = 'error') as errors
       from predictions p join unnest($5::text[], $6::text[]) with ordinality as g(attr, val, i) on p.segment->>g.attr = g.val
       where p.model = $1 and p.version = any($2) and p.created_at >= $3 and p.created_at < $4
       group by p.version, g.i`,
      [input.model, versions, new Date(input.fromMs), new Date(input.toMs), attrs, values],
    );
    for (const r of served.rows) Object.assign(out[r.version]!.segments![Number(r.i) - 1]!, { requests: Number(r.requests), errors: Number(r.errors) });
    // First labels only, that may count in decisions: as the whole window's label query.
    const labels = await pool().query<{ version: string; i: string; labelled: string; incorrect: string }>(
      `select p.version, g.i, count(*) as labelled, count(*) filter (where f.label is distinct from p.predicted_label) as incorrect
       from feedback f join predictions p on p.id = f.prediction_id
       join unnest($7::text[], $8::text[]) with ordinality as g(attr, val, i) on p.segment->>g.attr = g.val
       where f.kind = 'label' and f.created_at >= $3 and f.created_at < $4
         and p.model = $1 and p.version = any($2) and p.created_at >= $5 and p.outcome = 'ok'
         and not exists (select 1 from feedback e where e.prediction_id = f.prediction_id and e.kind = 'label' and e.id < f.id and e.created_at >= p.created_at - interval '${LABEL_SKEW}')
         and ${decisionFeedbackSql('f', '$6')}
       group by p.version, g.i`,
      [input.model, versions, new Date(input.fromMs), new Date(input.toMs), new Date(input.predictionsSinceMs), clients, attrs, values],
    );
    for (const r of labels.rows) Object.assign(out[r.version]!.segments![Number(r.i) - 1]!, { labelled: Number(r.labelled), incorrect: Number(r.incorrect) });
  }
  const mlflow = new MlflowClient(config.mlflow);
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

      // One label per prediction (the first that may count: activities/decision-feedback.ts), joined to what was served.
      const clients = await decisionClients(pool(), input.model);
      const labels = await pool().query<{ version: string; labelled: string; correct: string }>(
        `select p.version, count(*) as labelled, count(*) filter (where f.label = p.predicted_label) as correct
         from (select distinct on (prediction_id) prediction_id, label from feedback fb where kind = 'label' and created_at >= $3 and ${decisionFeedbackSql('fb', '$4')} order by prediction_id, id) f
         join predictions p on p.id = f.prediction_id
         where p.model = $1 and p.version = any($2) and p.created_at >= $3 and p.outcome = 'ok'
         group by p.version`,
        [input.model, versions, since, clients],
      );
      for (const r of labels.rows) Object.assign(out[r.version]!, { labelled: Number(r.labelled), correct: Number(r.correct) });
      return { stable: out[input.stableVersion]!, candidate: out[input.candidateVersion]! };
    },

    /**
     * One window of the sequential judge, per version: requests, errors, successful requests above
     * each latency threshold, the trailing p95/p99 (the next reference), and the first labels that
     * arrived in the window.
     * Every query is bounded by the window and served by an index (predictions by model, version
     * and time; labels by arrival time), so a look costs the same after a year of traffic.
     */
    async collectRolloutWindow(input: CollectRolloutWindowInput): Promise<Record<string, CollectedWindow>> {
      const from = new Date(input.fromMs);
      const to = new Date(input.toMs);
      const out: Record<string, CollectedWindow> = {};
      for (const { version, thresholds } of input.versions) {
        const keys = Object.keys(thresholds).sort();
        const above = keys.map((_, i) => `count(*) filter (where outcome = 'ok' and latency_ms > $${5 + i}) as above_${i}`);
        const r = await pool().query<Record<string, string | number | null>>(
          `select count(*) as requests, count(*) filter (where outcome = 'error') as errors, count(*) filter (where outcome = 'ok') as ok
                  ${above.map((a) => `, ${a}`).join('')}
           from predictions where model = $1 and version = $2 and created_at >= $3 and created_at < $4`,
          [input.model, version, from, to, ...keys.map((k) => thresholds[k])],
        );
        const row = r.rows[0]!;
        const q = await pool().query<{ p95: number | null; p99: number | null; n: string }>(
          `select percentile_disc(0.95) within group (order by latency_ms) as p95, percentile_disc(0.99) within group (order by latency_ms) as p99, count(*) as n
           from predictions where model = $1 and version = $2 and created_at >= $3 and created_at < $4 and outcome = 'ok'`,
          [input.model, version, new Date(Math.min(input.quantilesFromMs ?? input.fromMs, input.fromMs)), to],
        );
        out[version] = {
          requests: Number(row.requests),
          errors: Number(row.errors),
          ok: Number(row.ok),
          labelled: 0,
          incorrect: 0,
          above: Object.fromEntries(keys.map((k, i) => [k, Number(row[`above_${i}`])])),
          p95Ms: q.rows[0]!.p95 === null ? null : Number(q.rows[0]!.p95),
          p99Ms: q.rows[0]!.p99 === null ? null : Number(q.rows[0]!.p99),
          quantileCount: Number(q.rows[0]!.n),
        };
      }
      // A prediction's first label is its label: a later one never replaces it (nor counts twice).
      // Only a label that may count in decisions counts (activities/decision-feedback.ts): a first
      // label that may not leaves its prediction unlabelled here.
      const clients = await decisionClients(pool(), input.model);
      const labels = await pool().query<{ version: string; labelled: string; incorrect: string }>(
        `select p.version, count(*) as labelled, count(*) filter (where f.label is distinct from p.predicted_label) as incorrect
         from feedback f join predictions p on p.id = f.prediction_id
         where f.kind = 'label' and f.created_at >= $3 and f.created_at < $4
           and p.model = $1 and p.version = any($2) and p.created_at >= $5 and p.outcome = 'ok'
           and not exists (select 1 from feedback e where e.prediction_id = f.prediction_id and e.kind = 'label' and e.id < f.id and e.created_at >= p.created_at - interval '${LABEL_SKEW}')
           and ${decisionFeedbackSql('f', '$6')}
         group by p.version`,
        [input.model, input.versions.map((v) => v.version), from, to, new Date(input.predictionsSinceMs), clients],
      );
      for (const row of labels.rows) Object.assign(out[row.version]!, { labelled: Number(row.labelled), incorrect: Number(row.incorrect) });
      if (input.segments?.length) await countSegments(input, out, clients);
      return out;
    },

    /**
     * A canary's shadow step begins: the candidate answers every request beside the stable version
     * (the gateways start on NOTIFY). Attributed to the rollout; a retry starts nothing twice.
     */
    async startRolloutShadow(input: { model: string; version: string; workflowId: string }): Promise<void> {
      const actor = `workflow:${input.workflowId}`;
      const r = await startShadow(pool(), { model: input.model, version: input.version, share: 1, actor });
      if (r.created) await auditQuietly(pool(), { actor, action: 'shadow.start', target: `model:${input.model}/v${input.version}`, outcome: 'ok', detail: { share: 1, id: r.shadow.id } });
    },

    /** The shadow step ends (passed, rolled back or cancelled): only this candidate's shadow is stopped. */
    async stopRolloutShadow(input: { model: string; version: string; workflowId: string; reason: string }): Promise<void> {
      const actor = `workflow:${input.workflowId}`;
      const stopped = await stopShadow(pool(), { model: input.model, version: input.version, actor, reason: input.reason.slice(0, 2000) });
      if (stopped) await auditQuietly(pool(), { actor, action: 'shadow.stop', target: `model:${input.model}`, outcome: 'ok', detail: { id: stopped.id, reason: input.reason.slice(0, 500) } });
    },

    /** One look of the shadow step (activities/shadow.ts), with how many requests the shadow answered in the window. */
    async collectShadowWindow(input: { model: string; version: string; fromMs: number; toMs: number; sinceMs: number }): Promise<ShadowWindow & { shadowed: number }> {
      const w = await collectShadowWindow(pool(), input);
      const { rows } = await pool().query<{ n: string }>('select count(*) as n from shadow_predictions where model = $1 and version = $2 and created_at >= $3 and created_at < $4', [
        input.model,
        input.version,
        new Date(input.fromMs),
        new Date(input.toMs),
      ]);
      return { ...w, shadowed: Number(rows[0]!.n) };
    },

    /** The candidate won: it takes the `champion` alias, and the registry says why. */
    async promoteChampion(input: { model: string; version: string; reason: string; workflowId: string }): Promise<void> {
      await mlflow.setAlias(input.model, 'champion', input.version);
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout', 'promoted');
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout_workflow', input.workflowId);
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout_reason', input.reason.slice(0, 5000));
      domainMetrics.canaryFinished(input.model, input.version, 'promoted');
      domainLog('info', 'canary promoted', { model: input.model, version: input.version, reason: input.reason });
    },

    /** The candidate lost: rejected in the registry and in serving, with the reason. */
    async rejectCandidate(input: { model: string; version: string; reason: string; workflowId: string }): Promise<void> {
      await traffic.markDeployment({ model: input.model, version: input.version, state: 'rejected', reason: input.reason });
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout', 'rejected');
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout_workflow', input.workflowId);
      await mlflow.setModelVersionTag(input.model, input.version, 'flywheel.rollout_reason', input.reason.slice(0, 5000));
      domainMetrics.canaryFinished(input.model, input.version, 'rolled_back');
      domainLog('warn', 'canary rolled back', { model: input.model, version: input.version, reason: input.reason });
    },
  };
}
