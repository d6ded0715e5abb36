/**
 * `flywheel report <model>`: a model's story on one page. Gathers what the registry (MLflow), the
 * operational store (PostgreSQL) and the workflows (Temporal) know about one model, and writes it
 * as a self-contained HTML file drawn by lib/report/html.ts (default `.flywheel/reports/<model>.html`).
 *
 * Every read is bounded: versions, deployments and traffic are one model's rows; drift events,
 * retraining runs, labelled predictions and workflows are limited to the `--since` window and read
 * through the indexes that serve them (model, time). A closed rollout's per-look evidence comes
 * from its `status` query, which the workflow worker answers by replaying its history; when no
 * worker answers, the page says so and shows the outcome from the workflow's result.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import type { FlywheelConfig } from '../../config/index';
import { MODEL_NAME } from '../../config/search-attributes';
import { closePools, getPool } from '../../clients/db';
import { MlflowClient, MlflowError, mlflowQuote, tagsToRecord, type MlflowModelVersion } from '../../clients/mlflow';
import { connectTemporal } from '../../clients/temporal';
import { renderReport } from '../../lib/report/html';
import type { AccuracyPoint, CanaryCheckPoint, ChampionEvent, ModelReport, ReportABTest, ReportCanary, ReportVersion } from '../../lib/report/types';
import type { ABTestResult, ABTestStatus } from '../../workflows/ab-test';
import type { RolloutResult, RolloutStatus } from '../../workflows/canary-rollout';
import { json, withConfig } from '../command-kit';
import { badInput, CliError, EXIT, printJson } from '../output';
import { failureReason, isClosedBadly } from '../workflow-state';

/** Workflows of each kind read per report (newest first): each closed one may cost a query replay. */
const MAX_WORKFLOWS = 25;

/** `30d`, `12h`, `90m`, `45s` → milliseconds. */
export function sinceArg(text: string): number {
  const m = /^(\d{1,6})([dhms])$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw badInput(`--since: a duration such as 30d, 12h, 90m or 600s (got ${JSON.stringify(text)})`);
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[m[2] as 'd' | 'h' | 'm' | 's'];
}

/** The report's file for a model, under the data directory; names are kept to file-safe characters. */
export function defaultReportPath(config: FlywheelConfig, model: string): string {
  return path.join(config.dataDir, 'reports', `${model.replace(/[^A-Za-z0-9._-]/g, '_')}.html`);
}

/** Accuracy buckets: the smallest round width that keeps the window under ~200 points. */
export function bucketSeconds(windowMs: number): number {
  const widths = [60, 300, 900, 3600, 6 * 3600, 86_400, 7 * 86_400];
  return widths.find((w) => windowMs / 1000 / w <= 200) ?? widths[widths.length - 1]!;
}

interface ReportOptions {
  out?: string;
  since: string;
  json?: boolean;
}

export async function reportCommand(config: FlywheelConfig, model: string, opts: ReportOptions): Promise<void> {
  const windowMs = sinceArg(opts.since);
  const now = new Date();
  const since = new Date(now.getTime() - windowMs);
  const mlflow = new MlflowClient(config.mlflow, 15_000);
  let registered;
  try {
    registered = await mlflow.getRegisteredModel(model);
  } catch (err) {
    if (err instanceof MlflowError && err.errorCode === 'UNREACHABLE') throw new CliError(`MLflow is not reachable at ${config.mlflow.trackingUri}: start the stack with \`flywheel up\``, EXIT.stackDown);
    throw err;
  }
  if (!registered) throw badInput(`no registered model named ${model} (see flywheel models list)`);
  const mlVersions = (await mlflow.searchModelVersions(`name=${mlflowQuote(model)}`)).sort((a, b) => Number(b.version) - Number(a.version));

  const { client, connection } = await connectTemporal(config);
  try {
    const db = getPool(config.postgres.url);
    const [serving, lineage, drift, retraining, accuracy, workflows] = await Promise.all([
      readServing(db, model),
      readLineage(db, model),
      readDrift(db, model, since),
      readRetraining(db, model, since),
      readAccuracy(db, model, since, bucketSeconds(windowMs)),
      readWorkflows(client, model, since),
    ]);
    const aliases = (registered.aliases ?? []).map((a) => ({ alias: a.alias, version: a.version }));
    const champion = aliases.find((a) => a.alias === 'champion')?.version;
    // Version search answers without aliases: the registered model's list says which version holds which.
    const versions = mlVersions.map((v) => versionOf({ ...v, aliases: [...new Set([...(v.aliases ?? []), ...aliases.filter((a) => a.version === v.version).map((a) => a.alias)])] }, serving, lineage));
    const report: ModelReport = {
      model,
      description: registered.description,
      generatedAt: now.toISOString(),
      since: since.toISOString(),
      champion,
      aliases,
      versions,
      championHistory: championHistory(mlVersions, workflows.canaries, champion),
      canaries: workflows.canaries,
      abTests: workflows.abTests,
      driftEvents: drift,
      retraining,
      accuracy: { bucketSeconds: bucketSeconds(windowMs), points: accuracy },
      notes: workflows.notes,
    };
    const out = path.resolve(opts.out ?? defaultReportPath(config, model));
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, renderReport(report));
    const url = pathToFileURL(out).href;
    if (opts.json) printJson({ path: out, url, report });
    else {
      const canaries = report.canaries.length;
      process.stdout.write(
        `wrote the report of ${model}: ${versions.length} version${versions.length === 1 ? '' : 's'}, ${canaries} canar${canaries === 1 ? 'y' : 'ies'}, ${report.abTests.length} A/B test${report.abTests.length === 1 ? '' : 's'}, ${drift.length} drift event${drift.length === 1 ? '' : 's'}, ${retraining.length} retraining${retraining.length === 1 ? '' : 's'}\n${url}\n`,
      );
    }
  } finally {
    await connection.close();
    await closePools();
  }
}

// --- PostgreSQL ----------------------------------------------------------------------------

type Db = ReturnType<typeof getPool>;

interface Serving {
  deployments: Map<string, { state: string; reason: string | null; updated_at: Date }>;
  weights: Map<string, number>;
}

async function readServing(db: Db, model: string): Promise<Serving> {
  const [d, w] = await Promise.all([
    db.query<{ version: string; state: string; reason: string | null; updated_at: Date }>('SELECT version, state, reason, updated_at FROM deployments WHERE model = $1', [model]),
    db.query<{ version: string; weight: number }>('SELECT version, weight FROM traffic_weights WHERE model = $1', [model]),
  ]);
  return { deployments: new Map(d.rows.map((r) => [r.version, r])), weights: new Map(w.rows.map((r) => [r.version, r.weight])) };
}

interface Lineage {
  family: string;
  hyperparameters: Record<string, unknown>;
  name: string | null;
  n_rows: number | null;
  n_features: number | null;
}

/** The training run behind each version (pipeline_runs), with its dataset's name and shape. */
async function readLineage(db: Db, model: string): Promise<Map<string, Lineage>> {
  const { rows } = await db.query<Lineage & { model_version: string }>(
    `SELECT r.model_version, r.family, r.hyperparameters, d.name, d.n_rows, d.n_features
       FROM pipeline_runs r LEFT JOIN datasets d ON d.digest = r.dataset_digest
      WHERE r.model = $1 AND r.model_version IS NOT NULL
      ORDER BY r.started_at DESC LIMIT 1000`,
    [model],
  );
  const out = new Map<string, Lineage>();
  for (const r of rows) if (!out.has(r.model_version)) out.set(r.model_version, r);
  return out;
}

async function readDrift(db: Db, model: string, since: Date): Promise<ModelReport['driftEvents']> {
  const { rows } = await db.query(
    `SELECT event, detected_at, detector, direction, sample, error_before, error_after, retraining_workflow_id, note
       FROM drift_events WHERE model = $1 AND detected_at >= $2 ORDER BY detected_at LIMIT 500`,
    [model, since],
  );
  return rows.map((r) => ({
    event: r.event,
    detectedAt: new Date(r.detected_at).toISOString(),
    detector: r.detector,
    direction: r.direction,
    sample: Number(r.sample),
    errorBefore: r.error_before,
    errorAfter: r.error_after,
    retrainingWorkflowId: r.retraining_workflow_id ?? undefined,
    note: r.note ?? undefined,
  }));
}

async function readRetraining(db: Db, model: string, since: Date): Promise<ModelReport['retraining']> {
  const { rows } = await db.query(
    `SELECT * FROM retraining_runs WHERE model = $1 AND started_at >= $2 ORDER BY started_at DESC LIMIT 200`,
    [model, since],
  );
  return rows.map((r) => ({
    workflowId: r.workflow_id,
    trigger: r.trigger,
    triggerDetail: r.trigger_detail ?? undefined,
    status: r.status,
    challengerVersion: r.challenger_version ?? undefined,
    championVersion: r.champion_version ?? undefined,
    metric: r.metric,
    margin: r.margin,
    challengerMetrics: r.challenger_metrics ?? undefined,
    championMetrics: r.champion_metrics ?? undefined,
    decision: r.decision ?? undefined,
    reason: r.reason ?? undefined,
    canaryWorkflowId: r.canary_workflow_id ?? undefined,
    canaryOutcome: r.canary_outcome ?? undefined,
    startedAt: new Date(r.started_at).toISOString(),
    finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : undefined,
  }));
}

/**
 * Served accuracy per version and time bucket: successful predictions of the window (the
 * model/version/created_at index) whose first true label arrived as feedback (the prediction_id index).
 */
async function readAccuracy(db: Db, model: string, since: Date, bucket: number): Promise<AccuracyPoint[]> {
  const { rows } = await db.query<{ version: string; at: Date; labelled: number; correct: number }>(
    `SELECT p.version, to_timestamp(floor(extract(epoch FROM p.created_at) / $3) * $3) AS at,
            count(*)::int AS labelled, count(*) FILTER (WHERE l.label = p.predicted_label)::int AS correct
       FROM predictions p
       JOIN LATERAL (SELECT f.label FROM feedback f WHERE f.prediction_id = p.id AND f.kind = 'label' ORDER BY f.id LIMIT 1) l ON true
      WHERE p.model = $1 AND p.created_at >= $2 AND p.outcome = 'ok'
      GROUP BY 1, 2 ORDER BY 2, 1`,
    [model, since, bucket],
  );
  return rows.map((r) => ({ version: r.version, at: new Date(r.at).toISOString(), labelled: r.labelled, correct: r.correct }));
}

// --- MLflow ---------------------------------------------------------------------------------

function versionOf(v: MlflowModelVersion, serving: Serving, lineage: Map<string, Lineage>): ReportVersion {
  const tags = tagsToRecord(v.tags);
  const metrics = Object.fromEntries(Object.entries(tags).filter(([k]) => k.startsWith('metric.')).map(([k, val]) => [k.slice(7), Number(val)]));
  const run = lineage.get(v.version);
  const dep = serving.deployments.get(v.version);
  const weight = serving.weights.get(v.version);
  return {
    version: v.version,
    created: v.creation_timestamp ? new Date(v.creation_timestamp).toISOString() : undefined,
    status: v.status,
    aliases: v.aliases ?? [],
    metrics,
    dataset: {
      digest: tags['flywheel.dataset_digest'],
      source: tags['flywheel.dataset_source'],
      name: run?.name ?? undefined,
      rows: run?.n_rows ?? undefined,
      features: run?.n_features ?? undefined,
    },
    family: run?.family ?? tags['flywheel.family'],
    hyperparameters: run?.hyperparameters,
    workflowId: tags['flywheel.workflow_id'],
    gitCommit: tags['flywheel.git_commit'],
    rollout: tags['flywheel.rollout'] ? { outcome: tags['flywheel.rollout'], reason: tags['flywheel.rollout_reason'], workflowId: tags['flywheel.rollout_workflow'] } : undefined,
    retraining: tags['flywheel.retraining_decision']
      ? { decision: tags['flywheel.retraining_decision'], reason: tags['flywheel.retraining_reason'], workflowId: tags['flywheel.retraining_workflow'] }
      : undefined,
    deployment: dep ? { state: dep.state, reason: dep.reason ?? undefined, since: dep.updated_at.toISOString() } : undefined,
    trafficPercent: weight !== undefined ? weight / 100 : undefined,
  };
}

/**
 * Who was champion when: every promoted canary of the window (with its time), versions the registry
 * marks as promoted by a rollout outside the window, and the alias now when nothing above explains it.
 */
export function championHistory(versions: MlflowModelVersion[], canaries: ReportCanary[], champion: string | undefined): ChampionEvent[] {
  const events: ChampionEvent[] = [];
  const seen = new Set<string>();
  for (const c of [...canaries].reverse()) {
    if (c.outcome !== 'promoted' || !c.candidateVersion) continue;
    events.push({ at: c.closed, version: c.candidateVersion, how: `promoted by canary ${c.workflowId}${c.stableVersion ? ` over v${c.stableVersion}` : ''}${c.reason ? `: ${c.reason}` : ''}` });
    seen.add(`${c.workflowId}:${c.candidateVersion}`);
  }
  for (const v of [...versions].reverse()) {
    const tags = tagsToRecord(v.tags);
    if (tags['flywheel.rollout'] !== 'promoted') continue;
    const wf = tags['flywheel.rollout_workflow'] ?? '';
    if (seen.has(`${wf}:${v.version}`)) continue;
    events.push({ version: v.version, how: `promoted by canary ${wf || '(unknown)'} before this window${tags['flywheel.rollout_reason'] ? `: ${tags['flywheel.rollout_reason']}` : ''}` });
  }
  events.sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
  if (champion !== undefined && events[events.length - 1]?.version !== champion) {
    events.push({ version: champion, how: 'holds the champion alias now (set outside a canary rollout)' });
  }
  return events;
}

// --- Temporal -------------------------------------------------------------------------------

async function readWorkflows(client: Client, model: string, since: Date): Promise<{ canaries: ReportCanary[]; abTests: ReportABTest[]; notes: string[] }> {
  const canaries: ReportCanary[] = [];
  const abTests: ReportABTest[] = [];
  const notes: string[] = [];
  const executions: Array<Omit<WorkflowExecutionInfo, 'raw'>> = [];
  const query = `${MODEL_NAME.name} = ${JSON.stringify(model)} AND (WorkflowType = 'CanaryRollout' OR WorkflowType = 'ABTest') AND StartTime >= ${JSON.stringify(since.toISOString())}`;
  const counts = { CanaryRollout: 0, ABTest: 0 };
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    // A rollout that continued as new tells its whole story in its latest run.
    if (wf.status.name === 'CONTINUED_AS_NEW') continue;
    const kind = wf.type as keyof typeof counts;
    if (counts[kind] >= MAX_WORKFLOWS) continue;
    counts[kind]++;
    executions.push(wf);
  }
  for (const [kind, n] of Object.entries(counts)) if (n >= MAX_WORKFLOWS) notes.push(`only the newest ${MAX_WORKFLOWS} ${kind} workflows of the window are shown`);
  // Queries run side by side: one that no worker answers costs its deadline once, not once per workflow.
  const read = executions.map(async (wf) => {
    const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
    const base = { workflowId: wf.workflowId, runId: wf.runId, execution: wf.status.name, started: wf.startTime.toISOString(), closed: wf.closeTime?.toISOString() };
    const status = await queryStatus(client, handle);
    const result = wf.status.name === 'COMPLETED' ? await handle.result().catch(() => undefined) : undefined;
    const failure = isClosedBadly(wf.status.name) ? await failureReason(handle, wf.status.name) : undefined;
    const unanswered = status === undefined ? 'no worker answered its status query, so its looks are not shown (is the workflow worker running? flywheel up)' : undefined;
    return { wf, base, status, result, unanswered, failure };
  });
  for (const { wf, base, status, result, unanswered, failure } of await Promise.all(read)) {
    if (wf.type === 'CanaryRollout') canaries.push(canaryOf({ ...base, failure }, status as RolloutStatus | undefined, result as RolloutResult | undefined, unanswered));
    else abTests.push(abOf({ ...base, failure }, status as ABTestStatus | undefined, result as ABTestResult | undefined, unanswered));
  }
  return { canaries, abTests, notes };
}

/**
 * A closed workflow's status query is answered by a worker replaying its history: a worker that has
 * not yet loaded the workflow bundle (or a long history) needs longer than a live status command
 * waits. The queries run side by side, so this deadline is paid once at most.
 */
const REPORT_QUERY_DEADLINE_MS = 20_000;

async function queryStatus(client: Client, handle: WorkflowHandle): Promise<unknown> {
  try {
    return await client.withDeadline(Date.now() + REPORT_QUERY_DEADLINE_MS, () => handle.query<unknown>('status'));
  } catch {
    return undefined;
  }
}

type Base = Pick<ReportCanary, 'workflowId' | 'runId' | 'execution' | 'started' | 'closed'> & { failure?: string };

export function canaryOf(base: Base, s: RolloutStatus | undefined, r: RolloutResult | undefined, note: string | undefined): ReportCanary {
  const lastDecision = s?.decisions[s.decisions.length - 1];
  const { failure, ...facts } = base;
  return {
    ...facts,
    candidateVersion: s?.candidateVersion ?? r?.candidateVersion,
    stableVersion: s?.stableVersion ?? r?.stableVersion,
    state: s?.state,
    outcome: r?.outcome ?? (s && ['promoted', 'rolled-back', 'cancelled', 'failed'].includes(s.state) ? s.state : undefined),
    reason: r?.reason ?? s?.error ?? failure ?? (s && s.state !== 'progressing' ? lastDecision?.reason : undefined),
    judge: s?.judge,
    looks: (s?.analyses ?? []).map((a) => ({
      at: a.at,
      step: a.step,
      weight: a.weight,
      verdict: a.verdict,
      reason: a.reason,
      candidateRequests: a.candidateRequests,
      stableRequests: a.stableRequests,
      checks: a.checks.map((c): CanaryCheckPoint => {
        // The sequential judge's checks carry their evidence; the fixed-horizon judge's a p-value.
        const e = (c as { evidence?: { harmE: number | null; harmThreshold: number; safetyE: number | null; safetyThreshold: number } }).evidence;
        // A segment guardrail's check is charted apart from the whole's metric of the same name.
        return { metric: c.segment ? `${c.segment} ${c.metric}` : c.metric, verdict: c.verdict, pValue: c.pValue, reason: c.reason, ...(e ? { harmE: e.harmE, harmThreshold: e.harmThreshold, safetyE: e.safetyE, safetyThreshold: e.safetyThreshold } : {}) };
      }),
    })),
    decisions: s?.decisions ?? [],
    note: note && !s ? note : undefined,
  };
}

function abOf(base: Base, s: ABTestStatus | undefined, r: ABTestResult | undefined, note: string | undefined): ReportABTest {
  const latest = s?.latest ?? r?.latest;
  const decision = s?.decision ?? r?.decision;
  return {
    workflowId: base.workflowId,
    execution: base.execution,
    started: base.started,
    closed: base.closed,
    state: s?.state,
    versions: s?.versions ?? latest?.arms.map((a) => a.version) ?? [],
    split: s?.split,
    looks: s?.looks ?? r?.looks,
    decision: decision ? { kind: decision.kind, reason: decision.reason, version: 'version' in decision ? decision.version : undefined } : base.failure ? { kind: base.execution.toLowerCase(), reason: base.failure } : undefined,
    arms: latest?.arms ?? [],
    comparisons: (latest?.comparisons ?? []).map((c) => ({ version: c.version, control: c.control, difference: c.difference, lift: c.lift, ci: c.ci, adjustedPValue: c.adjustedPValue, significant: c.significant })),
    note: note && !s && !r ? note : undefined,
  };
}

/** For `models show`: where the report is, and whether it was written. */
export async function reportPointer(config: FlywheelConfig, model: string): Promise<{ command: string; path: string; writtenAt?: string }> {
  const file = defaultReportPath(config, model);
  const written = await stat(file).catch(() => undefined);
  return { command: `flywheel report ${model}`, path: file, writtenAt: written?.mtime.toISOString() };
}

export function registerReportCommand(program: Command): void {
  json(
    program
      .command('report <model>')
      .description("a model's story on one page: versions and what each learned from, champion history, canaries with their evidence, A/B intervals, drift, retraining, accuracy over time (self-contained HTML)")
      .option('-o, --out <file>', 'where to write the page (default: .flywheel/reports/<model>.html under the data directory)')
      .option('--since <duration>', 'window of serving accuracy, drift, retraining and workflows: 30d, 12h, 90m', '30d'),
  ).action(withConfig((config, model: string, opts: ReportOptions) => reportCommand(config, model, opts)));
}
